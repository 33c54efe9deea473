"""The indexer: backfill to the head, then follow it, with a readiness flag and clean stops.

:class:`Indexer` is made to live inside another asyncio program (the read API runs it as a
background task, since DuckDB allows only one process on the file, see ``indexer/store.py``):
``await indexer.run()`` until ``indexer.stop()``; ``indexer.ready`` is set once the initial
backfill has reached the head the node reported (and stays set), the readiness a load balancer
or the scheduler waits for.

Each step reads the node's block number first and never asks for a block past it (a lagging
node answers ``getEvents`` for blocks it has not reached with ``[]``). Ranges of
``range_size`` blocks are fetched ``concurrency`` at a time and committed strictly in order,
each with its cursor in one transaction. Before a batch is written its first block's parent
hash must be the cursor's hash; when it is not, or the cursor's block is gone from the node's
chain, the fork point is found (``indexer/reorg.py``), everything above it rolled back in one
transaction, and indexing goes on from there. Node errors are retried with backoff, forever;
only a store failure or a refused database ends :meth:`Indexer.run` with an error.

Once synced, the runner waits in the source's ``wait_for_news`` (a WebSocket wake-up where the
node has one, else ``poll_interval``) and, each such idle round, has the stored blocks' finality
catch up with the node's ``l1_accepted`` block (``indexer/finality.py``). A reorg the source was
told of (``take_reorg``) is rolled back on the next step, before anything else is read.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from indexer.batches import fetch_batch
from indexer.errors import BlockNotFoundError, IndexerError
from indexer.finality import MarksL1Finality
from indexer.pipeline import EventPipeline
from indexer.progress import SyncProgress, duration
from indexer.ranges import split_range
from indexer.records import Batch, Cursor
from indexer.reorg import find_fork
from indexer.retry import Backoff, wait_or_stop
from indexer.sink import Sink
from indexer.source import ChainSource, HintsReorgs, KnowsL1Finality
from smainer.aio import cancel_and_wait

Log = Callable[[str], None]
T = TypeVar("T")

FOLLOW_LINES = 50
"""Batches of at most this many blocks get one status line per block once synced."""


@dataclass(frozen=True)
class IndexerConfig:
    start_block: int = 0
    """First block to index (the deployment's block); a store keeps the one it was built with."""

    until_block: int | None = None
    """Stop once this block is indexed (``None``: follow the head until stopped)."""

    range_size: int = 2000
    """Blocks per ``getEvents`` range while backfilling."""

    concurrency: int = 4
    """Ranges fetched at the same time (commits stay in block order)."""

    reorg_window: int = 64
    """Every block this close to the head has its header stored, for finding fork points."""

    poll_interval: float = 1.0
    """Seconds between looks at the head once synced, at most (a WebSocket notification wakes
    the runner sooner)."""

    backoff: Backoff = field(default_factory=Backoff)


@dataclass(frozen=True)
class IndexerStatus:
    ready: bool
    cursor: Cursor | None
    head: int | None
    events: int
    """Events written by this run (reorged ones included)."""
    undecoded: int
    reorgs: int


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


async def _finish(work: Coroutine[Any, Any, T]) -> T:
    """Await a store operation to its end even if the caller is cancelled meanwhile: the
    thread cannot be stopped half-way, and the store must not be closed under it."""
    running = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        await asyncio.wait([running])
        raise


class _ReorgDetected(Exception):
    def __init__(self, block: int) -> None:
        super().__init__(f"block {block} is no longer on the node's chain")
        self.block = block


class Indexer:
    """Fills a :class:`Sink` from a :class:`ChainSource`; see the module docstring."""

    def __init__(
        self,
        source: ChainSource,
        sink: Sink,
        pipeline: EventPipeline,
        config: IndexerConfig | None = None,
        log: Log | None = None,
    ) -> None:
        self.source = source
        self.sink = sink
        self.pipeline = pipeline
        self.config = config or IndexerConfig()
        self.log: Log = log or (lambda _line: None)
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._start = self.config.start_block
        self._head: int | None = None
        self._events = 0
        self._undecoded = 0
        self._reorgs = 0
        self._reorg_at: int | None = None
        self._began = time.monotonic()
        self._waiting_note: int | None = None
        self._l1_marked: int | None = None
        """The block the stored blocks' finality was last brought up to (the node's
        ``l1_accepted`` block, or the cursor if that is lower)."""
        self._cursor: Cursor | None = None
        """The store's cursor as last written (read by status() without touching the store,
        which may be busy with a write in its thread)."""

    # -- control ---------------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        return self.ready.is_set()

    def status(self) -> IndexerStatus:
        return IndexerStatus(
            ready=self.is_ready,
            cursor=self._cursor,
            head=self._head,
            events=self._events,
            undecoded=self._undecoded,
            reorgs=self._reorgs,
        )

    def stop(self) -> None:
        """Ask :meth:`run` to return after the batch being written (if any) is committed."""
        self._stopping.set()

    async def run(self) -> None:
        """Index until :meth:`stop` (or ``until_block``); node errors are retried forever."""
        self._began = time.monotonic()
        self._start = await asyncio.to_thread(
            self.sink.bind, self.pipeline.addresses, self.config.start_block
        )
        if self._start != self.config.start_block:
            self.log(
                f"this index starts at block {self._start}; start block "
                f"{self.config.start_block} ignored (use a new database to change it)"
            )
        cursor = self._cursor = self.sink.cursor()
        names = ", ".join(f"{n} {hex(a)}" for n, a in self.pipeline.addresses.items())
        where = f"block {cursor.block_number + 1}" if cursor else f"block {self._start}"
        self.log(f"indexing {names} from {where}")
        attempt = 0
        while not self._stopping.is_set():
            try:
                progressed = await self._step()
                attempt = 0
            except _ReorgDetected as reorg:
                self._reorg_at = reorg.block
                continue
            except IndexerError as exc:
                if not (exc.retryable or isinstance(exc, BlockNotFoundError)):
                    raise
                attempt += 1
                delay = self.config.backoff.delay(attempt)
                self.log(f"{exc}; retrying in {delay:.1f} s (attempt {attempt})")
                await wait_or_stop(self._stopping, delay)
                continue
            if self._reached_until():
                break
            if not progressed:
                await self._idle()
        cursor = self._cursor
        self.log(f"stopped at block {cursor.block_number}" if cursor else "stopped")

    # -- steps -----------------------------------------------------------------------------

    def _reached_until(self) -> bool:
        until = self.config.until_block
        done = self._cursor.block_number if self._cursor else self._start - 1
        return until is not None and done >= until

    async def _idle(self) -> None:
        """Wait for news from the source (or ``poll_interval``), or until stopped."""
        wait_for_news = getattr(self.source, "wait_for_news", None)
        if wait_for_news is None:  # a source written before notifications: poll
            await wait_or_stop(self._stopping, self.config.poll_interval)
            return
        news = asyncio.ensure_future(wait_for_news(self.config.poll_interval))
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({news, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait(news, stop)

    async def _take_reorg_hint(self) -> None:
        """A reorg the source was told of, at or below the cursor, is rolled back from its
        first block, once the cursor's block is seen to be gone (a hint about a fork already
        rolled back, or never indexed, changes nothing)."""
        if not isinstance(self.source, HintsReorgs):
            return
        first = self.source.take_reorg()
        cursor = self._cursor
        if first is None or cursor is None or first > cursor.block_number:
            return
        try:
            header = await self.source.header(cursor.block_number)
        except BlockNotFoundError:
            header = None
        if header is None or header.hash != cursor.block_hash:
            self.log(f"the node announced a reorg from block {first}")
            at = first if self._reorg_at is None else min(first, self._reorg_at)
            raise _ReorgDetected(at)

    async def _mark_finality(self) -> None:
        """Bring the stored blocks' finality up to the node's ``l1_accepted`` block."""
        source, sink = self.source, self.sink
        if not (isinstance(source, KnowsL1Finality) and isinstance(sink, MarksL1Finality)):
            return
        accepted = await source.l1_accepted()
        cursor = self._cursor
        if cursor is None:
            return
        upto = min(accepted, cursor.block_number)
        if upto == self._l1_marked:
            return
        await _finish(asyncio.to_thread(sink.mark_l1_accepted, upto))
        self._l1_marked = upto

    async def _step(self) -> bool:
        """One look at the node: roll back a pending reorg, or index up to its head."""
        await self._take_reorg_hint()
        if self._reorg_at is not None:
            await self._roll_back(self._reorg_at)
            self._reorg_at = None
        head = await self.source.head()
        self._head = head
        cursor = self._cursor
        done = cursor.block_number if cursor else self._start - 1
        until = self.config.until_block
        target = head if until is None else min(head, until)
        if done >= target:
            if cursor is not None:
                await self._check_tip(cursor, head)
            self._synced(done)
            await self._mark_finality()
            return False
        await self._sync(done + 1, target, head)
        cursor = self._cursor
        if cursor is not None and cursor.block_number >= target:
            self._synced(cursor.block_number)
        return True

    async def _check_tip(self, cursor: Cursor, head: int) -> None:
        """Is the cursor's block still the node's? (A reorg at the same height, or a node that
        lost blocks, shows here; a node merely behind us is waited for.)"""
        try:
            header = await self.source.header(cursor.block_number)
        except BlockNotFoundError:
            raise _ReorgDetected(cursor.block_number) from None
        if header.hash != cursor.block_hash:
            raise _ReorgDetected(cursor.block_number)
        if head < cursor.block_number and self._waiting_note != head:
            self._waiting_note = head
            self.log(f"node reports block {head}, behind the index at {cursor.block_number}")

    async def _sync(self, first: int, last: int, head: int) -> None:
        """Fetch ``first..last`` in ranges, several in flight, and commit them in order."""
        ranges = deque(split_range(first, last, self.config.range_size))
        progress = None if self.is_ready else SyncProgress(first, last)
        in_flight: deque[asyncio.Task[Batch]] = deque()

        def launch() -> None:
            if ranges:
                start, end = ranges.popleft()
                in_flight.append(
                    asyncio.create_task(
                        fetch_batch(
                            self.source,
                            self.pipeline,
                            start,
                            end,
                            head=head,
                            window=self.config.reorg_window,
                        )
                    )
                )

        for _ in range(self.config.concurrency):
            launch()
        shown = 0.0
        try:
            while in_flight and not self._stopping.is_set():
                batch = await in_flight.popleft()
                launch()
                await self._commit(batch)
                if progress is not None:
                    progress.add(batch.last - batch.first + 1, len(batch.events))
                    now = time.monotonic()
                    if now - shown >= 1.0 or batch.last == last:
                        shown = now
                        self.log(progress.line(batch.last, now))
        finally:
            await cancel_and_wait(*in_flight)

    async def _commit(self, batch: Batch) -> None:
        cursor = self._cursor
        if cursor is not None:
            if batch.first != cursor.block_number + 1:
                raise RuntimeError(f"batch {batch.first} does not follow {cursor.block_number}")
            if batch.first_parent_hash != cursor.block_hash:
                raise _ReorgDetected(cursor.block_number)
        await _finish(asyncio.to_thread(self.sink.write, batch))
        self._cursor = batch.cursor
        self._events += len(batch.events)
        self._undecoded += batch.undecoded
        if batch.undecoded:
            self.log(
                f"blocks {batch.first}..{batch.last}: {batch.undecoded} event(s) the ABIs do not "
                "describe, kept in raw_events only"
            )
        if self.is_ready:
            self._report_blocks(batch)

    def _report_blocks(self, batch: Batch) -> None:
        if batch.last - batch.first + 1 > FOLLOW_LINES:
            self.log(f"blocks {batch.first}..{batch.last}: {len(batch.events)} events")
            return
        counts = Counter(e.block_number for e in batch.events)
        hashes = {h.number: h.hash for h in batch.headers}
        for number in range(batch.first, batch.last + 1):
            known = f" {hex(hashes[number])[:12]}…" if number in hashes else ""
            self.log(f"block {number}{known}: {_count(counts.get(number, 0), 'event')}")

    async def _roll_back(self, block: int) -> None:
        fork = await find_fork(self.source, self.sink, block)
        removed = await _finish(asyncio.to_thread(self.sink.rollback_to, fork))
        self._cursor = fork
        self._l1_marked = None  # blocks indexed again arrive with the status they have now
        self._reorgs += 1
        to = f"block {fork.block_number}" if fork else f"the start (block {self._start})"
        self.log(
            f"reorg: block {block} is no longer on the node's chain; rolled back to {to}, "
            f"{_count(removed, 'event')} removed; indexing again from there"
        )

    def _synced(self, block: int) -> None:
        if self.is_ready:
            return
        self.ready.set()
        self.log(
            f"synced to head at block {block}: {self._events:,} events in "
            f"{duration(time.monotonic() - self._began)}"
        )
