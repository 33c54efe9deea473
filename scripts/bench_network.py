"""Tasks per minute completed end to end by ``smainer up`` with 1, 2 and 4 providers, and where
the time goes: devnet transactions, the scheduler's queue, compute, indexing.

    .venv/bin/python scripts/bench_network.py [--providers 1,2,4] [--tasks 30] [--concurrency 4]

For each N it starts ``python -m smainer up --providers N`` (no demo; free ports, a temporary run
folder and manifest folder) exactly as a user would, waits for its ``up in`` line, then creates
the same ``--tasks`` small tasks (the demo's payload generators with a fixed seed, every
algorithm in turn, all feasible for any node) from the predeployed account N+1 through
:func:`provider.demand.create_task`, as fast as one demander can (``--concurrency`` creations in
flight through one :class:`~provider.transactions.Sender`, whose nonce lock sends them in turn).
The clock runs from the first creation's signature until the API lists the last task as
completed: that is what an integrator polling the API would see, so tasks per minute include
the indexer.

Where the time goes comes from four witnesses on one machine (one wall clock):

- the demander here: when each creation was signed (just before it is sent) and when its
  receipt came back;
- the chain: when each new block was first seen here (the devnet's head polled every 0.1 s; it
  mines a block per transaction), read for the blocks of each task's ``TaskCreated``,
  ``TaskAssigned`` and ``TaskCompleted`` in the API's timeline. (Block timestamps are whole
  seconds, and the parts wait for receipts at a 1-2 s poll, so neither would do.);
- the providers' JSON-line logs in ``<run-dir>/logs``: ``task.assigned`` (it saw the
  assignment), ``task.computing``, ``task.computed``;
- the API: when a task is first listed as completed (polled every ``--poll`` seconds).

Rows (seconds, median / 90th percentile over the tasks): ``create tx`` signed → receipt as the
demander sees it (the devnet executes one transaction at a time, so this includes waiting behind
the providers' and the scheduler's); ``queue`` creation block → assignment block (the scheduler's
2 s round, its reads of every open task and node, and its assignment transaction); ``assignment
seen`` → the provider's log (its 2 s poll, and no poll while the previous poll's tasks are being
handled); ``before compute`` → ``task.computing`` (the payload read from chain, checked and
parsed, then a wait for one of the provider's compute slots); ``compute`` → ``task.computed``
(the algorithm in JAX, with the compilation of a shape new to that provider); ``claim tx``
``task.computed`` → completion block (the claim's checks on chain, its signature and execution:
the devnet executes a transaction before it answers the send, so ``task.claim_sent`` comes after
the block); ``index lag`` completion block → listed as completed by the API; ``end to end``
signed → listed. The rows but the last add up to about the last.

Then ``up`` is stopped with SIGINT, which must exit 0 with nothing left running. The machine's
other work shows in every figure: run it on a quiet machine for numbers to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from starknet_py.net.client_errors import ClientError
from starknet_py.net.client_models import Call, TransactionReceiptWithBlockInfo
from starknet_py.net.full_node_client import FullNodeClient

from provider.demand import create_task
from provider.demo_traffic import ANY_NODE, SAMPLES
from provider.session import open_sender, open_session
from provider.transactions import BeforeSend, Sender, Sent
from smainer.config import get_settings

UP_TIMEOUT = 300.0
"""Seconds ``smainer up`` may take to print ``up in`` (it is ~50 s on a quiet 2-core machine)."""
STOP_TIMEOUT = 120.0
"""Seconds ``smainer up`` may take to stop after SIGINT (its own limit per part is 30 s)."""
SEED = 16
"""Seeds the workload: every N gets the same tasks."""
BLOCK_POLL = 0.1
"""Seconds between two looks at the devnet's head."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TimedSender(Sender):
    """A :class:`Sender` that notes when each transaction was signed (just before it is sent)
    and when its receipt came back, so a creation's transaction time is measured without the
    time it waited for the nonce lock."""

    def __init__(self, sender: Sender) -> None:
        super().__init__(
            sender.account,
            sender.chain_id,
            resource_bounds=sender.resource_bounds,
            poll_interval=0.05,
        )
        self.signed_at: dict[int, float] = {}
        self.receipt_at: dict[int, float] = {}

    async def send(
        self,
        calls: Sequence[Call],
        *,
        before_send: BeforeSend | None = None,
        nonce: int | None = None,
    ) -> Sent:
        def mark(tx_hash: int, used: int) -> None:
            self.signed_at[tx_hash] = time.time()
            if before_send is not None:
                before_send(tx_hash, used)

        return await super().send(calls, before_send=mark, nonce=nonce)

    async def wait(self, tx_hash: int) -> TransactionReceiptWithBlockInfo:
        receipt = await super().wait(tx_hash)
        self.receipt_at[tx_hash] = time.time()
        return receipt


