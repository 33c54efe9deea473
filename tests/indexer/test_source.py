"""The RPC source on a real devnet, and nodes that lag: the index never gets a gap.

A lagging node answers ``getEvents`` with ``[]`` for blocks it has not reached. The
:class:`LaggingNode` below is the real devnet seen through such a node (it withholds the blocks
above ``visible``); the indexer follows it while ``visible`` creeps up, and must end with the
same database as an index of the real node.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from indexer import Indexer, IndexerConfig, RpcSource, SourceError, open_store
from indexer.errors import BlockNotFoundError
from indexer.filters import TRANSFER, marketplace_queries
from indexer.pipeline import EventPipeline
from indexer.records import BlockHeader, RawEvent
from indexer.retry import Backoff
from indexer.service import read_target
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

    async def wait_for_news(self, timeout: float) -> None:
        await self.real.wait_for_news(timeout)


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


async def test_a_shared_token_is_read_only_where_it_meets_the_escrow(market: Market):
    """With the token treated as one the deployment did not make (STRK on a public network),
    the filters return exactly the escrow's events and the token's transfers from or to the
    escrow, in chain order, through both transports and several pages."""
    whole = RpcSource.connect(market.rpc_url, [market.escrow, market.token], ws_url=None)
    queries = marketplace_queries(market.escrow, market.token, whole_token=False)
    shared = RpcSource.connect(
        market.rpc_url, [market.escrow, market.token], ws_url=None, queries=queries, chunk_size=3
    )
    typed = RpcSource(market.client(), [market.escrow, market.token], queries=queries)
    try:
        head = await whole.head()
        everything = await whole.events(0, head)
        expected = [
            e
            for e in everything
            if e.from_address == market.escrow
            or (e.keys[0] == TRANSFER and market.escrow in e.keys[1:3])
        ]
        # The history has token events that do not touch the escrow (mints, approvals).
        assert len(expected) < len(everything)
        assert any(e.from_address == market.token for e in expected)
        assert await shared.events(0, head) == expected
        assert await typed.events(0, head) == expected
    finally:
        await whole.close()
        await shared.close()


def test_read_target_narrows_a_payment_token_the_deployment_did_not_make(market: Market, tmp_path):
    own = read_target(market.manifest)
    assert own.whole_token
    assert own.addresses == {"Escrow": market.escrow, "Token": market.token}
    data = json.loads(market.manifest.read_text())
    del data["contracts"]["Token"]  # as `smainer deploy` writes it with STRK as the token
    shared_manifest = tmp_path / "shared.json"
    shared_manifest.write_text(json.dumps(data))
    shared = read_target(shared_manifest)
    assert not shared.whole_token
    assert shared.addresses["Token"] == int(data["config"]["payment_token"], 16)
    assert shared.start_block == data["contracts"]["Escrow"]["block"]
