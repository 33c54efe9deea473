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
    """Computed once per indexed batch: the cursor (block and hash) is read in the same snapshot
    as the totals, so a cached answer is served only while it is still current."""
    with reader.snapshot():
        key = reader.cursor_key()
        cached = api_state.stats_cache
        if key is not None and cached is not None and cached[0] == key:
            return cached[1]
        stats = reader.stats()
    if key is not None:
        api_state.stats_cache = (key, stats)
    return stats