@dataclass
class Network:
    """A running ``smainer up`` and what it printed."""

    process: asyncio.subprocess.Process
    rpc_url: str
    api_url: str
    run_dir: Path
    manifest_dir: Path
    output: list[str] = field(default_factory=list)
    up: asyncio.Event = field(default_factory=asyncio.Event)
    started_in: float = 0.0


async def _read_output(network: Network) -> None:
    assert network.process.stdout is not None
    async for raw in network.process.stdout:
        line = raw.decode(errors="replace").rstrip()
        network.output.append(line)
        if line.startswith("smainer up: up in "):
            network.up.set()


@contextlib.asynccontextmanager
async def smainer_up(providers: int, folder: Path) -> Any:
    """``smainer up --providers N`` in its own session (SIGINT reaches it only from us)."""
    rpc_port, api_port = free_port(), free_port()
    run_dir, manifest_dir = folder / "run", folder / "deployments"
    command = [
        sys.executable, "-m", "smainer", "up", "--providers", str(providers),
        "--port", str(api_port), "--rpc-port", str(rpc_port),
        "--run-dir", str(run_dir), "--manifest-dir", str(manifest_dir),
    ]  # fmt: skip
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    network = Network(
        process,
        f"http://127.0.0.1:{rpc_port}/rpc",
        f"http://127.0.0.1:{api_port}",
        run_dir,
        manifest_dir,
    )
    reader = asyncio.create_task(_read_output(network))
    stopped = False
    try:
        ready = asyncio.create_task(network.up.wait())
        done, _ = await asyncio.wait(
            {ready, reader}, timeout=UP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            tail = "\n".join(network.output[-20:])
            raise RuntimeError(f"smainer up --providers {providers} did not come up:\n{tail}")
        network.started_in = time.monotonic() - began
        yield network
        stopped = True
        code = await _stop(network)
        if code != 0:
            tail = "\n".join(network.output[-10:])
            raise RuntimeError(f"smainer up exited {code} after SIGINT, not 0:\n{tail}")
        if not any("nothing left running" in line for line in network.output):
            raise RuntimeError("smainer up did not say it stopped every part")
    finally:
        if not stopped:
            await _stop(network)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(reader, 10)


async def _stop(network: Network) -> int:
    process = network.process
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()  # its parts die with it (PR_SET_PDEATHSIG)
            await process.wait()
    assert process.returncode is not None
    return process.returncode


def workload(count: int) -> list[tuple[str, dict[str, Any]]]:
    """``count`` small tasks, every algorithm in turn, with the demo's payloads (seeded)."""
    rng = random.Random(SEED)
    names = sorted(SAMPLES)
    return [(names[i % len(names)], SAMPLES[names[i % len(names)]](rng)) for i in range(count)]


@dataclass
class Measured:
    """One task's witnesses (wall-clock seconds unless said)."""

    task_id: int
    algorithm: str
    signed: float
    receipt: float
    listed: float = math.nan
    """First seen as completed by the API."""
    chain: dict[str, float] = field(default_factory=dict)
    """When the blocks of its ``TaskCreated``, ``TaskAssigned`` and ``TaskCompleted`` (the
    API's timeline) were first seen here."""
    logs: dict[str, float] = field(default_factory=dict)
    """``assigned``, ``computing``, ``computed``, ``claim_sent``, ``claimed`` (first of each)."""
    provider: str = ""


@dataclass
class RunResult:
    providers: int
    tasks: list[Measured]
    elapsed: float
    started_in: float

    @property
    def per_minute(self) -> float:
        return 60 * len(self.tasks) / self.elapsed


async def _get(http: aiohttp.ClientSession, url: str) -> Any:
    while True:
        async with http.get(url) as response:
            if response.status == 429:  # the API's rate limit: wait as told
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            response.raise_for_status()
            return await response.json()


async def _listed_completed(
    http: aiohttp.ClientSession, api: str, creator: int, wanted: set[int]
) -> set[int]:
    """The ids among ``wanted`` the API lists as completed for ``creator`` (every page)."""
    found: set[int] = set()
    cursor: str | None = None
    while True:
        url = f"{api}/api/v1/tasks?status=completed&creator={hex(creator)}&limit=500"
        page = await _get(http, url + (f"&cursor={cursor}" if cursor else ""))
        found.update(int(item["id"]) for item in page["items"] if int(item["id"]) in wanted)
        cursor = page.get("next_cursor")
        if not cursor:
            return found


async def _watch_api(
    http: aiohttp.ClientSession,
    api: str,
    creator: int,
    created: dict[int, Measured],
    expected: int,
    poll: float,
    stop: asyncio.Event,
) -> None:
    """Note when each created task is first listed as completed, until ``expected`` are."""
    while not stop.is_set():
        pending = {t for t, m in created.items() if math.isnan(m.listed)}
        if pending:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                seen = await _listed_completed(http, api, creator, pending)
                now = time.time()
                for task_id in seen:
                    created[task_id].listed = now
        if len(created) == expected and all(not math.isnan(m.listed) for m in created.values()):
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll)


