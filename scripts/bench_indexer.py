"""The indexer's throughput: a million recorded protocol events, and a real devnet backfill.

    .venv/bin/python scripts/bench_indexer.py [--events 1000000] [--batch 10000]
                                              [--devnet-blocks 2000] [--skip-devnet]

1. A recorded stream of ``--events`` protocol events, made from the contracts' ABIs as a busy
   marketplace emits them: per task an ``Approval`` and the creator's ``Transfer`` into the
   escrow, ``TaskCreated`` (a 24-felt payload), ``TaskAssigned``, a ``NodeHeartbeat``,
   ``TaskCompleted`` (an 8-felt result) and the three payout ``Transfer``s, several per
   transaction, about 20 per block. It is generated chunk by chunk (memory stays flat) and
   timed per stage, in the same run:

   - decode: ``EventPipeline.decode`` (the ABIs, through ``smainer.events.EventDecoder``);
   - decode + write: what the runner does per batch, decoding then ``DuckDBStore.write``
     (Arrow conversion, one transaction with the headers and the cursor) into a DuckDB file;
   - ceiling: the same rows already as Arrow tables, bare ``INSERT ... SELECT`` per table in
     one transaction per batch into another file of the same schema. Decode + write over the
     ceiling is what the indexer keeps of what DuckDB can take.

2. A real backfill: ``smainer devnet`` started on a free port, the marketplace deployed with
   ``smainer deploy``'s code, ``--devnet-txs`` Token multicalls of 100 transfers among
   ``--devnet-blocks`` blocks, then the indexer from the deployment block to the head through
   JSON-RPC, as ``smainer index`` runs it: blocks/s and events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
from starknet_py.hash.selector import get_selector_from_name

from indexer.pipeline import EventPipeline
from indexer.records import Batch, BlockHeader, RawEvent, Row
from indexer.store import DuckDBStore, blocks_table, open_store, raw_events_table

ESCROW = 0x0525B1B2FBAB3213A4DAC7EE36FC0F6B1044D872EAD8240C0CE1D161DA23401A
TOKEN = 0x04BDFE0C1AEFB374C1EF96B6D1DDE8C2813726B09E386C57D982080D4EEEA984
TREASURY, GAS = 0x7EA5, 0x6A5
PER_BLOCK = 20
SEL = {
    name: get_selector_from_name(name)
    for name in (
        "Approval", "Transfer", "TaskCreated", "TaskAssigned", "NodeHeartbeat", "TaskCompleted",
    )
}  # fmt: skip


def felt(n: int) -> int:
    """A plausible 251-bit felt (an address or a hash) from a small number."""
    return (n * 0x9E3779B97F4A7C15F39CC0605CEDC8341082276BF3A27251F86C6A11D0C18E95) % (2**251)


def task_events(task: int) -> list[tuple[int, tuple[int, ...], tuple[int, ...]]]:
    """The nine events of one task's life: (address, keys, data)."""
    creator, node = felt(1 + task % 997), felt(5000 + task % 61)
    amount, now = 10**18 + task * 7919, 1_760_000_000 + task * 3
    provider, gas = amount * 90 // 100, amount * 5 // 100
    treasury = amount - provider - gas
    payload = [felt(task * 31 + i) for i in range(24)]
    result = [felt(task * 17 + i) for i in range(8)]
    u256 = lambda v: (v % 2**128, v >> 128)  # noqa: E731
    return [
        (TOKEN, (SEL["Approval"], creator, ESCROW), u256(amount)),
        (TOKEN, (SEL["Transfer"], creator, ESCROW), u256(amount)),
        (ESCROW, (SEL["TaskCreated"], task, creator),
         (0x6D61746D756C, felt(task), len(payload), *payload, 1, task % 2, 4, 16, 600,
          *u256(amount), 9000, 500, 500, now)),
        (ESCROW, (SEL["TaskAssigned"], task, node, creator), (now + 5, now + 605)),
        (ESCROW, (SEL["NodeHeartbeat"], node), (now + 30,)),
        (ESCROW, (SEL["TaskCompleted"], task, node, creator),
         (felt(task * 13), len(result), *result, *u256(provider), *u256(gas), *u256(treasury),
          now + 60)),
        (TOKEN, (SEL["Transfer"], ESCROW, node), u256(provider)),
        (TOKEN, (SEL["Transfer"], ESCROW, GAS), u256(gas)),
        (TOKEN, (SEL["Transfer"], ESCROW, TREASURY), u256(treasury)),
    ]  # fmt: skip


def block_hash(number: int) -> int:
    return felt(10**9 + number)


