"""What the app holds while it runs: the index connection, the background indexer and the
node client. One object on ``app.state.api``, built by the lifespan (``api/lifespan.py``)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import duckdb
from starknet_py.net.full_node_client import FullNodeClient

from api.errors import UnavailableError
from api.schemas import Stats, TaskDetail
from api.settings import ApiSettings
from indexer import Indexer
from indexer.records import Cursor

FINISHED = frozenset({"completed", "cancelled", "expired"})
"""Task statuses no later event changes (docs/protocol.md, "Task state machine")."""


class FinishedTasks:
    """Pages of finished tasks, kept while the index's chain stays the same.

    A finished task's page changes only if a reorg removes one of its events, so a page read
    once is good until the indexer rolls back: each entry is kept under the generation it was
    read at (the indexer's count of rollbacks, 0 for a read-only file, which never changes),
    and a new generation empties the cache. Least recently used pages go first past
    ``capacity``. Requests run in worker threads, hence the lock."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._generation = 0
        self._pages: OrderedDict[int, TaskDetail] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, task_id: int, generation: int) -> TaskDetail | None:
        with self._lock:
            if generation != self._generation:
                self._pages.clear()
                self._generation = generation
                return None
            page = self._pages.get(task_id)
            if page is not None:
                self._pages.move_to_end(task_id)
            return page

    def put(self, page: TaskDetail, generation: int) -> None:
        """Keep ``page`` if its task is finished and the generation it was read at (taken
        before the read) is still the current one."""
        if page.task.status not in FINISHED:
            return
        with self._lock:
            if generation != self._generation:
                return
            self._pages[page.task.id] = page
            self._pages.move_to_end(page.task.id)
            while len(self._pages) > self.capacity:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


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
    stats_cache: tuple[Cursor | str, Stats] | None = None
    """``/stats`` with the index version it was computed at (``index_version``): it only
    changes when a batch is indexed, and computing it sums every event table (~150 ms at a
    million tasks)."""
    finished_tasks: FinishedTasks = field(default_factory=FinishedTasks)
    """``/tasks/{id}`` of finished tasks (scripts/bench_api.py measures with and without it:
    cold, no id asked twice, and warm)."""

    def index_version(self) -> Cursor | str | None:
        """What identifies the index's content, from memory (no statement): the indexer's
        cursor, which it moves after each batch and rollback commits (so a snapshot taken
        after reading it is at least that new), or ``"read-only"`` for a file nothing can
        write while this process holds it. ``None``: nothing indexed yet."""
        if self.indexer is None:
            return "read-only" if self.connection is not None else None
        return self.indexer.status().cursor

    def generation(self) -> int:
        """Changes whenever the indexer rolls back (what can change a finished task)."""
        return 0 if self.indexer is None else self.indexer.status().reorgs

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
