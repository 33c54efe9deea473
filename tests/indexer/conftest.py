"""A devnet with the marketplace and a protocol history on it, and helpers to index it.

The devnet, the deployment and the history are built once per session (each transaction costs
about half a second of Cairo); tests index that chain into their own DuckDB files and compare.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from starknet_py.net.client_models import StarknetBlockWithTxHashes

from indexer import Indexer, IndexerConfig, RpcSource, open_store
from indexer.felts import felt_int
from indexer.pipeline import EventPipeline
from indexer.records import Cursor
from indexer.source import ChainSource
from indexer.store import DuckDBStore
from smainer.config import AccountSettings, DevnetSettings
from smainer.network.deploy import EscrowConfig, deploy_marketplace
from smainer.network.networks import Network
from tests.devnet.conftest import RunningServer, serve_real_devnet, start_in_thread
from tests.indexer.market import ONE, Market, call, claim, create_task, devnet_call, u256

TREASURY, GAS_RECIPIENT = 0x7EA5, 0x6A5


async def deploy(url: str, manifest_dir: Path) -> Market:
    manifest = await deploy_marketplace(
        Network("devnet", f"{url}/rpc"),
        AccountSettings(),
        EscrowConfig(),
        manifest_dir=manifest_dir,
        progress=lambda _line: None,
    )
    accounts = [
        (int(a["address"], 16), int(a["private_key"], 16))
        for a in await devnet_call(url, "devnet_getPredeployedAccounts")
    ]
    blocks = [e.block for e in manifest.contracts.values() if e.block is not None]
    return Market(
        rpc_url=f"{url}/rpc",
        escrow=manifest.address("Escrow"),
        token=manifest.address("Token"),
        deploy_block=min(blocks),
        accounts=accounts,
        manifest=manifest_dir / "devnet.json",
    )


async def play_history(m: Market) -> None:
    """Tasks created, assigned, completed, cancelled and expired; nodes registered, deactivated,
    suspended and reinstated; fees, roles, the execution bound, a pause and a new owner
    (13 transactions, several calls each)."""
    e, t = m.escrow, m.token
    owner, user_a, user_b, node_a, node_b = (a for a, _ in m.accounts[:5])
    m.users.update({owner, user_a, user_b})
    m.nodes.update({node_a, node_b})
    await m.send(
        0,
        call(t, "transfer", user_a, *u256(1000 * ONE)),
        call(t, "transfer", user_b, *u256(1000 * ONE)),
        call(e, "set_fee_config", 9000, 500, 500),
        call(e, "set_treasury", TREASURY),
        call(e, "set_max_execution_time", 3600),
    )
    await m.send(3, call(e, "register_node", 3, 1, 16, 64))
    await m.send(4, call(e, "register_node", 1, 0, 4, 8))
    await m.send(
        1,
        call(t, "approve", e, *u256(ONE)),
        create_task(e, 12_345_678_901_234_567),  # task 1
        create_task(e, 1999),  # task 2
        create_task(e, 19),  # task 3
    )
    await m.send(
        0, call(e, "set_fee_config", 8500, 500, 1000), call(e, "set_gas_recipient", GAS_RECIPIENT)
    )
    await m.send(
        2,
        call(t, "approve", e, *u256(10 * ONE)),
        create_task(e, 5 * ONE, seconds=3600),  # task 4
        create_task(e, 777),  # task 5, stays Open
    )
    await m.send(
        0,
        call(e, "assign_task", 1, node_a),
        call(e, "assign_task", 2, node_b),
        call(e, "assign_task", 4, node_a),
    )
    await m.send(3, claim(e, 1, [1, 2, 3]), call(e, "heartbeat"))
    await m.send(1, call(e, "cancel_task", 3))
    await devnet_call(m.base_url, "devnet_increaseTime", {"time": 700})
    await m.send(2, call(e, "reclaim_expired", 2))
    await m.send(4, call(e, "deactivate_node"), call(e, "heartbeat"))
    await m.send(
        0,
        call(e, "suspend_node", node_b),
        call(e, "reinstate_node", node_b),
        call(e, "suspend_node", node_a),
        call(e, "pause"),
        call(e, "transfer_ownership", user_b),
    )
    await m.send(2, call(e, "accept_ownership"), call(e, "unpause"))


def serve_history_devnet() -> Iterator[RunningServer]:
    """A devnet for the market history (five funded accounts), stopped when done."""
    server = start_in_thread(serve_real_devnet(DevnetSettings(port=0, seed=11, accounts=5)))
    yield server
    server.stop()


def build_market(devnet: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Market:
    """The marketplace deployed on ``devnet`` with :func:`play_history` played on it."""

    async def build() -> Market:
        m = await deploy(devnet.url, tmp_path_factory.mktemp("deployments"))
        await play_history(m)
        return m

    return asyncio.run(build())


@pytest.fixture(scope="session")
def devnet() -> Iterator[RunningServer]:
    yield from serve_history_devnet()


@pytest.fixture(scope="session")
def market(devnet: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Market:
    return build_market(devnet, tmp_path_factory)


# -- indexing ------------------------------------------------------------------------------


async def index(
    market: Market,
    db: Path,
    *,
    until: int | None = None,
    source: Callable[[RpcSource], ChainSource] | None = None,
    log: list[str] | None = None,
    **config: Any,
) -> None:
    """Index ``market`` into ``db`` up to ``until`` (default: the head now), then stop."""
    until = await market.head() if until is None else until
    addresses = {"Escrow": market.escrow, "Token": market.token}
    rpc = RpcSource.connect(market.rpc_url, list(addresses.values()), chunk_size=7)
    store = open_store(db)
    try:
        indexer = Indexer(
            rpc if source is None else source(rpc),
            store,
            EventPipeline(addresses),
            IndexerConfig(start_block=market.deploy_block, until_block=until, **config),
            log=(log.append if log is not None else None),
        )
        await asyncio.wait_for(indexer.run(), timeout=120)
        assert indexer.is_ready
    finally:
        store.close()
        await rpc.close()


async def caught_up(market: Market, store: DuckDBStore, timeout: float = 60) -> None:
    """Until the index's cursor is the node's head block, hash included."""
    client = market.client()

    async def wait() -> None:
        while True:
            head = await client.get_block_with_tx_hashes(block_number="latest")
            assert isinstance(head, StarknetBlockWithTxHashes)
            cursor = read_cursor(store)
            if cursor is not None and (cursor.block_number, cursor.block_hash) == (
                head.block_number,
                head.block_hash,
            ):
                return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), timeout)


async def abort_from(market: Market, block: int) -> None:
    await devnet_call(
        market.base_url, "devnet_abortBlocks", {"starting_block_id": {"block_number": block}}
    )


def read_cursor(store: DuckDBStore) -> Cursor | None:
    """The cursor as a reader sees it (the writer's connection may be busy in its thread)."""
    row = store.reader().execute("SELECT block_number, block_hash FROM cursor").fetchone()
    return None if row is None else Cursor(row[0], felt_int(row[1]))


VOLATILE = {"cursor": "updated_at", "schema_version": "applied_at"}
"""Columns that record when, not what: left out of table comparisons."""


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table and view of an index, rows sorted: two equal dumps are equal indexes."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            n
            for (n,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT internal UNION ALL "
                "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1"
            ).fetchall()
        ]
        out = {}
        for name in names:
            exclude = f" EXCLUDE ({VOLATILE[name]})" if name in VOLATILE else ""
            out[name] = con.execute(f'SELECT *{exclude} FROM "{name}" ORDER BY ALL').fetchall()
        return out
    finally:
        con.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def index_state(db: Path, market: Market) -> dict[str, Any]:
    """The index's views in :func:`tests.indexer.market.chain_state`'s shape."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tasks = {}
        for row in _rows(con, "SELECT * EXCLUDE (created_block) FROM tasks ORDER BY id"):
            row["amount"] = int(row["amount"])
            tasks[row["id"]] = row
        nodes = {}
        for row in _rows(con, "SELECT * FROM nodes ORDER BY node"):
            row["earnings"] = int(row["earnings"])
            nodes[row.pop("node")] = row
        user_tasks = {
            hex(user): [
                r["task_id"]
                for r in _rows(
                    con,
                    'SELECT task_id FROM user_tasks WHERE "user" = ? ORDER BY "index"',
                    hex(user),
                )
            ]
            for user in sorted(market.users | market.nodes)
        }
        (settings,) = _rows(con, "SELECT * EXCLUDE (class_hash) FROM settings")
        settings["escrowed_amount"] = int(settings["escrowed_amount"])
        return {"tasks": tasks, "nodes": nodes, "user_tasks": user_tasks, "settings": settings}
    finally:
        con.close()