def stream(count: int, chunk: int) -> Iterator[list[RawEvent]]:
    """At least ``count`` events in chain order, ``chunk`` or so at a time, each chunk ending
    with a block (so each is a batch the runner could write). Three transactions per task:
    approve and pay, create / assign / heartbeat, complete and pay out."""
    out: list[RawEvent] = []
    total = block = in_block = tx_index = task = 0
    while total < count or in_block:
        task += 1
        lifecycle = task_events(task)
        for tx_events in (lifecycle[:2], lifecycle[2:5], lifecycle[5:]):
            tx_hash = felt(2**40 + total)
            for index, (address, keys, data) in enumerate(tx_events):
                out.append(
                    RawEvent(
                        block, tx_index, index, block_hash(block), tx_hash, address, keys, data
                    )
                )
            total += len(tx_events)
            in_block += len(tx_events)
            tx_index += 1
            if in_block >= PER_BLOCK:
                block, in_block, tx_index = block + 1, 0, 0
                if len(out) >= chunk or total >= count:
                    yield out
                    out = []
                if total >= count:
                    return
    if out:
        yield out


def batch_of(events: list[RawEvent], first: int, rows: dict[str, list[Row]]) -> Batch:
    last = events[-1].block_number
    numbers = sorted({first, last, *(e.block_number for e in events)})
    headers = [
        BlockHeader(b, block_hash(b), block_hash(b - 1), 1_760_000_000 + b, "ACCEPTED_ON_L2")
        for b in numbers
    ]
    return Batch(first, last, block_hash(first - 1), headers, events, rows)


@dataclass
class Timings:
    events: int = 0
    decode: float = 0.0
    write: float = 0.0
    """Decode + write, one after the other."""
    pipelined: float = 0.0
    """Decode + write with the next batch decoded while the last is written, as the runner
    does (its commit runs in a thread while the event loop decodes the next range)."""
    ceiling: float = 0.0


def bare_insert(store: DuckDBStore, tables: dict[str, pa.Table]) -> None:
    """The ceiling: prepared Arrow tables, one bare INSERT each, one transaction."""
    con = store.connection
    con.execute("BEGIN TRANSACTION")
    for name, data in tables.items():
        con.register("_incoming", data)
        con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM _incoming')
        con.unregister("_incoming")
    con.execute("COMMIT")


def prepared_tables(store: DuckDBStore, batch: Batch) -> dict[str, pa.Table]:
    return {
        "raw_events": raw_events_table(batch.events),
        "blocks": blocks_table(batch.headers),
        **{name: store._event_table(name, rows) for name, rows in batch.rows.items()},
    }


def bench_stream(count: int, chunk: int, where: Path) -> Timings:
    """Sequential decode + write and the ceiling, chunk by chunk; then the pipelined run."""
    pipeline = EventPipeline({"Escrow": ESCROW, "Token": TOKEN})
    store = open_store(where / "indexer.duckdb")
    store.bind(pipeline.addresses, 0)
    ceiling = open_store(where / "ceiling.duckdb")
    t = Timings()
    first = 0
    for events in stream(count, chunk):
        started = time.perf_counter()
        decoded = pipeline.decode(events)
        decoded_at = time.perf_counter()
        batch = batch_of(events, first, decoded.rows)
        store.write(batch)
        t.decode += decoded_at - started
        t.write += time.perf_counter() - started
        prepared = prepared_tables(store, batch)  # not timed: the ceiling starts from Arrow
        started = time.perf_counter()
        bare_insert(ceiling, prepared)
        t.ceiling += time.perf_counter() - started
        t.events += len(events)
        first = batch.last + 1
    (ceiled,) = ceiling.connection.execute("SELECT count(*) FROM raw_events").fetchone() or (0,)
    ceiling.close()
    t.pipelined = pipelined(pipeline, open_store(where / "pipelined.duckdb"), count, chunk)
    written = [
        store.connection.execute("SELECT count(*) FROM raw_events").fetchone(),
        (ceiled,),
    ]
    assert written == [(t.events,), (t.events,)], (written, t.events)
    store.close()
    return t


def pipelined(pipeline: EventPipeline, store: DuckDBStore, count: int, chunk: int) -> float:
    """Seconds to decode and write the stream with one write in flight behind the decoding
    (the stream is generated beforehand, chunk by chunk, outside the clock)."""
    store.bind(pipeline.addresses, 0)
    chunks = stream(count, chunk)
    elapsed = 0.0
    first = 0
    with ThreadPoolExecutor(max_workers=1) as writer:
        writing: Future[None] | None = None
        for events in chunks:
            started = time.perf_counter()
            batch = batch_of(events, first, pipeline.decode(events).rows)
            if writing is not None:
                writing.result()  # commits stay in order, one at a time
            writing = writer.submit(store.write, batch)
            elapsed += time.perf_counter() - started
            first = batch.last + 1
        started = time.perf_counter()
        if writing is not None:
            writing.result()
        elapsed += time.perf_counter() - started
    store.close()
    return elapsed


