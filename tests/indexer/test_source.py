"""The RPC source on a real devnet, and nodes that lag: the index never gets a gap.

A lagging node answers ``getEvents`` with ``[]`` for blocks it has not reached. The
:class:`LaggingNode` below is the real devnet seen through such a node (it withholds the blocks
above ``visible``); the indexer follows it while ``visible`` creeps up, and must end with the
same database as an index of the real node.
"""

from __future__ import annotations

import asyncio

import pytest

from indexer import Indexer, IndexerConfig, RpcSource, SourceError, open_store
from indexer.errors import BlockNotFoundError
from indexer.pipeline import EventPipeline
from indexer.records import BlockHeader, RawEvent
from indexer.retry import Backoff
from tests.indexer.conftest import dump, index, read_cursor
from tests.indexer.market import Market

pytestmark = pytest.mark.slow


class LaggingNode:
    """The devnet as a node that has reached only block ``visible``.

    ``honest``: it reports ``visible`` as its block number. Not honest: a load balancer that
    answers ``blockNumber`` from a node ahead and the rest from this one.
    """

    def __init__(self, real: RpcSource, visible: int, *, honest: bool) -> None:
        self.real, self.visible, self.honest = real, visible, honest
        self.asked_past_head = 0

    async def head(self) -> int:
        real = await self.real.head()
        return min(real, self.visible) if self.honest else real

    async def header(self, number: int) -> BlockHeader:
        if number > self.visible:
            raise BlockNotFoundError(f"block {number} not reached yet")
        return await self.real.header(number)

    async def events(self, first: int, last: int) -> list[RawEvent]:
        if last > self.visible:
            self.asked_past_head += 1
        if first > self.visible:
            return []
        found = await self.real.events(first, min(last, self.visible))
        return [e for e in found if e.block_number <= self.visible]


@pytest.mark.parametrize("honest", [True, False], ids=["behind", "load-balanced"])
async def test_a_lagging_node_never_leaves_a_gap(market: Market, tmp_path, honest):
    head = await market.head()
    whole, lagged = tmp_path / "whole.duckdb", tmp_path / "lagged.duckdb"
    await index(market, whole, until=head)

    addresses = {"Escrow": market.escrow, "Token": market.token}
    rpc = RpcSource.connect(market.rpc_url, list(addresses.values()))
    node = LaggingNode(rpc, market.deploy_block + 2, honest=honest)
    store = open_store(lagged)
    indexer = Indexer(
        node,
        store,
        EventPipeline(addresses),
        IndexerConfig(
            start_block=market.deploy_block,
            range_size=3,
            poll_interval=0.02,
            backoff=Backoff(first=0.01, cap=0.02),
        ),
    )
    running = asyncio.create_task(indexer.run())
    deadline = asyncio.get_running_loop().time() + 60
    try:
        while (cursor := read_cursor(store)) is None or cursor.block_number < head:
            await asyncio.sleep(0.05)
            assert not running.done(), running.result()
            assert asyncio.get_running_loop().time() < deadline, f"stuck at {cursor}"
            cursor = read_cursor(store)
            assert cursor is None or cursor.block_number <= node.visible, "indexed past the node"
            node.visible = min(head, node.visible + 1)
    finally:
        indexer.stop()
        await asyncio.wait_for(running, timeout=30)
        store.close()
        await rpc.close()
    if honest:
        assert node.asked_past_head == 0
    assert dump(lagged) == dump(whole)


async def test_a_page_limit_below_the_chunk_size_is_found_and_kept(market: Market):
    source = RpcSource.connect(market.rpc_url, [market.escrow, market.token], chunk_size=5000)
    try:
        head = await source.head()
        events = await source.events(0, head)
        assert source.chunk_size <= 1000  # the devnet's limit (error 31 above it)
        small = RpcSource.connect(market.rpc_url, [market.escrow, market.token], chunk_size=2)
        try:
            assert await small.events(0, head) == events  # 2 a page, through continuation tokens
        finally:
            await small.close()
        # starknet-py's typed get_events (no raw transport) reads the same events.
        typed = RpcSource(market.client(), [market.escrow, market.token], chunk_size=3)
        assert await typed.events(0, head) == events
        assert [e.position for e in events] == sorted(e.position for e in events)
        header = await source.header(head)
        assert header.number == head
        assert header.finality == "ACCEPTED_ON_L2"
        with pytest.raises(BlockNotFoundError):
            await source.header(head + 1000)
    finally:
        await source.close()


async def test_an_unreachable_node_is_a_retryable_error():
    source = RpcSource.connect("http://127.0.0.1:9/rpc", [1], timeout=5)
    try:
        with pytest.raises(SourceError) as failed:
            await source.head()
        assert failed.value.retryable
    finally:
        await source.close()


async def test_l1_finality_reads_the_l1_accepted_block(market: Market):
    # The devnet has no L1: its l1_accepted tag names the latest block (docs/devnet.md).
    source = RpcSource.connect(market.rpc_url, [market.escrow], finality="l1")
    try:
        assert await source.head() == await market.head()
    finally:
        await source.close()
