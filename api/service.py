"""``smainer api`` as a plain function: check the index can be served, then run uvicorn with
the app (which indexes in its lifespan unless read-only). ``smainer/cli.py`` parses the flags
and reads the manifest; this module never touches argv or the environment."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn

from api.app import create_app
from api.lifespan import ApiStartError, open_read_only
from api.settings import ApiSettings
from indexer import IndexerError, open_store

Log = Callable[[str], None]


def check_index(settings: ApiSettings) -> None:
    """Refuse, before the server starts, an index that could not be served (missing, foreign,
    locked, newer schema), with the indexer's own message; the file is left untouched."""
    if settings.read_only:
        if not settings.db.exists():
            raise ApiStartError(f"no index at {settings.db} to serve read-only")
        open_read_only(str(settings.db)).close()
        return
    if settings.target is None:
        raise ApiStartError("nothing to index: give --network/--manifest, or --read-only")
    try:
        open_store(settings.db).close()
    except IndexerError as exc:
        raise ApiStartError(str(exc)) from None


def run_api(
    settings: ApiSettings, host: str = "127.0.0.1", port: int = 8000, log: Log = print
) -> None:
    """Serve until Ctrl-C; uvicorn's shutdown runs the lifespan's exit, which stops the indexer
    after its current batch and closes the index."""
    check_index(settings)
    mode = "read-only" if settings.read_only else "indexing"
    log(f"serving {settings.db} ({mode}) on http://{host}:{port}/api/v1 (docs at /schema)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
