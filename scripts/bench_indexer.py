"""The indexer's own throughput, without a chain: decode, write, roll back, rebuild.

    .venv/bin/python scripts/bench_indexer.py [--events 200000] [--per-block 20] [--batch 5000]

Builds synthetic raw events (a realistic mix: ``TaskCreated`` with a 20-felt payload, task
updates, node heartbeats, token transfers) and times each stage the runner goes through for
them: decoding by the contracts' ABIs (``smainer.events.EventDecoder``), writing batches with
their cursor into a DuckDB file through Arrow, rolling back the top half as a deep reorg would,
and ``--rebuild``. Node round trips are not included: on a real backfill they dominate, and
several ranges are fetched at once to hide them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from starknet_py.hash.selector import get_selector_from_name

from indexer.pipeline import EventPipeline
from indexer.records import Batch, BlockHeader, Cursor, RawEvent
from indexer.store import open_store

ESCROW, TOKEN = 0xE5C0, 0x70CE
ADDRESS = 0x04718F5A0FC34CC1AF16A1CDEE98FFB20C31F5CD61D6AB07201858F4287C938D


def synthetic(count: int, per_block: int) -> list[RawEvent]:
    created = get_selector_from_name("TaskCreated")
    assigned = get_selector_from_name("TaskAssigned")
    heartbeat = get_selector_from_name("NodeHeartbeat")
    transfer = get_selector_from_name("Transfer")
    payload = [600, *range(ADDRESS, ADDRESS + 20)]
    events = []
    for n in range(count):
        block, index = divmod(n, per_block)
        task = n // 4 + 1
        kind = n % 4
        keys: tuple[int, ...]
        data: tuple[int, ...]
        if kind == 0:
            keys, data = (created, task, ADDRESS), (7, ADDRESS + n, len(payload), *payload,
                                                   1, 0, 2, 4, 600, 10**18 + n, 0, 9300, 200,
                                                   500, 1_700_000_000 + block)  # fmt: skip
            address = ESCROW
        elif kind == 1:
            keys, data = (assigned, task, ADDRESS + 1, ADDRESS), (1_700_000_000, 1_700_000_600)
            address = ESCROW
        elif kind == 2:
            keys, data = (heartbeat, ADDRESS + 1), (1_700_000_000 + block,)
            address = ESCROW
        else:
            keys, data = (transfer, ADDRESS, ESCROW), (10**18 + n, 0)
            address = TOKEN
        events.append(RawEvent(block, index, 0, 10**9 + block, 10**12 + n, address, keys, data))
    return events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="synthetic events")
    parser.add_argument("--per-block", type=int, default=20, help="events per block")
    parser.add_argument("--batch", type=int, default=5000, help="events per written batch")
    args = parser.parse_args()

    events = synthetic(args.events, args.per_block)
    pipeline = EventPipeline({"Escrow": ESCROW, "Token": TOKEN})
    started = time.perf_counter()
    pipeline.decode(events)
    decode_s = time.perf_counter() - started
    print(f"decode:   {len(events):,} events in {decode_s:.2f} s = {len(events) / decode_s:,.0f}/s")

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "bench.duckdb")
        store.bind({"Escrow": ESCROW, "Token": TOKEN}, 0)
        started = time.perf_counter()
        for at in range(0, len(events), args.batch):
            chunk = events[at : at + args.batch]
            first, last = chunk[0].block_number, chunk[-1].block_number
            if at:
                first = events[at - 1].block_number + 1
            headers = [
                BlockHeader(n, 10**9 + n, 10**9 + n - 1, 1_700_000_000 + n, "ACCEPTED_ON_L2")
                for n in sorted({first, last, *(e.block_number for e in chunk)})
            ]
            decoded = pipeline.decode(chunk)
            store.write(Batch(first, last, headers[0].parent_hash, headers, chunk, decoded.rows))
        write_s = time.perf_counter() - started
        print(
            f"decode+write: {len(events):,} events in {write_s:.2f} s = "
            f"{len(events) / write_s:,.0f}/s (batches of {args.batch:,})"
        )
        middle = events[len(events) // 2].block_number
        started = time.perf_counter()
        removed = store.rollback_to(Cursor(middle, 10**9 + middle))
        print(f"rollback: {removed:,} events in {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        count = store.rebuild(pipeline.decode)
        rebuild_s = time.perf_counter() - started
        print(f"rebuild:  {count:,} events in {rebuild_s:.2f} s = {count / rebuild_s:,.0f}/s")
        started = time.perf_counter()
        rows = store.connection.execute("SELECT count(*), sum(amount) FROM tasks").fetchone()
        print(f"tasks view: {rows} in {time.perf_counter() - started:.3f} s")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
