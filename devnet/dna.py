"""An Apibara DNA v1alpha2 Starknet stream over the devnet's chain (``smainer devnet --dna-port``).

No DNA server can be installed here, and hosted Apibara now speaks DNA v2, which the Python SDK
(``apibara`` 0.8.0, v1alpha2 only) cannot read. So the devnet serves the v1alpha2 ``Stream``
service itself, built on the SDK's own generated classes (``StreamServicer``, the Starknet
``Filter`` and ``Block`` messages): what the SDK's client sends and expects is what is served.

Semantics (DNA v1alpha2, as the SDK's indexer runner relies on them):

* A cursor is ``order_key`` (block number) plus ``unique_key`` (the block hash, 32 bytes big
  endian). ``starting_cursor`` names the last block the client already has: streaming starts
  at the block after it, or at block 0 without one.
* A ``data`` message carries up to ``batch_size`` blocks: ``cursor`` is where the batch
  started (absent from genesis), ``end_cursor`` its last block (resume from there).
* Each block holds its header if the filter asks (``weak``: only when an event matched) and the
  events that match any ``EventFilter``: ``from_address`` equal when set, ``keys`` and ``data``
  as prefixes, each element exactly equal. Every event comes with its transaction's hash and
  index (``transaction.meta``), and ``event.index`` is its index in the transaction, as
  ``starknet_getEvents`` numbers it, so a consumer can rebuild the JSON-RPC event rows. With
  ``include_receipt`` the receipt carries the transaction hash and index only.
* Once the stream has sent the head block, one ``heartbeat`` goes out at once (the signal that
  the client has caught up), then one every ``heartbeat`` seconds while no block comes.
* Aborted blocks (``devnet_abortBlocks``, the devnet's ``Reorg`` listener event) make each
  stream past them send ``invalidate{cursor}`` with the fork point (the last block still on the
  chain), then the new blocks. A ``starting_cursor`` whose hash is not the chain's gets the same
  ``invalidate`` first, never an error: the fork point is found from the hashes of every block
  this server has seen mined; an unknown hash is taken back to the genesis block, which cannot
  be aborted.
* ``finality``: the devnet has no L1 and its ``l1_accepted`` tag names the latest block, so
  ``DATA_STATUS_FINALIZED`` streams the same blocks marked finalized; ``PENDING`` is served as
  ``ACCEPTED`` (no pre-confirmed data is streamed).

The chain is read through the JSON-RPC dispatcher on the devnet's worker thread (as the
WebSocket subscriptions do), so streams see exactly what ``starknet_getBlockWithTxHashes`` and
``starknet_getEvents`` answer; the gRPC server runs on the RPC server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp

from devnet.dispatch import Dispatcher
from devnet.errors import BlockNotFoundError
from devnet.models import TransactionReceived
from devnet.server import Worker
from smainer.apibara import (
    StreamServicer,
    add_StreamServicer_to_server,
    felt,
    filter_pb2,
    starknet_pb2,
    stream_pb2,
)

log = logging.getLogger("devnet.dna")

HEARTBEAT_SECONDS = 3.0
"""Seconds between heartbeats while a caught-up stream has nothing to send."""
MAX_BATCH_SIZE = 100
"""Largest ``batch_size`` honoured; larger requests get batches of this many blocks."""
EVENTS_PAGE = 1000
"""``starknet_getEvents`` page size while reading a batch (the devnet's own limit)."""
MAX_REMEMBERED_BLOCKS = 1_000_000
"""Mined-block hashes kept for finding fork points of stale cursors (about 100 MB at most)."""

Finality = int


@dataclass(frozen=True)
class _Point:
    """A block a stream has reached: its number and, when known, its hash."""

    number: int
    hash: int | None

    def cursor(self) -> stream_pb2.Cursor:
        unique = b"" if self.hash is None else self.hash.to_bytes(32, "big")
        return stream_pb2.Cursor(order_key=self.number, unique_key=unique)


class _ChainReader:
    """The few JSON-RPC reads a stream needs, run on the devnet's worker thread."""

    def __init__(self, dispatcher: Dispatcher, worker: Worker) -> None:
        self._dispatcher = dispatcher
        self._worker = worker

    async def _call(self, method: str, params: Any = None) -> Any:
        return await self._worker.run(self._dispatcher.call(method, params))

    async def latest(self) -> int:
        return int(await self._call("starknet_blockNumber"))

    async def block(self, number: int) -> dict[str, Any] | None:
        try:
            block: dict[str, Any] = await self._call(
                "starknet_getBlockWithTxHashes", {"block_id": {"block_number": number}}
            )
        except BlockNotFoundError:
            return None
        return block if "block_hash" in block else None

    async def hash_at(self, number: int) -> int | None:
        block = await self.block(number)
        return None if block is None else int(block["block_hash"], 16)

    async def events(self, first: int, last: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            request: dict[str, Any] = {
                "from_block": {"block_number": first},
                "to_block": {"block_number": last},
                "chunk_size": EVENTS_PAGE,
            }
            if token:
                request["continuation_token"] = token
            page = await self._call("starknet_getEvents", {"filter": request})
            found.extend(page["events"])
            token = page.get("continuation_token")
            if not token:
                return found


def _event_matches(event_filter: filter_pb2.EventFilter, event: dict[str, Any]) -> bool:
    """Apibara v1alpha2 event filter: address equal if set; keys and data as exact prefixes."""
    if event_filter.HasField("from_address") and felt.to_int(event_filter.from_address) != int(
        event["from_address"], 16
    ):
        return False
    for wanted, actual in ((event_filter.keys, event["keys"]), (event_filter.data, event["data"])):
        if len(wanted) > len(actual):
            return False
        if any(felt.to_int(w) != int(a, 16) for w, a in zip(wanted, actual, strict=False)):
            return False
    return True


def _encode_block(
    block: dict[str, Any],
    events: list[dict[str, Any]],
    stream_filter: filter_pb2.Filter,
    finality: Finality,
) -> bytes | None:
    """One block as the filter shapes it, or ``None`` when nothing of it is wanted."""
    matched: list[starknet_pb2.EventWithTransaction] = []
    for event in events:
        filters = [f for f in stream_filter.events if _event_matches(f, event)]
        if not filters:
            continue
        tx_hash = felt.from_int(int(event["transaction_hash"], 16))
        tx_index = int(event["transaction_index"])
        item = starknet_pb2.EventWithTransaction(
            transaction=starknet_pb2.Transaction(
                meta=starknet_pb2.TransactionMeta(hash=tx_hash, transaction_index=tx_index)
            ),
            event=starknet_pb2.Event(
                from_address=felt.from_int(int(event["from_address"], 16)),
                keys=[felt.from_int(int(k, 16)) for k in event["keys"]],
                data=[felt.from_int(int(d, 16)) for d in event["data"]],
                index=int(event["event_index"]),
            ),
        )
        if any(f.include_receipt for f in filters):
            item.receipt.CopyFrom(
                starknet_pb2.TransactionReceipt(
                    transaction_hash=tx_hash, transaction_index=tx_index
                )
            )
        matched.append(item)
    has_header = stream_filter.HasField("header")
    if not matched and (not has_header or stream_filter.header.weak):
        return None
    status = (
        starknet_pb2.BLOCK_STATUS_ACCEPTED_ON_L1
        if block.get("status") == "ACCEPTED_ON_L1" or finality == stream_pb2.DATA_STATUS_FINALIZED
        else starknet_pb2.BLOCK_STATUS_ACCEPTED_ON_L2
    )
    out = starknet_pb2.Block(status=status, events=matched)
    if has_header:
        out.header.CopyFrom(
            starknet_pb2.BlockHeader(
                block_hash=felt.from_int(int(block["block_hash"], 16)),
                parent_block_hash=felt.from_int(int(block["parent_hash"], 16)),
                block_number=int(block["block_number"]),
                sequencer_address=felt.from_int(int(block["sequencer_address"], 16)),
                new_root=felt.from_int(int(block["new_root"], 16)),
                timestamp=Timestamp(seconds=int(block["timestamp"])),
                starknet_version=str(block.get("starknet_version", "")),
            )
        )
    return out.SerializeToString()


class DnaStream(StreamServicer):
    """The v1alpha2 ``Stream`` service over one devnet (see the module docstring)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        worker: Worker,
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._chain = _ChainReader(dispatcher, worker)
        self._heartbeat = heartbeat
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakers: set[asyncio.Event] = set()
        self._mined: dict[int, tuple[int, int]] = {}
        """Block hash -> (number, parent hash) of every block mined while serving."""

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop the gRPC server runs on (listener events are handed to it)."""
        self._loop = loop

    # The devnet's listener hook: called on the worker thread with the chain's lock held.

    def on_chain_event(self, event: Any) -> None:
        """``NewBlock``: remember its hash and parent; it and a ``Reorg`` wake every stream. A
        ``TransactionReceived`` wakes none: the stream serves no pre-confirmed data."""
        if isinstance(event, TransactionReceived):
            return
        block = getattr(event, "block", None)
        if block is not None and block.block_hash is not None:
            if len(self._mined) >= MAX_REMEMBERED_BLOCKS:
                self._mined.pop(next(iter(self._mined)))
            self._mined[block.block_hash] = (block.number, block.parent_hash)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for waker in self._wakers:
            waker.set()

    # The two RPCs of apibara.node.v1alpha2.Stream.

    async def StreamData(
        self,
        request_iterator: AsyncIterator[stream_pb2.StreamDataRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[stream_pb2.StreamDataResponse]:
        """Bidirectional: each new request replaces the stream (its ``stream_id`` tags the
        answers, so a client drops whatever of the old stream is still in flight)."""
        out: asyncio.Queue[stream_pb2.StreamDataResponse | BaseException] = asyncio.Queue(64)
        producer: asyncio.Task[None] | None = None

        async def produce(request: stream_pb2.StreamDataRequest) -> None:
            try:
                async for response in self._responses(request):
                    await out.put(response)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await out.put(exc)

        async def read_requests() -> None:
            nonlocal producer
            async for request in request_iterator:
                if producer is not None:
                    producer.cancel()
                producer = asyncio.create_task(produce(request))

        reader = asyncio.create_task(read_requests())
        try:
            while True:
                item = await out.get()
                if isinstance(item, BaseException):
                    await self._abort(item, context)
                    return
                yield item
        finally:
            for task in (reader, producer):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def StreamDataImmutable(
        self,
        request: stream_pb2.StreamDataRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[stream_pb2.StreamDataResponse]:
        """One request, one stream."""
        try:
            async for response in self._responses(request):
                yield response
        except Exception as exc:
            await self._abort(exc, context)

    async def _abort(self, exc: BaseException, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        if isinstance(exc, _BadRequest):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        log.warning("DNA stream failed", exc_info=exc)
        await context.abort(grpc.StatusCode.INTERNAL, "the devnet failed to read its chain")

    # One stream.

    async def _responses(
        self, request: stream_pb2.StreamDataRequest
    ) -> AsyncIterator[stream_pb2.StreamDataResponse]:
        stream_filter = filter_pb2.Filter()
        try:
            stream_filter.ParseFromString(request.filter)
        except DecodeError as exc:
            raise _BadRequest(f"the filter is not a Starknet v1alpha2 Filter: {exc}") from None
        batch_size = min(max(1, request.batch_size or 1), MAX_BATCH_SIZE)
        finality = (
            stream_pb2.DATA_STATUS_FINALIZED
            if request.finality == stream_pb2.DATA_STATUS_FINALIZED
            else stream_pb2.DATA_STATUS_ACCEPTED
        )
        stream_id = request.stream_id
        at: _Point | None = None
        if request.HasField("starting_cursor"):
            start = request.starting_cursor
            key = int.from_bytes(start.unique_key, "big") if start.unique_key else None
            at = _Point(start.order_key, key)
        waker = asyncio.Event()
        self._wakers.add(waker)
        told_caught_up = False
        try:
            while True:
                waker.clear()
                latest = await self._chain.latest()
                if at is not None and at.hash is not None:
                    canonical = await self._chain.hash_at(at.number)
                    if canonical != at.hash:
                        at = await self._fork_point(at)
                        yield stream_pb2.StreamDataResponse(
                            stream_id=stream_id,
                            invalidate=stream_pb2.Invalidate(cursor=at.cursor()),
                        )
                        continue
                first = 0 if at is None else at.number + 1
                if first <= latest:
                    batch = await self._batch(
                        at, first, min(latest, first + batch_size - 1), stream_filter, finality
                    )
                    if batch is None:  # the chain changed while it was read: look again
                        continue
                    end, blocks = batch
                    if blocks:
                        data = stream_pb2.Data(
                            end_cursor=end.cursor(), finality=finality, data=blocks
                        )
                        if at is not None:
                            data.cursor.CopyFrom(at.cursor())
                        yield stream_pb2.StreamDataResponse(stream_id=stream_id, data=data)
                    at = end
                    continue
                if not told_caught_up:
                    told_caught_up = True
                    yield _heartbeat(stream_id)
                try:
                    await asyncio.wait_for(waker.wait(), timeout=self._heartbeat)
                except TimeoutError:
                    yield _heartbeat(stream_id)
        finally:
            self._wakers.discard(waker)

    async def _batch(
        self,
        at: _Point | None,
        first: int,
        last: int,
        stream_filter: filter_pb2.Filter,
        finality: Finality,
    ) -> tuple[_Point, list[bytes]] | None:
        """Blocks ``first..last`` encoded, or ``None`` if they do not link up (a reorg began)."""
        headers = []
        parent = None if at is None else at.hash
        for number in range(first, last + 1):
            block = await self._chain.block(number)
            if block is None:
                return None
            if parent is not None and int(block["parent_hash"], 16) != parent:
                return None
            parent = int(block["block_hash"], 16)
            headers.append(block)
        by_block: dict[int, list[dict[str, Any]]] = {}
        for event in await self._chain.events(first, last):
            by_block.setdefault(int(event["block_number"]), []).append(event)
        blocks = []
        for block in headers:
            events = by_block.get(int(block["block_number"]), [])
            if any(e.get("block_hash") != block["block_hash"] for e in events):
                return None
            encoded = _encode_block(block, events, stream_filter, finality)
            if encoded is not None:
                blocks.append(encoded)
        return _Point(last, parent), blocks

    async def _fork_point(self, stale: _Point) -> _Point:
        """The last block of ``stale``'s ancestry still on the chain (genesis if unknown)."""
        known = self._mined.get(stale.hash or 0)
        while known is not None:
            number, parent = known
            if number == 0:
                break
            if await self._chain.hash_at(number - 1) == parent:
                return _Point(number - 1, parent)
            known = self._mined.get(parent)
        return _Point(0, await self._chain.hash_at(0))


class _BadRequest(Exception):
    """A request the stream cannot serve (gRPC ``INVALID_ARGUMENT``)."""


def _heartbeat(stream_id: int) -> stream_pb2.StreamDataResponse:
    return stream_pb2.StreamDataResponse(stream_id=stream_id, heartbeat=stream_pb2.Heartbeat())


class DnaServer:
    """The gRPC server around a :class:`DnaStream`, on the current event loop."""

    def __init__(self, server: grpc.aio.Server, stream: DnaStream, port: int) -> None:
        self.server = server
        self.stream = stream
        self.port = port

    async def stop(self) -> None:
        await self.server.stop(grace=1.0)


async def start_dna_server(
    dispatcher: Dispatcher,
    worker: Worker,
    host: str,
    port: int,
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> DnaServer:
    """Listen on ``host:port`` (``0``: a free port). Register ``server.stream.on_chain_event``
    with the devnet's listener hook. Raises :class:`OSError` when the port cannot be bound."""
    stream = DnaStream(dispatcher, worker, heartbeat=heartbeat)
    stream.bind(asyncio.get_running_loop())
    server = grpc.aio.server()
    add_StreamServicer_to_server(stream, server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as exc:
        raise OSError(f"cannot listen on {host}:{port} for the DNA stream: {exc}") from None
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port} for the DNA stream")
    await server.start()
    log.info("Apibara DNA v1alpha2 stream on %s:%d", host, bound)
    return DnaServer(server, stream, bound)
