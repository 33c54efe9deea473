"""The read API (Litestar) over the DuckDB index: ``create_app`` in ``api/app.py``, run by
``smainer api`` through ``api/service.py``. It indexes the chain in its own lifespan (DuckDB
allows one process on the file) unless serving a finished index read-only. See docs/api.md."""
