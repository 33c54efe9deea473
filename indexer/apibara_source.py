"""The chain as an Apibara DNA v1alpha2 stream: a :class:`~indexer.source.ChainSource` over gRPC.

The runner pulls (head, header(n), events(first..last)); DNA pushes blocks in order. So a
background task consumes the stream through the SDK's own client
(``apibara.protocol.StreamService``) into a buffer of blocks keyed by number, and the runner's
calls are answered from it:

* The filter asks for every block's header (``with_header(weak=False)``: the runner checks
  parent hashes block by block and :func:`indexer.reorg.find_fork` asks for old headers) and
  for the events of each followed address. Headers of every block seen are kept (they are
  small); the events of a block are dropped once the runner has read them and every block below.
* :meth:`ApibaraSource.head` is the newest block received, but only once the stream has caught
  up, which a v1alpha2 server tells by its first ``heartbeat``: before that the runner's
  "synced" flag would be set on a partial chain. (If more than ``max_buffered`` blocks arrive
  before the first heartbeat, the stream is paused and the newest block received is reported,
  so a backfill through a slow consumer cannot fill the memory; readiness may then come early.)
* ``invalidate{cursor}`` drops every block above the cursor: ``header(n)`` for them raises
  :class:`~indexer.errors.BlockNotFoundError`, which the runner's tip and parent-hash checks
  turn into a rollback, as with the JSON-RPC source; :meth:`ApibaraSource.take_reorg` also
  hands the runner the first dropped block, so it rolls back without discovering it.
* A request for blocks below what is buffered (a retried or re-read range after a rollback)
  restarts the stream from just below them.
* Stream failures (gRPC ``UNAVAILABLE``, a server gone quiet past ``stream_timeout``) are
  retried with backoff from the last block received (its hash as the cursor's unique key, so a
  server on another fork answers with ``invalidate`` first); meanwhile ``head()`` raises a
  retryable :class:`~indexer.errors.SourceError`.

The SDK's classes come through :mod:`smainer.apibara` (which works around the wheel's
undeclared ``pymongo`` import).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlparse

import grpc

from indexer.errors import BlockNotFoundError, SourceError
from indexer.records import BlockHeader, RawEvent
from indexer.retry import Backoff
from indexer.source import Finality
from smainer.apibara import (
    EventFilter,
    Filter,
    StreamService,
    felt,
    starknet_pb2,
    stream_pb2,
)

log = logging.getLogger("indexer.apibara")

FINALITY = {
    "accepted": stream_pb2.DATA_STATUS_ACCEPTED,
    "l1": stream_pb2.DATA_STATUS_FINALIZED,
}
"""``--finality`` as the request's ``DataFinality``."""

CLOSE_SECONDS = 5.0
"""How long closing waits for gRPC to end a stream."""

STATUS = {
    starknet_pb2.BLOCK_STATUS_ACCEPTED_ON_L2: "ACCEPTED_ON_L2",
    starknet_pb2.BLOCK_STATUS_ACCEPTED_ON_L1: "ACCEPTED_ON_L1",
}
"""v1alpha2 ``BlockStatus`` as the JSON-RPC status the store records."""


def stream_filter(addresses: Sequence[int]) -> bytes:
    """Every header, and every event emitted by one of ``addresses`` (the SDK's builders)."""
    built = Filter().with_header(weak=False)
    for address in addresses:
        built.add_event(EventFilter().with_from_address(felt.from_int(address)))
    encoded: bytes = built.encode()
    return encoded


DEFAULT_PORT = 7171
"""The port a self-hosted DNA v1alpha2 server listens on by default (``apibara-starknet``)."""


def dna_target(url: str) -> tuple[str, bool]:
    """``host:port`` and whether to use TLS: ``https://`` with, ``http://`` or a bare
    ``host:port`` without. Raises :class:`ValueError` for anything else."""
    parsed = urlparse(url if "://" in url else f"http://{url}")
    try:
        port = parsed.port
    except ValueError:
        port = None
        parsed = parsed._replace(netloc="")
    if not parsed.hostname or parsed.scheme not in ("http", "https"):
        raise ValueError(f"not a DNA URL: {url!r} (http://host:port or https://host)")
    secure = parsed.scheme == "https"
    return f"{parsed.hostname}:{port or (443 if secure else DEFAULT_PORT)}", secure


def open_channel(url: str) -> Any:
    """A ``grpc.aio`` channel to ``url`` (see :func:`dna_target`)."""
    target, secure = dna_target(url)
    if secure:
        return grpc.aio.secure_channel(target, grpc.ssl_channel_credentials())
    return grpc.aio.insecure_channel(target)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    if isinstance(exc, TimeoutError):
        return "the stream sent nothing in time"
    return f"{type(exc).__name__}: {exc}"