# -- a real backfill from the devnet ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def bench_backfill(port: int, blocks: int, txs: int, where: Path) -> tuple[int, int, float]:
    """(blocks, events, seconds) of the indexer backfilling a devnet history."""
    from starknet_py.net.account.account import Account
    from starknet_py.net.client_models import Call, ResourceBounds, ResourceBoundsMapping
    from starknet_py.net.full_node_client import FullNodeClient
    from starknet_py.net.http_client import RpcHttpClient
    from starknet_py.net.models import StarknetChainId
    from starknet_py.net.signer.key_pair import KeyPair

    from indexer import Indexer, IndexerConfig, RpcSource
    from smainer.config import AccountSettings
    from smainer.network.deploy import EscrowConfig, deploy_marketplace
    from smainer.network.networks import Network

    url = f"http://127.0.0.1:{port}/rpc"
    client = FullNodeClient(node_url=url)
    devnet = RpcHttpClient(url, method_prefix="devnet")
    for _ in range(240):
        try:
            await client.get_block_number()
            break
        except Exception:
            await asyncio.sleep(0.5)
    manifest = await deploy_marketplace(
        Network("devnet", url), AccountSettings(), EscrowConfig(), manifest_dir=where,
        progress=lambda _line: None,
    )  # fmt: skip
    escrow, token = manifest.address("Escrow"), manifest.address("Token")
    start = min(e.block for e in manifest.contracts.values() if e.block is not None)
    accounts = await devnet.call("getPredeployedAccounts", {})
    owner = Account(
        address=int(accounts[0]["address"], 16),
        client=client,
        key_pair=KeyPair.from_private_key(int(accounts[0]["private_key"], 16)),
        chain=StarknetChainId.SEPOLIA,
    )
    bounds = ResourceBoundsMapping(
        l1_gas=ResourceBounds(max_amount=0, max_price_per_unit=10**10),
        l1_data_gas=ResourceBounds(max_amount=10**5, max_price_per_unit=10**10),
        l2_gas=ResourceBounds(max_amount=10**9, max_price_per_unit=10**10),
    )
    transfer = get_selector_from_name("transfer")
    for n in range(txs):
        calls = [Call(token, transfer, [0x1000 + i, n * 1000 + i, 0]) for i in range(100)]
        sent = await owner.execute_v3(calls=calls, resource_bounds=bounds)
        await client.wait_for_tx(sent.transaction_hash, check_interval=0.02)
        for _ in range(blocks // txs):
            await devnet.call("createBlock", {})
    head = await client.get_block_number()
    addresses = {"Escrow": escrow, "Token": token}
    source = RpcSource.connect(url, list(addresses.values()), ws_url=None)
    store = open_store(where / "backfill.duckdb")
    indexer = Indexer(
        source,
        store,
        EventPipeline(addresses),
        IndexerConfig(start_block=start, until_block=head),
    )
    began = time.perf_counter()
    await indexer.run()
    elapsed = time.perf_counter() - began
    events = indexer.status().events
    store.close()
    await source.close()
    return head - start + 1, events, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="recorded events")
    parser.add_argument("--batch", type=int, default=10_000, help="events per written batch")
    parser.add_argument("--devnet-blocks", type=int, default=4000, help="blocks of the backfill")
    parser.add_argument(
        "--devnet-txs", type=int, default=40, help="Token multicalls of 100 transfers in them"
    )
    parser.add_argument("--skip-devnet", action="store_true", help="only the recorded stream")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        t = bench_stream(args.events, args.batch, Path(tmp))
        rate = lambda seconds: t.events / seconds if seconds else float("inf")  # noqa: E731
        print(f"recorded stream: {t.events:,} events, batches of ~{args.batch:,}")
        print(f"  decode:            {rate(t.decode):>10,.0f} events/s ({t.decode:.1f} s)")
        print(f"  decode + write:    {rate(t.write):>10,.0f} events/s ({t.write:.1f} s), "
              "one after the other")  # fmt: skip
        print(f"  decode + write:    {rate(t.pipelined):>10,.0f} events/s "
              f"({t.pipelined:.1f} s), pipelined as the runner does")  # fmt: skip
        print(f"  bare Arrow insert: {rate(t.ceiling):>10,.0f} events/s ({t.ceiling:.1f} s), "
              "the ceiling")  # fmt: skip
        print(f"  decode + write / ceiling: {t.ceiling / t.pipelined:.2f} pipelined, "
              f"{t.ceiling / t.write:.2f} one after the other")  # fmt: skip
        print(f"  write alone (decode + write minus decode): {rate(t.write - t.decode):,.0f} "
              "events/s")  # fmt: skip
        if args.skip_devnet:
            return 0
        port = _free_port()
        smainer = Path(sys.executable).with_name("smainer")
        devnet = subprocess.Popen(
            [str(smainer), "devnet", "--port", str(port), "--accounts", "2"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            blocks, events, seconds = asyncio.run(
                bench_backfill(port, args.devnet_blocks, args.devnet_txs, Path(tmp))
            )
        finally:
            devnet.terminate()
            devnet.wait(timeout=30)
        print(f"devnet backfill: {blocks:,} blocks, {events:,} events in {seconds:.2f} s = "
              f"{blocks / seconds:,.0f} blocks/s, {events / seconds:,.0f} events/s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
