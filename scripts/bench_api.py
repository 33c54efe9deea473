"""Benchmark of the read API on a large index: requests per second and p50/p99 latency of
``/tasks?limit=50``, ``/tasks/{id}`` and ``/stats``, each against a trivial Litestar endpoint of
the same app, server and run (the ceiling). Issue 15 aims at half the ceiling on
``/tasks/{id}`` and a p99 under 20 ms.

The index (default one million tasks) is written through the indexer's own write path: synthetic
raw events, encoded by the contracts' ABIs, decoded by ``indexer.EventPipeline`` and stored in
``Batch``es by ``DuckDBStore.write``, exactly as ``smainer index`` stores a chain. It is cached
under /tmp (``--cache``) keyed by the task count, since building it takes a while.

A cached index written by an older schema is migrated forward first (``open_store``), which
also times indexer migration 002 (``task_state`` and the task_id indexes) at that size.

``/tasks/{id}`` is measured cold (random ids over every task, none asked twice, so no cache of
the API or of DuckDB's buffers can answer from an earlier request) and warm (the same 500 ids
over and over); the aim is judged on the cold figure.

    .venv/bin/python scripts/bench_api.py --tasks 10000 --seconds 3
    .venv/bin/python scripts/bench_api.py                      # 1,000,000 tasks
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer import EventPipeline, open_store
from indexer.records import Batch, BlockHeader, RawEvent
from smainer.artifacts import load_contract
from smainer.payload import encode_json

ESCROW, TOKEN = 0xE5C0, 0x70CE
NODES = 200
USERS = 5000
TASKS_PER_BLOCK = 20
BLOCK_SECONDS = 10
BLOCKS_PER_BATCH = 500
GENESIS_TIME = 1_750_000_000
ONE = 10**18
U128 = 1 << 128

# -- synthetic events, encoded by the ABI -------------------------------------------------------


class AbiEncoder:
    """Raw keys and data of an event from its values: the inverse of ``smainer.events``."""

    def __init__(self, abi: Sequence[Mapping[str, Any]]) -> None:
        self.structs = {e["name"]: e for e in abi if e.get("type") == "struct"}
        self.events = {
            e["name"].rsplit("::", 1)[-1]: e
            for e in abi
            if e.get("type") == "event" and e.get("kind") == "struct"
        }
        from starknet_py.hash.selector import get_selector_from_name

        self.selectors = {name: get_selector_from_name(name) for name in self.events}

    def _value(self, type_name: str, value: Any, out: list[int]) -> None:
        if type_name == "core::integer::u256":
            out += [value % U128, value // U128]
        elif type_name.startswith(("core::array::Array::<", "core::array::Span::<")):
            item = type_name[type_name.index("<") + 1 : -1]
            out.append(len(value))
            for v in value:
                self._value(item, v, out)
        elif type_name in self.structs:
            for member in self.structs[type_name]["members"]:
                self._value(member["type"], value[member["name"]], out)
        else:
            out.append(int(value))

    def encode(
        self, name: str, values: Mapping[str, Any]
    ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        keys: list[int] = [self.selectors[name]]
        data: list[int] = []
        for member in self.events[name]["members"]:
            self._value(
                member["type"], values[member["name"]], keys if member["kind"] == "key" else data
            )
        return tuple(keys), tuple(data)


@dataclass
class History:
    """A deterministic market history: ``TASKS_PER_BLOCK`` new tasks a block; most assigned a
    block later and completed two after that, some expire, some are cancelled, some stay open."""

    tasks: int
    seed: int = 15

    def __post_init__(self) -> None:
        self.escrow = AbiEncoder(load_contract("Escrow").abi)
        self.payloads = [
            list(encode_json({"algorithm": "matrix_multiplication", "n": n})) for n in range(97)
        ]
        self.rng = random.Random(self.seed)

    def _event(self, block: int, tx: int, name: str, values: Mapping[str, Any]) -> RawEvent:
        keys, data = self.escrow.encode(name, values)
        return RawEvent(
            block, tx, 0, block_hash(block), 0xABC000000 + block * 1000 + tx, ESCROW, keys, data
        )

    def blocks(self) -> Iterator[tuple[int, list[RawEvent]]]:
        fees = {"provider_bps": 8500, "gas_bps": 500, "treasury_bps": 1000}
        genesis = [
            self._event(
                0,
                0,
                "EscrowInitialized",
                {
                    "owner": 0x0A,
                    "payment_token": TOKEN,
                    "scheduler": 0x0A,
                    "treasury": 0x7EA5,
                    "gas_recipient": 0x6A5,
                    "fees": fees,
                    "max_execution_time": 3600,
                },
            )
        ]
        for n in range(NODES):
            genesis.append(
                self._event(
                    0,
                    n + 1,
                    "NodeRegistered",
                    {
                        "node": node_address(n),
                        "tier": n % 6,
                        "gpu": n % 3 == 0,
                        "cpu_threads": 4 << (n % 4),
                        "ram_gb": 8 << (n % 4),
                        "registered_at": GENESIS_TIME,
                    },
                )
            )
        yield 0, genesis
        later: dict[int, list[tuple[str, dict[str, Any]]]] = {}
        last_block = (self.tasks - 1) // TASKS_PER_BLOCK + 1
        for block in range(1, last_block + 1):
            now = GENESIS_TIME + block * BLOCK_SECONDS
            due = [(name, {**values, **timed(name, now)}) for name, values in later.pop(block, [])]
            first = (block - 1) * TASKS_PER_BLOCK + 1
            for task_id in range(first, min(first + TASKS_PER_BLOCK, self.tasks + 1)):
                due.append(("TaskCreated", self._created(task_id, now, fees)))
                self._schedule(task_id, block, later)
            if block % 10 == 0:
                node = node_address(block % NODES)
                due.append(("NodeHeartbeat", {"node": node, "timestamp": now}))
            yield block, [self._event(block, tx, name, v) for tx, (name, v) in enumerate(due)]

    def _created(self, task_id: int, now: int, fees: dict[str, int]) -> dict[str, Any]:
        payload = self.payloads[task_id % 97]
        return {
            "task_id": task_id,
            "creator": user_address(task_id % USERS),
            "kind": int.from_bytes(b"matmul", "big"),
            "payload_hash": 0x5EED00000 + task_id,
            "payload": payload,
            "requirements": {
                "min_tier": task_id % 3,
                "gpu_required": False,
                "cpu_threads": 2,
                "ram_gb": 4,
                "max_execution_time": 600,
            },
            "amount": ONE // 100 + task_id,
            "fees": fees,
            "created_at": now,
        }

    def _schedule(
        self, task_id: int, block: int, later: dict[int, list[tuple[str, dict[str, Any]]]]
    ) -> None:
        fate = self.rng.randrange(100)
        creator = user_address(task_id % USERS)
        node = node_address(self.rng.randrange(NODES))
        amount = ONE // 100 + task_id
        if fate < 85:  # 85 % assigned ...
            later.setdefault(block + 1, []).append(
                ("TaskAssigned", {"task_id": task_id, "node": node, "creator": creator})
            )
        if fate < 70:  # ... of which 70 % completed,
            provider = amount * 85 // 100
            gas = amount * 5 // 100
            later.setdefault(block + 3, []).append(
                (
                    "TaskCompleted",
                    {
                        "task_id": task_id,
                        "node": node,
                        "creator": creator,
                        "result_hash": 0x7E5000000 + task_id,
                        "result": [task_id, 2, 3],
                        "provider_amount": provider,
                        "gas_amount": gas,
                        "treasury_amount": amount - provider - gas,
                    },
                )
            )
        elif fate < 78:  # 8 % expired,
            later.setdefault(block + 70, []).append(
                (
                    "TaskExpired",
                    {"task_id": task_id, "node": node, "creator": creator, "refund": amount},
                )
            )
        elif 85 <= fate < 92:  # and 7 % cancelled while open
            later.setdefault(block + 2, []).append(
                ("TaskCancelled", {"task_id": task_id, "creator": creator, "refund": amount})
            )
        # the rest: 7 % assigned and running, 8 % open


def timed(name: str, now: int) -> dict[str, int]:
    """The time fields an event gets when it is emitted."""
    if name == "TaskAssigned":
        return {"assigned_at": now, "deadline": now + 600}
    if name == "TaskCompleted":
        return {"completed_at": now}
    return {}


def block_hash(number: int) -> int:
    return 0xB10C000000 + number


def node_address(n: int) -> int:
    return 0x40DE0000 + n


def user_address(n: int) -> int:
    return 0x05E50000 + n


def build_index(path: Path, tasks: int, log: Any = print) -> None:
    """Write the synthetic history through the indexer's pipeline and store, batch by batch."""
    addresses = {"Escrow": ESCROW, "Token": TOKEN}
    pipeline = EventPipeline(addresses)
    history = History(tasks)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store = open_store(partial)
    started = time.perf_counter()
    try:
        store.bind(addresses, 0)
        headers: list[BlockHeader] = []
        events: list[RawEvent] = []
        for number, found in history.blocks():
            parent = block_hash(number - 1) if number else 0
            headers.append(
                BlockHeader(
                    number,
                    block_hash(number),
                    parent,
                    GENESIS_TIME + number * BLOCK_SECONDS,
                    "ACCEPTED_ON_L2",
                )
            )
            events.extend(found)
            if len(headers) == BLOCKS_PER_BATCH:
                write(store, pipeline, headers, events)
                if (number // BLOCKS_PER_BATCH) % 10 == 0:
                    rate = number * TASKS_PER_BLOCK / (time.perf_counter() - started)
                    log(f"  indexed block {number} (~{rate:,.0f} tasks/s)")
                headers, events = [], []
        if headers:
            write(store, pipeline, headers, events)
        store.connection.execute("CHECKPOINT")
    finally:
        store.close()
    partial.rename(path)
    log(f"  built {tasks:,} tasks in {time.perf_counter() - started:.0f} s: {path}")


def write(
    store: Any, pipeline: EventPipeline, headers: list[BlockHeader], events: list[RawEvent]
) -> None:
    decoded = pipeline.decode(events)
    parent = headers[0].parent_hash
    store.write(
        Batch(
            headers[0].number,
            headers[-1].number,
            parent,
            headers,
            events,
            decoded.rows,
            decoded.undecoded,
        )
    )


# -- serving and measuring ----------------------------------------------------------------------


def serve(db: Path, port: int, duckdb_threads: int | None = None) -> None:
    """The API read-only over ``db`` plus the ceiling: a trivial handler in the same app."""
    import uvicorn
    from litestar import get

    from api.app import create_app
    from api.settings import ApiSettings

    @get("/ceiling", sync_to_thread=True)
    def ceiling() -> dict[str, int]:
        return {"ok": 1}

    app = create_app(ApiSettings(db=db, read_only=True, rate_limit=0))
    app.register(ceiling)
    if duckdb_threads is not None:

        def set_threads(app: Any) -> None:  # after the lifespan has opened the index
            app.state.api.connection.execute(f"SET threads = {int(duckdb_threads)}")

        app.on_startup.append(set_threads)
    logging.getLogger("litestar").setLevel(logging.WARNING)  # no access log per request
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Figures:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


async def measure(
    base: str, name: str, paths: Iterator[str], seconds: float, concurrency: int
) -> Figures:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            path = next(paths)
            started = time.perf_counter()
            async with session.get(base + path) as answer:
                await answer.read()
                if answer.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(20):  # warm up: first queries compile plans and fill caches
            async with session.get(base + next(paths)) as answer:
                await answer.read()
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return Figures(name, len(latencies), elapsed, latencies, errors)


def cold_ids(tasks: int, seed: int = 1) -> Iterator[str]:
    """Every task once, in random order: no request can be answered from an earlier one."""
    order = list(range(1, tasks + 1))
    random.Random(seed).shuffle(order)
    for task_id in order:
        yield f"/api/v1/tasks/{task_id}"
    raise RuntimeError("every task was asked once: run fewer --seconds or more --tasks")


def warm_ids(tasks: int, count: int = 500, seed: int = 2) -> Iterator[str]:
    """The same ``count`` random tasks over and over (what a cache of tasks can answer)."""
    chosen = random.Random(seed).sample(range(1, tasks + 1), min(count, tasks))
    while True:
        for task_id in chosen:
            yield f"/api/v1/tasks/{task_id}"


def repeat(path: str) -> Iterator[str]:
    while True:
        yield path


def bench(
    db: Path,
    tasks: int,
    seconds: float,
    concurrency: int,
    label: str,
    duckdb_threads: int | None = None,
) -> list[Figures]:
    port = free_port()
    command = [sys.executable, __file__, "--serve", str(db), "--port", str(port)]
    if duckdb_threads is not None:
        command += ["--duckdb-threads", str(duckdb_threads)]
    server = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_listening(port, server)
        runs = [
            ("ceiling (trivial endpoint)", repeat("/ceiling")),
            ("/tasks?limit=50", repeat("/api/v1/tasks?limit=50")),
            ("/tasks/{id} cold", cold_ids(tasks)),
            ("/tasks/{id} warm", warm_ids(tasks)),
            ("/stats", repeat("/api/v1/stats")),
        ]
        results = [asyncio.run(measure(base, n, p, seconds, concurrency)) for n, p in runs]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    report(results, label, concurrency)
    return results


def wait_listening(port: int, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the API server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the API server did not start")


def report(results: list[Figures], label: str, concurrency: int) -> None:
    ceiling = results[0].rps
    print(f"\n{label} ({concurrency} concurrent clients)")
    print(
        f"{'endpoint':30} {'req/s':>9} {'of ceiling':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    )
    for r in results:
        print(
            f"{r.name:30} {r.rps:9.0f} {r.rps / ceiling:10.0%} {r.percentile(0.5):8.2f} "
            f"{r.percentile(0.99):8.2f} {r.errors:7d}"
        )
    detail = next(r for r in results if r.name == "/tasks/{id} cold")
    met = detail.rps >= ceiling / 2 and detail.percentile(0.99) < 20
    print(
        "aim (/tasks/{id} cold >= half the ceiling, p99 < 20 ms): " + ("met" if met else "NOT met")
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000, help="tasks in the index")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per endpoint")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent clients")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/smainer-bench-api"))
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached index")
    parser.add_argument(
        "--duckdb-threads",
        type=int,
        help="SET threads on the served index (default: DuckDB's, one per core); an experiment:"
        " `smainer api` does not set it",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.duckdb_threads)
        return 0
    args.cache.mkdir(parents=True, exist_ok=True)
    db = args.cache / f"index-{args.tasks}.duckdb"
    if args.rebuild or not db.exists():
        print(f"building an index of {args.tasks:,} tasks through the indexer's write path...")
        db.unlink(missing_ok=True)
        build_index(db, args.tasks)
    migrate_forward(db)
    print(f"index {db} ({db.stat().st_size / 2**20:.0f} MiB), {os.cpu_count()} CPUs")
    threads = "" if args.duckdb_threads is None else f", DuckDB threads {args.duckdb_threads}"
    label = f"{args.tasks:,} tasks{threads}"
    bench(db, args.tasks, args.seconds, args.concurrency, label, args.duckdb_threads)
    return 0


def migrate_forward(db: Path) -> None:
    """Bring a cached index to the newest schema, as ``smainer index`` would on opening it."""
    started = time.perf_counter()
    store = open_store(db)
    try:
        row = store.connection.execute("SELECT max(version) FROM schema_version").fetchone()
        version = None if row is None else row[0]
        store.connection.execute("CHECKPOINT")
    finally:
        store.close()
    print(f"  index at schema {version} ({time.perf_counter() - started:.1f} s to open/migrate)")


if __name__ == "__main__":
    raise SystemExit(main())
