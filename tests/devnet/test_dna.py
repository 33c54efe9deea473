"""``smainer devnet --dna-port``: the Apibara DNA v1alpha2 stream, read with the SDK's own client.

Every test gets a fresh devnet (genesis from the cache, well under a second) with a few
``devnet_mint`` blocks, each holding one STRK ``Transfer`` event (keys: selector, from 0, to);
what the stream sends is compared with what ``starknet_getEvents`` answers for the same chain.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from apibara.protocol import StreamService

from devnet.server import serve_devnet
from smainer.apibara import felt, filter_pb2, starknet_pb2, stream_pb2
from smainer.config import DevnetSettings
from tests.devnet.conftest import RunningServer, start_in_thread
from tests.indexer.market import devnet_call

ACCEPTED = stream_pb2.DATA_STATUS_ACCEPTED


@dataclass
class DnaDevnet:
    server: RunningServer
    dna: str
    """``host:port`` of the DNA stream."""

    async def rpc(self, method: str, params: Any = None) -> Any:
        return await devnet_call(self.server.url, method, params)

    async def mint(self, account: int, amount: int) -> int:
        """A block with one STRK ``Transfer`` (mint) to ``account``; returns its number."""
        await self.rpc("devnet_mint", {"address": hex(account), "amount": amount, "unit": "FRI"})
        return int(await self.rpc("starknet_blockNumber"))

    async def block_hash(self, number: int) -> int:
        block = await self.rpc(
            "starknet_getBlockWithTxHashes", {"block_id": {"block_number": number}}
        )
        return int(block["block_hash"], 16)

    async def events(self, **event_filter: Any) -> list[dict[str, Any]]:
        request = {"from_block": {"block_number": 0}, "to_block": "latest", "chunk_size": 1000}
        page = await self.rpc("starknet_getEvents", {"filter": {**request, **event_filter}})
        return list(page["events"])


@pytest.fixture
def chain() -> Iterator[DnaDevnet]:
    lines: list[str] = []

    async def serve(stop: asyncio.Event, on_ready: Callable[[int], None]) -> None:
        settings = DevnetSettings(port=0, seed=5, accounts=2)
        await serve_devnet(settings, stop=stop, on_ready=on_ready, out=lines.append, dna_port=0)

    server = start_in_thread(serve)
    (announced,) = [line for line in lines if line.startswith("Apibara DNA v1alpha2 stream on ")]
    yield DnaDevnet(server, announced.rsplit(" ", 1)[1])
    server.stop()


async def accounts(chain: DnaDevnet) -> list[int]:
    return [int(a["address"], 16) for a in await chain.rpc("devnet_getPredeployedAccounts")]


class Stream:
    """One bidirectional ``StreamData`` call through the SDK's ``StreamService``."""

    def __init__(self, chain: DnaDevnet) -> None:
        self.channel = grpc.aio.insecure_channel(chain.dna)
        self.client, self.iter = StreamService(self.channel).stream_data(timeout=10)
        self._messages: AsyncIterator[Any] = aiter(self.iter)

    async def configure(self, built: filter_pb2.Filter, **options: Any) -> None:
        await self.client.configure(filter=built.SerializeToString(), finality=ACCEPTED, **options)

    async def until(self, done: Callable[[list[Any]], bool], timeout: float = 20) -> list[Any]:
        got: list[Any] = []

        async def read() -> None:
            while not done(got):
                got.append(await anext(self._messages))

        await asyncio.wait_for(read(), timeout)
        return got

    async def close(self) -> None:
        await self.channel.close()


def kind(message: Any) -> str:
    return str(message.WhichOneof("message"))


def caught_up(messages: list[Any]) -> bool:
    return bool(messages) and kind(messages[-1]) == "heartbeat"


def blocks(messages: list[Any]) -> list[Any]:
    out = []
    for message in messages:
        if kind(message) == "data":
            for raw in message.data.data:
                block = starknet_pb2.Block()
                block.ParseFromString(raw)
                out.append(block)
    return out


