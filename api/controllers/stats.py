"""``/stats``: the network at a glance."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from api import schemas
from api.errors import LIMITED, error_responses
from api.queries import IndexReader
from api.state import ApiState


class StatsController(Controller):
    path = "/stats"
    tags = ["stats"]  # noqa: RUF012

    @get(
        "/",
        summary="Tasks, nodes and money moved",
        sync_to_thread=True,
        responses=error_responses(*LIMITED),
    )
    def stats(
        self, reader: NamedDependency[IndexReader], api_state: NamedDependency[ApiState]
    ) -> schemas.Stats:
        return current_stats(reader, api_state)


def current_stats(reader: IndexReader, api_state: ApiState) -> schemas.Stats:
    """Computed once per indexed batch: a cached answer is served while the index version read
    from memory before it was computed (``ApiState.index_version``: the indexer's cursor,
    moved after each commit) is still the current one, at no statement's cost."""
    version = api_state.index_version()
    cached = api_state.stats_cache
    if version is not None and cached is not None and cached[0] == version:
        return cached[1]
    with reader.snapshot():
        stats = reader.stats()
    if version is not None:
        api_state.stats_cache = (version, stats)
    return stats