async def _watch_blocks(
    client: FullNodeClient, seen: dict[int, float], poll: float, stop: asyncio.Event
) -> None:
    """Note when each new block is first seen: the moment a transaction is on chain, to the
    ``poll``. (Receipt waits poll more slowly, and block timestamps are whole seconds.)"""
    last = await client.get_block_number()
    while not stop.is_set():
        with contextlib.suppress(ClientError, aiohttp.ClientError, OSError):
            head = await client.get_block_number()
            now = time.time()
            for block in range(last + 1, head + 1):
                seen[block] = now
            last = max(last, head)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll)


def read_logs(log_dir: Path, measured: dict[int, Measured]) -> None:
    """Fill each task's log times from the providers' JSON lines (the first of each event per
    task: a restarted provider may log one again)."""
    for path in sorted(log_dir.glob("*.log")):
        part = path.stem
        if not part.startswith("provider-"):
            continue
        for line in path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            task = measured.get(entry.get("task", -1))
            event = str(entry.get("event", ""))
            if task is None or not event.startswith("task."):
                continue
            name = event.removeprefix("task.")
            task.provider = task.provider or part
            task.logs.setdefault(name, float(entry["ts"]))


async def measure(
    network: Network, providers: int, count: int, concurrency: int, poll: float, timeout: float
) -> RunResult:
    settings = get_settings()
    session = await open_session(
        network.rpc_url, network.manifest_dir / "devnet.json", network.manifest_dir, settings
    )
    demander = TimedSender((await open_sender(session, settings, providers + 1))[0])
    unit = 10 ** await session.reader.decimals()
    tasks = workload(count)
    created: dict[int, Measured] = {}
    slots = asyncio.Semaphore(concurrency)
    stop = asyncio.Event()
    blocks: dict[int, float] = {}

    async def create(algorithm: str, payload: dict[str, Any]) -> None:
        async with slots:
            made = await create_task(session.reader, demander, algorithm, payload, unit, ANY_NODE)
        created[made.task_id] = Measured(
            made.task_id,
            algorithm,
            demander.signed_at[made.tx_hash],
            demander.receipt_at[made.tx_hash],
        )

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        chain = asyncio.create_task(_watch_blocks(session.reader.client, blocks, BLOCK_POLL, stop))
        await asyncio.sleep(2 * BLOCK_POLL)  # the head before the first creation is known
        watcher = asyncio.create_task(
            _watch_api(http, network.api_url, demander.address, created, count, poll, stop)
        )
        try:
            await asyncio.gather(*(create(name, payload) for name, payload in tasks))
            try:
                await asyncio.wait_for(asyncio.shield(watcher), timeout)
            except TimeoutError:
                missing = sorted(t for t, m in created.items() if math.isnan(m.listed))
                raise RuntimeError(
                    f"N={providers}: {len(missing)} of {count} tasks not completed after "
                    f"{timeout:.0f} s (ids {missing[:10]}); see {network.run_dir / 'logs'}"
                ) from None
        finally:
            stop.set()
            await asyncio.gather(watcher, chain, return_exceptions=True)
        for task_id, task in created.items():
            detail = await _get(http, f"{network.api_url}/api/v1/tasks/{task_id}")
            for event in detail["timeline"]:
                task.chain.setdefault(event["event"], blocks.get(event["block_number"], math.nan))
    read_logs(network.run_dir / "logs", created)
    measured = sorted(created.values(), key=lambda m: m.task_id)
    elapsed = max(m.listed for m in measured) - min(m.signed for m in measured)
    return RunResult(providers, measured, elapsed, network.started_in)