def as_rpc(block: Any) -> list[dict[str, Any]]:
    """A streamed block's events in ``starknet_getEvents``' shape."""
    block_hash = hex(felt.to_int(block.header.block_hash))
    return [
        {
            "from_address": hex(felt.to_int(e.event.from_address)),
            "keys": [hex(felt.to_int(k)) for k in e.event.keys],
            "data": [hex(felt.to_int(d)) for d in e.event.data],
            "block_hash": block_hash,
            "block_number": block.header.block_number,
            "transaction_hash": hex(felt.to_int(e.transaction.meta.hash)),
            "transaction_index": e.transaction.meta.transaction_index,
            "event_index": e.event.index,
        }
        for e in block.events
    ]


def event_filter(address: int | None = None, keys: list[int] | None = None) -> Any:
    built = filter_pb2.EventFilter()
    if address is not None:
        built.from_address.CopyFrom(felt.from_int(address))
    for key in keys or []:
        built.keys.append(felt.from_int(key))
    return built


def with_header(*events: Any, weak: bool = False) -> filter_pb2.Filter:
    return filter_pb2.Filter(header=filter_pb2.HeaderFilter(weak=weak), events=list(events))


async def test_filter_by_address_gives_every_header_and_the_rpc_events(chain: DnaDevnet):
    a, b = await accounts(chain)
    await chain.mint(a, 10)
    await chain.mint(b, 20)
    head = await chain.mint(a, 30)
    strk = int((await chain.events())[0]["from_address"], 16)
    stream = Stream(chain)
    try:
        await stream.configure(with_header(event_filter(strk)), batch_size=2)
        messages = await stream.until(caught_up)
    finally:
        await stream.close()
    got = blocks(messages)
    assert [b.header.block_number for b in got] == list(range(head + 1))
    for block in got:
        assert felt.to_int(block.header.block_hash) == await chain.block_hash(
            block.header.block_number
        )
        assert block.status == starknet_pb2.BLOCK_STATUS_ACCEPTED_ON_L2
    streamed = [e for block in got for e in as_rpc(block)]
    assert streamed == await chain.events(address=hex(strk))
    assert len(streamed) >= 3
    # Cursors: each batch starts where the last one ended; end cursors carry the block hash.
    data = [m.data for m in messages if kind(m) == "data"]
    assert not data[0].HasField("cursor"), "from genesis: no cursor before the first batch"
    for before, after in itertools.pairwise(data):
        assert after.cursor == before.end_cursor
    assert data[-1].end_cursor.order_key == head
    assert data[-1].end_cursor.unique_key == (await chain.block_hash(head)).to_bytes(32, "big")
    assert all(len(d.data) <= 2 for d in data)


async def test_filter_by_keys_prefix_and_weak_header(chain: DnaDevnet):
    a, b = await accounts(chain)
    await chain.mint(a, 10)
    await chain.mint(b, 20)
    await chain.mint(a, 30)
    transfer = int((await chain.events())[0]["keys"][0], 16)
    stream = Stream(chain)
    try:
        # Keys prefix [Transfer, from 0, to b]: only the mint to b; weak header: only its block.
        await stream.configure(with_header(event_filter(keys=[transfer, 0, b]), weak=True))
        got = blocks(await stream.until(caught_up))
    finally:
        await stream.close()
    expected = await chain.events(keys=[[hex(transfer)], ["0x0"], [hex(b)]])
    assert len(expected) == 1
    assert [e for block in got for e in as_rpc(block)] == expected
    assert [block.header.block_number for block in got] == [expected[0]["block_number"]]


async def test_resume_from_a_cursor_then_follow_new_blocks(chain: DnaDevnet):
    a, _ = await accounts(chain)
    first = await chain.mint(a, 10)
    second = await chain.mint(a, 20)
    cursor = stream_pb2.Cursor(
        order_key=first, unique_key=(await chain.block_hash(first)).to_bytes(32, "big")
    )
    stream = Stream(chain)
    try:
        await stream.configure(with_header(event_filter()), cursor=cursor)
        resumed = await stream.until(caught_up)
        third = await chain.mint(a, 30)
        followed = await stream.until(lambda got: len(blocks(got)) == 1)
    finally:
        await stream.close()
    assert [b.header.block_number for b in blocks(resumed)] == [second]
    assert next(m for m in resumed if kind(m) == "data").data.cursor == cursor
    (block,) = blocks(followed)
    assert block.header.block_number == third
    assert felt.to_int(block.header.parent_block_hash) == await chain.block_hash(second)


