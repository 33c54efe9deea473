"""Reorgs while following the head (``devnet_abortBlocks``): the index ends equal to a fresh
index of the new chain.

In the first test the indexer's view of the node is held still while a fork is built, so that
each way a fork can show is taken for certain: the cursor's block changed at the same height,
the next batch's parent is not the cursor's block, or the chain got shorter. In the second the
indexer follows through the devnet's WebSocket with a poll interval far longer than the test,
so it can only have seen the new blocks and the reorgs through the notifications."""

from __future__ import annotations

import asyncio

import pytest

from indexer import Indexer, IndexerConfig, RpcSource, open_store
from indexer.pipeline import EventPipeline
from indexer.records import BlockHeader, RawEvent
from tests.indexer.conftest import abort_from, caught_up, dump, index
from tests.indexer.market import Market, call, create_task

pytestmark = pytest.mark.slow


class HeldNode:
    """The real node, but ``head()`` waits while the test holds it (as between two polls)."""

    def __init__(self, real: RpcSource) -> None:
        self.real = real
        self.open = asyncio.Event()
        self.open.set()

    async def head(self) -> int:
        await self.open.wait()
        return await self.real.head()

    async def header(self, number: int) -> BlockHeader:
        return await self.real.header(number)

    async def events(self, first: int, last: int) -> list[RawEvent]:
        return await self.real.events(first, last)

    async def wait_for_news(self, timeout: float) -> None:
        await self.real.wait_for_news(timeout)


async def test_reorgs_while_following_end_equal_to_a_fresh_index(market: Market, tmp_path):
    e = market.escrow
    addresses = {"Escrow": market.escrow, "Token": market.token}
    rpc = RpcSource.connect(market.rpc_url, list(addresses.values()))
    node = HeldNode(rpc)
    store = open_store(tmp_path / "following.duckdb")
    lines: list[str] = []
    indexer = Indexer(
        node,
        store,
        EventPipeline(addresses),
        IndexerConfig(start_block=market.deploy_block, poll_interval=0.02),
        log=lines.append,
    )

    async def fork(first: int, *sends: tuple[int, list]) -> None:
        """Hold the indexer, replace the blocks from ``first`` by ``sends``, let it go."""
        node.open.clear()
        await asyncio.sleep(0.1)  # a head() in flight when the hold began has returned
        await abort_from(market, first)
        for account, calls in sends:
            await market.send(account, *calls)
        node.open.set()
        await caught_up(market, store)

    running = asyncio.create_task(indexer.run())
    try:
        await asyncio.wait_for(indexer.ready.wait(), 60)
        first = await market.send(1, create_task(e, 1111))
        await market.send(4, call(e, "heartbeat"))
        await caught_up(market, store)
        # 1. Two blocks replaced by two others: the cursor's block has another hash.
        await fork(first, (2, [create_task(e, 2222)]), (1, [create_task(e, 3333)]))
        # 2. The last block (3333) replaced by two: the next batch's parent is not the cursor's
        # block.
        await fork(await market.head(), (1, [create_task(e, 4444)]), (4, [call(e, "heartbeat")]))
        # 3. The last block aborted and nothing else: the chain got shorter.
        await fork(await market.head())
    finally:
        indexer.stop()
        await asyncio.wait_for(running, timeout=30)
        status = indexer.status()
        store.close()
        await rpc.close()
    print("\n".join(lines))
    assert status.reorgs == 3
    assert sum("reorg:" in line for line in lines) == 3
    assert any(line.startswith("block ") for line in lines), "one line per new block"

    fresh = tmp_path / "fresh.duckdb"
    await index(market, fresh)
    following = dump(tmp_path / "following.duckdb")
    assert following == dump(fresh)
    amounts = {int(r[13]) for r in following["ev_task_created"]}
    assert {2222, 4444} <= amounts
    assert not {1111, 3333} & amounts, "the tasks of aborted blocks are gone"