# --- the report ---


def _span(task: Measured, start: str, end: str) -> float:
    """Seconds between two of a task's witnesses, NaN when one is missing."""
    marks = {
        "signed": task.signed,
        "receipt": task.receipt,
        "listed": task.listed,
        **task.logs,
        **{f"chain.{k}": v for k, v in task.chain.items()},
    }
    return marks.get(end, math.nan) - marks.get(start, math.nan)


STAGES: list[tuple[str, str, str]] = [
    ("create tx", "signed", "receipt"),
    ("queue", "chain.TaskCreated", "chain.TaskAssigned"),
    ("assignment seen", "chain.TaskAssigned", "assigned"),
    ("before compute", "assigned", "computing"),
    ("compute", "computing", "computed"),
    ("claim tx", "computed", "chain.TaskCompleted"),
    ("index lag", "chain.TaskCompleted", "listed"),
    ("end to end", "signed", "listed"),
]
"""(row, from, to): the witnesses each row measures between (see the module's docstring)."""


def _quantiles(values: list[float]) -> str:
    clean = sorted(v for v in values if not math.isnan(v))
    if not clean:
        return "-"
    p90 = clean[min(len(clean) - 1, math.ceil(0.9 * len(clean)) - 1)]
    return f"{statistics.median(clean):.2f} / {p90:.2f}"


def report(results: list[RunResult]) -> None:
    width = 16
    head = "".join(f"{f'N={r.providers}':>{width}}" for r in results)
    print(f"\n{'seconds, median / p90':<24}{head}")
    for name, start, end in STAGES:
        cells = "".join(
            f"{_quantiles([_span(t, start, end) for t in r.tasks]):>{width}}" for r in results
        )
        print(f"{name:<24}{cells}")
    base = next((r for r in results if r.providers == 1), results[0])
    rows = [
        ("tasks", lambda r: f"{len(r.tasks)}"),
        ("up started in (s)", lambda r: f"{r.started_in:.0f}"),
        ("wall time (s)", lambda r: f"{r.elapsed:.1f}"),
        ("tasks / min", lambda r: f"{r.per_minute:.1f}"),
        (f"ratio to N={base.providers}", lambda r: f"{r.per_minute / base.per_minute:.2f}x"),
        ("tasks per provider", lambda r: "/".join(str(n) for n in _split(r))),
    ]
    print()
    for name, cell in rows:
        print(f"{name:<24}" + "".join(f"{cell(r):>{width}}" for r in results))


def _split(result: RunResult) -> list[int]:
    return [
        sum(1 for t in result.tasks if t.provider == f"provider-{i}")
        for i in range(1, result.providers + 1)
    ]


async def run(args: argparse.Namespace) -> list[RunResult]:
    results = []
    for providers in args.providers:
        with tempfile.TemporaryDirectory(prefix=f"smainer-bench-network-{providers}-") as folder:
            print(f"N={providers}: starting smainer up --providers {providers} ...", flush=True)
            async with smainer_up(providers, Path(folder)) as network:
                print(
                    f"N={providers}: up in {network.started_in:.0f} s; creating {args.tasks} tasks",
                    flush=True,
                )
                result = await measure(
                    network, providers, args.tasks, args.concurrency, args.poll, args.timeout
                )
            print(
                f"N={providers}: {len(result.tasks)} tasks in {result.elapsed:.1f} s = "
                f"{result.per_minute:.1f} tasks/min; smainer up stopped with 0",
                flush=True,
            )
            results.append(result)
    return results


def _counts(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or any(not 1 <= v <= 8 for v in values):
        raise argparse.ArgumentTypeError("a comma-separated list of 1..8")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--providers", type=_counts, default=[1, 2, 4], help="e.g. 1,2,4")
    parser.add_argument("--tasks", type=int, default=30, help="tasks created per N")
    parser.add_argument("--concurrency", type=int, default=4, help="creations in flight")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between API looks")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per N for the tasks to complete"
    )
    args = parser.parse_args()
    started = time.monotonic()
    results = asyncio.run(run(args))
    report(results)
    print(f"\nwhole benchmark: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
