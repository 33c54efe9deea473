"""``--finality accepted``: block rows carry their finality, and it advances with L1.

The devnet has no L1 (its ``l1_accepted`` tag names the latest block, docs/devnet.md), so L1 is
played by :class:`L1Behind`: the real devnet, except that ``l1_accepted`` answers a block number
the test moves. The rows must follow it: at or below it ``ACCEPTED_ON_L1``, above it
``ACCEPTED_ON_L2``, updated while the indexer follows the head.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from indexer import Indexer, IndexerConfig, RpcSource, open_store
from indexer.pipeline import EventPipeline
from indexer.records import BlockHeader, RawEvent
from indexer.store import DuckDBStore
from tests.indexer.market import Market, call

pytestmark = pytest.mark.slow


class L1Behind:
    """The devnet, with L1 at block ``l1``."""

    def __init__(self, real: RpcSource, l1: int) -> None:
        self.real, self.l1 = real, l1

    async def head(self) -> int:
        return await self.real.head()

    async def header(self, number: int) -> BlockHeader:
        return await self.real.header(number)

    async def events(self, first: int, last: int) -> list[RawEvent]:
        return await self.real.events(first, last)

    async def wait_for_news(self, timeout: float) -> None:
        await self.real.wait_for_news(timeout)

    async def l1_accepted(self) -> int:
        return self.l1


def finality(store: DuckDBStore) -> dict[int, str]:
    rows = store.reader().execute("SELECT block_number, finality FROM blocks").fetchall()
    return dict(rows)


async def until_marked(store: DuckDBStore, l1: int, last: int, timeout: float = 20) -> None:
    """Until block ``last`` is stored and every stored block is marked as ``l1`` says."""

    async def wait() -> None:
        while True:
            rows = finality(store)
            expected = {n: "ACCEPTED_ON_L1" if n <= l1 else "ACCEPTED_ON_L2" for n in rows}
            if last in rows and rows == expected:
                return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), timeout)


async def test_block_finality_follows_the_l1_accepted_block(market: Market, tmp_path: Path):
    addresses = {"Escrow": market.escrow, "Token": market.token}
    rpc = RpcSource.connect(market.rpc_url, list(addresses.values()))
    node = L1Behind(rpc, l1=market.deploy_block + 2)
    store = open_store(tmp_path / "finality.duckdb")
    indexer = Indexer(
        node,
        store,
        EventPipeline(addresses),
        IndexerConfig(start_block=market.deploy_block, poll_interval=0.05),
    )
    running = asyncio.create_task(indexer.run())
    try:
        await asyncio.wait_for(indexer.ready.wait(), 60)
        head = await market.head()
        await until_marked(store, node.l1, head)
        assert set(finality(store).values()) == {"ACCEPTED_ON_L1", "ACCEPTED_ON_L2"}
        node.l1 = head - 1  # L1 catches up, but not with the newest block
        await until_marked(store, node.l1, head)
        new = await market.send(4, call(market.escrow, "heartbeat"))
        await until_marked(store, node.l1, new)  # a new block arrives accepted on L2 only
        node.l1 = new
        await until_marked(store, new, new)
    finally:
        indexer.stop()
        await asyncio.wait_for(running, timeout=30)
        store.close()
        await rpc.close()


async def test_the_devnet_l1_accepted_block_is_its_latest(market: Market, tmp_path: Path):
    rpc = RpcSource.connect(market.rpc_url, [market.escrow])
    try:
        assert await rpc.l1_accepted() == await market.head()
    finally:
        await rpc.close()


def test_marking_is_one_statement_over_stored_blocks_only(tmp_path: Path):
    store = open_store(tmp_path / "marks.duckdb")
    try:
        con = store.connection
        for n in (3, 5, 9):
            con.execute(
                "INSERT INTO blocks VALUES (?, ?, ?, 0, 'ACCEPTED_ON_L2')",
                [n, n.to_bytes(32, "big"), (n - 1).to_bytes(32, "big")],
            )
        assert store.mark_l1_accepted(5) == 2
        assert store.mark_l1_accepted(5) == 0  # already marked: nothing changes
        rows = dict(con.execute("SELECT block_number, finality FROM blocks").fetchall())
        assert rows == {3: "ACCEPTED_ON_L1", 5: "ACCEPTED_ON_L1", 9: "ACCEPTED_ON_L2"}
    finally:
        store.close()