def without_finality(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """The tables with ``blocks.finality`` (its last column) left out."""
    return {**tables, "blocks": [row[:-1] for row in tables["blocks"]]}


async def test_following_by_websocket_sees_new_blocks_and_reorgs_at_once(market: Market, tmp_path):
    e = market.escrow
    addresses = {"Escrow": market.escrow, "Token": market.token}
    lines: list[str] = []
    rpc = RpcSource.connect(market.rpc_url, list(addresses.values()), log=lines.append)
    assert rpc.heads is not None
    assert rpc.heads.url.endswith("/ws")
    store = open_store(tmp_path / "following.duckdb")
    never = 600.0  # no poll within the test: only a notification wakes the indexer
    indexer = Indexer(
        rpc,
        store,
        EventPipeline(addresses),
        IndexerConfig(start_block=market.deploy_block, poll_interval=never),
        log=lines.append,
    )
    running = asyncio.create_task(indexer.run())
    try:
        await asyncio.wait_for(indexer.ready.wait(), 60)
        while not rpc.heads.connected:
            await asyncio.sleep(0.02)
        first = await market.send(1, create_task(e, 5555))
        await caught_up(market, store, timeout=20)
        # Replaced by another block: the reorg notification names the first aborted block.
        await abort_from(market, first)
        await market.send(2, create_task(e, 6666))
        await caught_up(market, store, timeout=20)
        # Aborted without a successor: only the notification tells.
        await market.send(4, call(e, "heartbeat"))
        await caught_up(market, store, timeout=20)
        await abort_from(market, await market.head())
        await caught_up(market, store, timeout=20)
    finally:
        indexer.stop()
        await asyncio.wait_for(running, timeout=30)
        status = indexer.status()
        notifications = rpc.heads.notifications
        store.close()
        await rpc.close()
    print("\n".join(lines))
    assert status.reorgs == 2
    assert sum("the node announced a reorg" in line for line in lines) == 2
    assert notifications >= 5
    assert not any("no WebSocket" in line for line in lines)

    fresh = tmp_path / "fresh.duckdb"
    await index(market, fresh)
    following, scratch = dump(tmp_path / "following.duckdb"), dump(fresh)
    assert without_finality(following) == without_finality(scratch)
    amounts = {int(r[13]) for r in following["ev_task_created"]}
    assert 6666 in amounts
    assert 5555 not in amounts, "the task of the aborted block is gone"
    # Idle rounds brought finality up to the devnet's l1_accepted block (its latest); a run
    # that stops at --to-block never idles, so keeps the status the blocks were read with.
    assert {row[-1] for row in following["blocks"]} == {"ACCEPTED_ON_L1"}
    assert {row[-1] for row in scratch["blocks"]} == {"ACCEPTED_ON_L2"}


async def test_a_node_without_a_websocket_is_polled_after_one_line(market: Market, tmp_path):
    addresses = {"Escrow": market.escrow, "Token": market.token}
    lines: list[str] = []
    missing = market.rpc_url.replace("/rpc", "/no-such-socket")
    rpc = RpcSource.connect(market.rpc_url, list(addresses.values()), ws_url=missing,
                            log=lines.append)  # fmt: skip
    store = open_store(tmp_path / "polled.duckdb")
    indexer = Indexer(
        rpc,
        store,
        EventPipeline(addresses),
        IndexerConfig(start_block=market.deploy_block, poll_interval=0.05),
        log=lines.append,
    )
    running = asyncio.create_task(indexer.run())
    try:
        await asyncio.wait_for(indexer.ready.wait(), 60)
        await market.send(4, call(market.escrow, "heartbeat"))
        await caught_up(market, store, timeout=20)
    finally:
        indexer.stop()
        await asyncio.wait_for(running, timeout=30)
        store.close()
        await rpc.close()
    assert sum("no WebSocket subscriptions" in line for line in lines) == 1, lines
