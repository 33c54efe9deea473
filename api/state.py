"""What the app holds while it runs: the index connection, the background indexer and the
node client. One object on ``app.state.api``, built by the lifespan (``api/lifespan.py``)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import duckdb
from starknet_py.net.full_node_client import FullNodeClient

from api.errors import UnavailableError
from api.schemas import Stats
from api.settings import ApiSettings
from indexer import Indexer


@dataclass
class ApiState:
    settings: ApiSettings
    started: float = field(default_factory=time.monotonic)
    connection: duckdb.DuckDBPyConnection | None = None
    """The index connection; requests read through cursors of it (DuckDB's one-process rule)."""
    indexer: Indexer | None = None
    indexing: asyncio.Task[None] | None = None
    client: FullNodeClient | None = None
    chain_id: str | None = None
    failure: str | None = None
    """Why the background indexer stopped, if it did."""
    stats_cache: tuple[tuple[int, bytes], Stats] | None = None
    """``/stats`` with the cursor it was computed at: it only changes when a batch is indexed,
    and computing it sums every event table (~150 ms at a million tasks)."""

    def cursor(self) -> duckdb.DuckDBPyConnection:
        if self.connection is None:
            raise UnavailableError("the index is not open yet")
        return self.connection.cursor()

    @property
    def ready(self) -> bool:
        """Usable: read-only files always; a live index once the backfill reached the head."""
        if self.connection is None or self.failure is not None:
            return False
        return self.indexer is None or self.indexer.is_ready