async def test_abort_blocks_sends_invalidate_to_the_fork_point(chain: DnaDevnet):
    a, b = await accounts(chain)
    fork = await chain.mint(a, 10)
    aborted = await chain.mint(a, 20)
    await chain.mint(a, 30)
    fork_hash = await chain.block_hash(fork)
    stale_hash = await chain.block_hash(aborted)
    stream = Stream(chain)
    try:
        await stream.configure(with_header(event_filter()))
        await stream.until(caught_up)
        await chain.rpc("devnet_abortBlocks", {"starting_block_id": {"block_number": aborted}})
        (invalidate,) = await stream.until(lambda got: bool(got))
        replacement = await chain.mint(b, 40)
        (data,) = await stream.until(lambda got: bool(got) and kind(got[-1]) == "data")
    finally:
        await stream.close()
    assert kind(invalidate) == "invalidate"
    assert invalidate.invalidate.cursor.order_key == fork
    assert invalidate.invalidate.cursor.unique_key == fork_hash.to_bytes(32, "big")
    (block,) = blocks([data])
    assert block.header.block_number == replacement == aborted
    assert felt.to_int(block.header.parent_block_hash) == fork_hash
    assert felt.to_int(block.header.block_hash) != stale_hash
    assert as_rpc(block) == await chain.events(
        from_block={"block_number": replacement}, to_block={"block_number": replacement}
    )


async def test_a_stale_starting_cursor_gets_invalidate_first_never_an_error(chain: DnaDevnet):
    a, b = await accounts(chain)
    fork = await chain.mint(a, 10)
    stale = await chain.mint(a, 20)
    stale_hash = await chain.block_hash(stale)
    await chain.mint(a, 30)
    await chain.rpc("devnet_abortBlocks", {"starting_block_id": {"block_number": stale}})
    await chain.mint(b, 40)
    new = await chain.mint(b, 50)
    stream = Stream(chain)
    try:
        cursor = stream_pb2.Cursor(order_key=stale + 1, unique_key=b"\x01" * 32)
        await stream.configure(with_header(event_filter()), cursor=cursor)
        unknown = await stream.until(caught_up)
        await stream.configure(
            with_header(event_filter()),
            cursor=stream_pb2.Cursor(order_key=stale, unique_key=stale_hash.to_bytes(32, "big")),
        )
        known = await stream.until(caught_up)
    finally:
        await stream.close()
    # A hash the devnet saw mined: back to the exact fork point, then the new chain.
    assert kind(known[0]) == "invalidate"
    assert known[0].invalidate.cursor.order_key == fork
    assert [b.header.block_number for b in blocks(known)] == list(range(fork + 1, new + 1))
    # A hash it never saw: back to genesis, which no abort can remove.
    assert kind(unknown[0]) == "invalidate"
    assert unknown[0].invalidate.cursor.order_key == 0
    assert [b.header.block_number for b in blocks(unknown)] == list(range(1, new + 1))


async def test_idle_stream_heartbeats_and_bad_filter_is_invalid_argument(chain: DnaDevnet):
    stream = Stream(chain)
    try:
        await stream.configure(with_header(event_filter()))
        messages = await stream.until(lambda got: sum(kind(m) == "heartbeat" for m in got) == 2)
    finally:
        await stream.close()
    assert [kind(m) for m in messages] == ["data", "heartbeat", "heartbeat"]

    async with grpc.aio.insecure_channel(chain.dna) as channel:
        immutable = StreamService(channel).stream_data_immutable(filter=b"\xff\xff", timeout=10)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await anext(aiter(immutable))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_devnet_command_serves_the_stream_only_when_asked(monkeypatch: pytest.MonkeyPatch):
    import devnet.server
    from smainer.cli import main

    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(devnet.server, "run_devnet", lambda _settings, **kw: seen.append(kw))
    assert main(["devnet", "--port", "0", "--dna-port", "7171"]) == 0
    assert main(["devnet", "--port", "0"]) == 0
    assert seen == [{"dna_port": 7171}, {}]
