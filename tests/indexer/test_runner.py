"""The indexer against a real devnet: the index shows what the contract's views show, a stopped
or crashed run resumes to the same database, and readiness comes only after the backfill."""

from __future__ import annotations

import asyncio
import time

import duckdb
import pytest

from indexer import Indexer, IndexerConfig, RpcSource, StoreError, open_store
from indexer.pipeline import EventPipeline
from indexer.store import DuckDBStore
from tests.indexer.conftest import GAS_RECIPIENT, TREASURY, dump, index, index_state
from tests.indexer.market import Market, chain_state

pytestmark = pytest.mark.slow


async def test_index_reproduces_every_view_of_the_contract(market: Market, tmp_path):
    db = tmp_path / "index.duckdb"
    lines: list[str] = []
    started = time.monotonic()
    await index(market, db, log=lines)
    print(f"indexed in {time.monotonic() - started:.2f} s")
    print("\n".join(lines))

    expected = await chain_state(market)
    actual = index_state(db, market)
    assert actual["settings"] == expected["settings"]
    assert actual["tasks"] == expected["tasks"]
    assert actual["nodes"] == expected["nodes"]
    assert actual["user_tasks"] == expected["user_tasks"]
    statuses = {t["status"] for t in actual["tasks"].values()}
    assert statuses == {1, 2, 3, 4, 5}, "the history covers every task status"
    assert {n["status"] for n in actual["nodes"].values()} == {2, 3}
    assert any("synced to head" in line for line in lines)
    assert any("100.0%" in line for line in lines)


async def test_stopping_and_resuming_gives_the_database_of_one_uninterrupted_run(
    market: Market, tmp_path
):
    whole, pieces = tmp_path / "whole.duckdb", tmp_path / "pieces.duckdb"
    head = await market.head()
    await index(market, whole, until=head, range_size=5)
    # Stop after every few blocks, with ranges that do not line up with the stops.
    for until in range(market.deploy_block + 2, head, 4):
        await index(market, pieces, until=until, range_size=3, concurrency=2)
    await index(market, pieces, until=head, range_size=3, concurrency=2)
    assert dump(pieces) == dump(whole)


class CrashingStore(DuckDBStore):
    """Fails inside the batch's transaction after ``inserts`` table inserts (a crash mid-write)."""

    def __init__(self, store: DuckDBStore, inserts: int) -> None:
        super().__init__(store.connection, store.where)
        self.left = inserts

    def _insert(self, table, data):
        if self.left == 0:
            raise StoreError("simulated crash in the middle of a batch")
        self.left -= 1
        super()._insert(table, data)


@pytest.mark.parametrize("inserts", [1, 4, 9])
async def test_a_crash_inside_a_batch_keeps_nothing_of_it(market: Market, tmp_path, inserts):
    whole, crashed = tmp_path / "whole.duckdb", tmp_path / "crashed.duckdb"
    head = await market.head()
    await index(market, whole, until=head)
    addresses = {"Escrow": market.escrow, "Token": market.token}
    rpc = RpcSource.connect(market.rpc_url, list(addresses.values()))
    store = CrashingStore(open_store(crashed), inserts)
    indexer = Indexer(
        rpc,
        store,
        EventPipeline(addresses),
        IndexerConfig(start_block=market.deploy_block, until_block=head, range_size=4),
    )
    with pytest.raises(StoreError, match="simulated crash"):
        await indexer.run()
    cursor = store.cursor()
    store.close()
    await rpc.close()
    partial = dump(crashed)
    covered = -1 if cursor is None else cursor.block_number
    assert all(row[0] <= covered for row in partial["raw_events"]), "rows past the cursor"
    await index(market, crashed, until=head)
    assert dump(crashed) == dump(whole)


async def test_ready_only_once_the_backfill_reaches_the_head(market: Market, tmp_path):
    head = await market.head()
    addresses = {"Escrow": market.escrow, "Token": market.token}
    rpc = RpcSource.connect(market.rpc_url, list(addresses.values()), chunk_size=3)
    store = open_store(tmp_path / "ready.duckdb")
    indexer = Indexer(
        rpc,
        store,
        EventPipeline(addresses),
        IndexerConfig(start_block=market.deploy_block, range_size=2, poll_interval=0.05),
    )
    seen: list[int | None] = []

    async def watch() -> None:
        while not indexer.is_ready:
            row = store.reader().execute("SELECT block_number FROM cursor").fetchone()
            seen.append(None if row is None else row[0])
            await asyncio.sleep(0)
        cursor = store.cursor()
        assert cursor is not None
        assert cursor.block_number == head

    running = asyncio.create_task(indexer.run())
    await asyncio.wait_for(watch(), timeout=60)
    assert indexer.status().ready
    assert indexer.status().head == head
    indexer.stop()
    await asyncio.wait_for(running, timeout=30)
    store.close()
    await rpc.close()
    # Watched from the first batch on: the cursor moved while the flag was down.
    assert len(set(seen)) > 2
    assert all(s is None or s <= head for s in seen)


async def test_payouts_name_the_recipients_the_token_paid(market: Market, tmp_path):
    db = tmp_path / "index.duckdb"
    await index(market, db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        payouts = con.execute(
            "SELECT block_number, transaction_index, node, provider_amount::VARCHAR, "
            "gas_recipient, gas_amount::VARCHAR, treasury, treasury_amount::VARCHAR "
            "FROM payouts ORDER BY task_id"
        ).fetchall()
        assert payouts, "the history completes a task"
        escrow = hex(market.escrow)
        for block, tx, node, provider, gas_to, gas, treasury_to, treasury in payouts:
            paid = con.execute(
                'SELECT "to", "value"::VARCHAR FROM transfers WHERE block_number = ? '
                'AND transaction_index = ? AND "from" = ? ORDER BY event_index',
                [block, tx, escrow],
            ).fetchall()
            expected = [(node, provider), (gas_to, gas), (treasury_to, treasury)]
            assert paid == [(to, amount) for to, amount in expected if amount != "0"]
        # The history changed both recipients, after the constructor, before the payout.
        assert payouts[0][4] == hex(GAS_RECIPIENT)
        assert payouts[0][6] == hex(TREASURY)
    finally:
        con.close()