def parse_block(raw: bytes) -> tuple[BlockHeader, list[RawEvent]]:
    """One streamed ``Block`` as the header and raw events the JSON-RPC source would give."""
    block = starknet_pb2.Block()
    block.ParseFromString(raw)
    if not block.HasField("header"):
        raise SourceError("the DNA stream sent a block without its header")
    h = block.header
    header = BlockHeader(
        number=int(h.block_number),
        hash=felt.to_int(h.block_hash),
        parent_hash=felt.to_int(h.parent_block_hash),
        timestamp=int(h.timestamp.seconds),
        finality=STATUS.get(block.status, "ACCEPTED_ON_L2"),
    )
    events = [
        RawEvent(
            block_number=header.number,
            transaction_index=int(item.transaction.meta.transaction_index),
            event_index=int(item.event.index),
            block_hash=header.hash,
            transaction_hash=felt.to_int(item.transaction.meta.hash),
            from_address=felt.to_int(item.event.from_address),
            keys=tuple(felt.to_int(k) for k in item.event.keys),
            data=tuple(felt.to_int(d) for d in item.event.data),
        )
        for item in block.events
    ]
    events.sort(key=lambda e: e.position)
    return header, events


class ApibaraSource:
    """A :class:`~indexer.source.ChainSource` over a DNA v1alpha2 stream (module docstring)."""

    def __init__(
        self,
        url: str,
        addresses: Sequence[int],
        *,
        finality: Finality = "accepted",
        start_block: int = 0,
        timeout: float = 30.0,
        stream_timeout: float = 45.0,
        batch_size: int = 10,
        max_buffered: int = 100_000,
        backoff: Backoff | None = None,
        channel: Callable[[str], Any] = open_channel,
    ) -> None:
        dna_target(url)  # a malformed URL is refused here, not in the background task
        self.url = url
        self.addresses = list(addresses)
        self.finality = finality
        self.timeout = timeout
        self.stream_timeout = stream_timeout
        self.batch_size = batch_size
        self.max_buffered = max_buffered
        self.backoff = backoff or Backoff()
        self._channel = channel
        self._filter = stream_filter(self.addresses)
        self._headers: dict[int, BlockHeader] = {}
        self._events: dict[int, list[RawEvent]] = {}
        self._served: set[int] = set()
        self._tip = start_block - 1
        """Newest block received and still on the chain."""
        self._base = start_block
        """Lowest block whose header is buffered (every one from here to the tip is)."""
        self._low = start_block
        """Lowest block whose events are buffered (every one from here to the tip is)."""
        self._resume: tuple[int, int | None] | None = (
            None if start_block <= 0 else (start_block - 1, None)
        )
        """The cursor the next connection starts after (``None``: from genesis)."""
        self._caught_up = False
        self._restreaming = False
        self._error: str | None = None
        self._changed = asyncio.Event()
        self._news = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._reorg: int | None = None

    # -- ChainSource -----------------------------------------------------------------------

    async def head(self) -> int:
        self._start()
        deadline = time.monotonic() + self.timeout
        while not self._caught_up:
            if self._error is not None:
                raise SourceError(f"DNA stream {self.url}: {self._error}")
            if len(self._events) >= self.max_buffered:
                break  # paused before its first heartbeat: see the module docstring
            await self._wait(deadline, "to catch up")
        return self._tip

    async def header(self, number: int) -> BlockHeader:
        self._start()
        if number > self._tip:
            raise BlockNotFoundError(f"block {number} is past the stream's head {self._tip}")
        if number < self._base:
            self._restream(number)
        deadline = time.monotonic() + self.timeout
        while (header := self._headers.get(number)) is None:
            if number > self._tip:
                raise BlockNotFoundError(f"block {number} was invalidated")
            await self._wait(deadline, f"for block {number}")
        return header

    async def events(self, first: int, last: int) -> list[RawEvent]:
        self._start()
        if last > self._tip:
            raise BlockNotFoundError(f"block {last} is past the stream's head {self._tip}")
        if first < self._low:
            self._restream(first)
        deadline = time.monotonic() + self.timeout
        while any(n not in self._events for n in range(first, last + 1)):
            if last > self._tip:
                raise BlockNotFoundError(f"blocks {first}..{last} were invalidated")
            await self._wait(deadline, f"for blocks {first}..{last}")
        found = [e for n in range(first, last + 1) for e in self._events[n]]
        self._served.update(range(first, last + 1))
        while self._low in self._served and self._low <= self._tip:
            self._events.pop(self._low, None)
            self._served.discard(self._low)
            self._low += 1
        self._notify()  # room in the buffer
        return found

    async def wait_for_news(self, timeout: float) -> None:
        """Return once a block or an invalidate arrived since the last call, or after
        ``timeout`` seconds."""
        self._start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._news.wait(), timeout)
        self._news.clear()

    def take_reorg(self) -> int | None:
        """The lowest first block an ``invalidate`` (or a block at a known height with another
        hash) removed since the last call (``indexer.source.HintsReorgs``)."""
        first, self._reorg = self._reorg, None
        return first

    async def close(self) -> None:
        """Stop the stream (waiting at most a few seconds for gRPC to let go of it)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=CLOSE_SECONDS)

    # -- waiting ---------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, deadline: float, what: str) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            reason = f" ({self._error})" if self._error else ""
            raise SourceError(f"DNA stream {self.url}: waited {self.timeout:g} s {what}{reason}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), remaining)

    # -- the stream ------------------------------------------------------------------------

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def _restream(self, first: int) -> None:
        """Stream again from ``first`` (blocks the buffer no longer holds), unless the
        connection under way (itself a restream) will still send it."""
        self._base = min(self._base, first)
        self._low = min(self._low, first)
        coming = 0 if self._resume is None else self._resume[0] + 1
        if self._restreaming and first >= coming:
            return
        below = self._headers.get(first - 1)
        self._resume = None if first <= 0 else (first - 1, below.hash if below else None)
        self._served.difference_update(range(first, self._tip + 1))
        self._restreaming = True
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        """Consume the stream, reconnecting with backoff, until cancelled."""
        attempt = 0
        while True:
            try:
                received = await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                received, self._error = False, _describe(exc)
            self._caught_up = False
            attempt = 1 if received else attempt + 1
            delay = self.backoff.delay(attempt)
            log.info("DNA stream %s: %s; reconnecting in %.1f s", self.url, self._error, delay)
            self._notify()
            await asyncio.sleep(delay)

    async def _consume(self) -> bool:
        """One connection; returns (or raises) when it ends. Whether any message came."""
        channel = self._channel(self.url)
        received = False
        try:
            client, stream = StreamService(channel).stream_data(timeout=self.stream_timeout)
            cursor = None
            if self._resume is not None:
                number, block_hash = self._resume
                key = b"" if block_hash is None else block_hash.to_bytes(32, "big")
                cursor = stream_pb2.Cursor(order_key=number, unique_key=key)
            await client.configure(
                filter=self._filter,
                finality=FINALITY[self.finality],
                cursor=cursor,
                batch_size=self.batch_size,
            )
            async for message in stream:
                received, self._error = True, None
                kind = message.WhichOneof("message")
                if kind == "data":
                    for raw in message.data.data:
                        self._add(*parse_block(raw))
                elif kind == "invalidate":
                    self._invalidate(message.invalidate.cursor)
                elif kind == "heartbeat":
                    self._caught_up = True
                    self._restreaming = False
                self._notify()
                while len(self._events) >= self.max_buffered:  # let the runner catch up
                    await self._changed.wait()
            self._error = "the server ended the stream"
            return received
        finally:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(channel.close(), CLOSE_SECONDS)

    def _add(self, header: BlockHeader, events: list[RawEvent]) -> None:
        number = header.number
        known = self._headers.get(number)
        if known is not None and known.hash != header.hash:
            self._drop_above(number - 1)  # another fork at this height: what was above is gone
        self._headers[number] = header
        self._events[number] = events
        self._served.discard(number)
        self._low = min(self._low, number)
        self._base = min(self._base, number)
        if number > self._tip:
            self._tip = number
            self._news.set()
        self._resume = (number, header.hash)

    def _invalidate(self, cursor: Any) -> None:
        number = int(cursor.order_key)
        self._drop_above(number)
        key = bytes(cursor.unique_key)
        self._resume = (number, int.from_bytes(key, "big") if key else None)
        self._news.set()

    def _drop_above(self, number: int) -> None:
        if number < self._tip:
            first = number + 1
            self._reorg = first if self._reorg is None else min(self._reorg, first)
        for n in [n for n in self._headers if n > number]:
            del self._headers[n]
        for n in [n for n in self._events if n > number]:
            del self._events[n]
        self._served = {n for n in self._served if n <= number}
        if self._tip > number:
            self._tip = number
        self._low = min(self._low, number + 1)
        self._base = min(self._base, number + 1)
