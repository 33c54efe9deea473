"""Devnet throughput against stock cairo-lang and starknet-devnet, measured in one run.

    .venv/bin/python scripts/bench_devnet.py [--count 40] [--tasks 20] [--mints 30]
                                             [--soak MINUTES] [--no-stock]
                                             [--invoke counter|transfer]

Starts ``smainer devnet`` twice on free ports, once as shipped and once on stock cairo-lang (the
engine's speedups off: ``SMAINER_ENGINE_SPEEDUPS=0``), and on each times the same work:

* small invokes through starknet.js 10.8, which signs in ~10 ms so the devnet is what is
  measured (``scripts/bench_devnet/bench.mjs``; the package is installed into that folder by
  ``npm ci`` on first use): *sequential* (send, wait for the receipt, next) and *pipelined*
  (explicit nonces, all sent, then all awaited). Each is ``increase(1)`` on the shipped Counter
  contract (``cairo/counter.cairo``), declared and deployed once per devnet before the timing,
  so what is measured is the devnet's cost per transaction, not a contract's; ``--invoke
  transfer`` sends a one-unit STRK ``transfer`` instead (the figure before the Counter existed).
  Afterwards the counter's value (or the recipient's balance) must equal the number of invokes
  sent, or the run fails: a benchmark that silently did less work would report a false speed;
* ``create_task`` of the marketplace (deployed with ``smainer deploy``'s code) through
  starknet-py, signed by our fast signer, with its receipt polling set short;
* ``devnet_mint`` calls: starknet-devnet's published measure (500 mints in ~65 s, ~7.7 tx/s).

Every figure is printed beside the stock cairo-lang figure of the same transactions (the ratio
is what to compare on a shared machine: both run under the same load) and starknet-devnet's 7.7.
``--soak MINUTES`` then sends pipelined invokes to the shipped devnet for that long and reports
its resident memory at the start and the end (starknet-devnet users report growth until it dies).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from starknet_py.contract import Contract
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.client_models import Call, ResourceBounds, ResourceBoundsMapping
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.http_client import RpcHttpClient

from smainer.config import AccountSettings
from smainer.demo import REQUIREMENTS
from smainer.network.accounts import load_account, predeployed_accounts, signing_account
from smainer.network.deploy import (
    STRK_ADDRESS,
    Deployment,
    EscrowConfig,
    committed_source,
    deploy_marketplace,
)
from smainer.network.networks import Network
from smainer.payload import encode_json
from smainer.sandbox import ONE_TOKEN

STARKNET_DEVNET_TPS = 7.7
CLIENT_DIR = Path(__file__).with_name("bench_devnet")
PAYLOAD = encode_json({"algorithm": "matrix_multiplication", "matrix_a": [[1, 2], [3, 4]]})
BOUNDS = ResourceBoundsMapping(
    l1_gas=ResourceBounds(max_amount=0, max_price_per_unit=10**12),
    l1_data_gas=ResourceBounds(max_amount=10**5, max_price_per_unit=10**12),
    l2_gas=ResourceBounds(max_amount=10**9, max_price_per_unit=10**10),
)
POLL = 0.02  # starknet-py's wait_for_tx check interval (its default, 2 s, would dominate)
TRANSFER_RECIPIENT = 0x5EED
"""Receives the one-unit transfers of ``--invoke transfer`` (holds nothing on a fresh devnet)."""


@dataclass(frozen=True)
class SmallInvoke:
    """What the small-invoke runs send, and the view that proves on chain how many took effect."""

    label: str
    call: dict[str, Any]
    """The starknet.js ``Call`` bench.mjs sends: ``contractAddress``, ``entrypoint``,
    ``calldata``."""
    tally: Call
    """A view whose first felt grows by one per invoke that ran (the counter's ``get``, the
    recipient's balance low word)."""
    start: int
    """The tally before any invoke: every later reading must be this plus the invokes sent."""


@dataclass
class Figures:
    """What one devnet did: transactions per second by measure, and its resident memory."""

    tps: dict[str, float] = field(default_factory=dict)
    latency_ms: float | None = None
    rss_mib: list[float] = field(default_factory=list)
    invoke: str = ""
    """What the small invokes called."""
    invokes_sent: int = 0
    invokes_seen: int = 0
    """How many of them the chain's tally shows (the run fails unless it is ``invokes_sent``)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def install_client() -> None:
    """starknet.js into scripts/bench_devnet/node_modules (git-ignored), once."""
    if (CLIENT_DIR / "node_modules" / "starknet" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise SystemExit("bench_devnet: node and npm are needed for the starknet.js client")
    command = "ci" if (CLIENT_DIR / "package-lock.json").exists() else "install"
    print(f"installing starknet.js (npm {command} in {CLIENT_DIR}) ...", flush=True)
    subprocess.run(
        [npm, command, "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT_DIR, check=True
    )


@contextmanager
def running_devnet(stock: bool) -> Iterator[tuple[str, int]]:
    """A fresh ``smainer devnet`` (its URL and pid), stock cairo-lang if asked."""
    port = _free_port()
    env = dict(os.environ)
    env["SMAINER_ENGINE_SPEEDUPS"] = "0" if stock else "1"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("smainer")),
            "devnet",
            "--port",
            str(port),
            "--accounts",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}/rpc", process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


async def _wait_alive(client: FullNodeClient, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            await client.get_block_number()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


def node_invokes(
    url: str, account: dict[str, str], invoke: SmallInvoke, count: int, mode: str
) -> tuple[float, int]:
    """Transactions per second of ``count`` small invokes by starknet.js, ``mode`` sequential or
    pipelined, and how many transactions were sent (one untimed warm-up transaction first)."""
    result = subprocess.run(
        [
            "node",
            "bench.mjs",
            url,
            account["address"],
            account["private_key"],
            json.dumps(invoke.call),
            str(count),
            mode,
        ],
        cwd=CLIENT_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    if answer["reverted"]:
        raise RuntimeError(f"{answer['reverted']} of the {mode} invokes reverted")
    return count / float(answer["seconds"]), int(answer["sent"])


async def read_tally(url: str, invoke: SmallInvoke) -> int:
    """The tally view's value now (a plain ``starknet_call``: no ABI to parse)."""
    result = await FullNodeClient(node_url=url).call_contract(invoke.tally, block_number="latest")
    return int(result[0])


def check_tally(url: str, invoke: SmallInvoke, sent: int) -> int:
    """Fail unless the chain shows exactly ``sent`` invokes since the start; returns the tally.

    The receipts already said "succeeded"; this proves the devnet also kept what they did."""
    tally = asyncio.run(read_tally(url, invoke))
    if tally != invoke.start + sent:
        raise RuntimeError(
            f"{invoke.label}: {sent} invokes sent, but the chain shows {tally - invoke.start}"
        )
    return tally


async def create_tasks(url: str, tasks: int) -> tuple[float, float]:
    """Transactions per second and median latency (ms) of ``tasks`` sequential ``create_task``
    through starknet-py: deploy the marketplace, approve, then sign, send and wait for each."""
    client = FullNodeClient(node_url=url)
    with tempfile.TemporaryDirectory() as manifests:
        manifest = await deploy_marketplace(
            Network("devnet", url),
            AccountSettings(),
            EscrowConfig(),
            manifest_dir=Path(manifests),
            progress=lambda message: None,
        )
    chain_id = int(manifest.chain_id, 16)
    account = (await load_account(client, url, AccountSettings(), chain_id)).account
    token = await Contract.from_address(manifest.address("Token"), provider=account)
    escrow = await Contract.from_address(manifest.address("Escrow"), provider=account)
    approve = await token.functions["approve"].invoke_v3(
        escrow.address, 10**9 * ONE_TOKEN, resource_bounds=BOUNDS
    )
    await approve.wait_for_acceptance(check_interval=POLL)
    latencies = []
    start = time.perf_counter()
    for _ in range(tasks):
        sent = time.perf_counter()
        invoke = await escrow.functions["create_task"].invoke_v3(
            1, PAYLOAD, REQUIREMENTS, ONE_TOKEN, resource_bounds=BOUNDS
        )
        await client.wait_for_tx(invoke.hash, check_interval=POLL, retries=10**5)
        latencies.append(time.perf_counter() - sent)
    return tasks / (time.perf_counter() - start), statistics.median(latencies) * 1000


async def mints(url: str, count: int) -> float:
    """Transactions per second of ``count`` sequential ``devnet_mint`` calls."""
    devnet = RpcHttpClient(url, method_prefix="devnet")
    start = time.perf_counter()
    for i in range(count):
        await devnet.call("mint", {"address": hex(0x1000 + i), "amount": 10**18, "unit": "FRI"})
    return count / (time.perf_counter() - start)


async def deploy_counter(url: str, invoker: dict[str, str]) -> int:
    """Declare the shipped Counter and deploy it through the UDC, as ``smainer deploy`` would
    (its own :class:`Deployment` steps); the counter's address."""
    client = FullNodeClient(node_url=url)
    chain_id = await client.get_chain_id()
    account = signing_account(
        invoker["address"], int(invoker["private_key"], 16), client, int(chain_id, 16)
    )
    deployment = Deployment(Network("devnet", url), client, account, chain_id, lambda _: None)
    source = committed_source("Counter")
    entry = await deployment.deploy(source, await deployment.declare(source), [])
    assert entry.address is not None
    return int(entry.address, 16)


async def small_invoke(url: str, kind: str, invoker: dict[str, str]) -> SmallInvoke:
    """The call the small-invoke runs send: ``increase(1)`` on a new Counter, or a one-unit
    STRK transfer; with its tally's value now."""
    if kind == "counter":
        counter = await deploy_counter(url, invoker)
        invoke = SmallInvoke(
            label="Counter.increase(1)",
            call={"contractAddress": hex(counter), "entrypoint": "increase", "calldata": ["1"]},
            tally=Call(counter, get_selector_from_name("get"), []),
            start=0,
        )
    else:
        invoke = SmallInvoke(
            label="STRK transfer(1)",
            call={
                "contractAddress": hex(STRK_ADDRESS),
                "entrypoint": "transfer",
                "calldata": [hex(TRANSFER_RECIPIENT), "1", "0"],
            },
            tally=Call(STRK_ADDRESS, get_selector_from_name("balance_of"), [TRANSFER_RECIPIENT]),
            start=0,
        )
    return replace(invoke, start=await read_tally(url, invoke))


async def _setup(url: str, kind: str) -> tuple[dict[str, str], SmallInvoke]:
    """Wait for the devnet; the invoking account (predeployed account 1), topped up for fees,
    and the small invoke it will send."""
    await _wait_alive(FullNodeClient(node_url=url))
    accounts = await predeployed_accounts(url)
    assert accounts is not None, "not a devnet"
    devnet = RpcHttpClient(url, method_prefix="devnet")
    await devnet.call("mint", {"address": accounts[1]["address"], "amount": 10**24, "unit": "FRI"})
    return accounts[1], await small_invoke(url, kind, accounts[1])


def bench(stock: bool, args: argparse.Namespace) -> Figures:
    label = "stock cairo-lang" if stock else "smainer"
    figures = Figures()
    with running_devnet(stock) as (url, pid):
        invoker, invoke = asyncio.run(_setup(url, args.invoke))
        figures.rss_mib.append(_rss_mib(pid))
        sent = 0
        for mode in ("sequential", "pipelined"):
            print(f"[{label}] small invokes ({invoke.label}), {mode} ...", flush=True)
            figures.tps[mode], done = node_invokes(url, invoker, invoke, args.count, mode)
            sent += done
        figures.invoke, figures.invokes_sent = invoke.label, sent
        figures.invokes_seen = check_tally(url, invoke, sent) - invoke.start
        print(f"[{label}] create_task through starknet-py ...", flush=True)
        figures.tps["create_task"], figures.latency_ms = asyncio.run(create_tasks(url, args.tasks))
        if args.mints:
            print(f"[{label}] devnet_mint ...", flush=True)
            figures.tps["devnet_mint"] = asyncio.run(mints(url, args.mints))
        figures.rss_mib.append(_rss_mib(pid))
        if args.soak and not stock:
            soaked = soak(url, pid, invoker, invoke, args.soak)
            check_tally(url, invoke, sent + soaked)
    return figures


def soak(url: str, pid: int, invoker: dict[str, str], invoke: SmallInvoke, minutes: float) -> int:
    """Pipelined invokes for ``minutes``; the devnet's RSS at the start and the end. Returns how
    many invokes it sent."""
    start_rss, start = _rss_mib(pid), time.monotonic()
    print(
        f"soak: {minutes:g} min of pipelined invokes, RSS at start {start_rss:.0f} MiB", flush=True
    )
    sent = 0
    while time.monotonic() - start < minutes * 60:
        sent += node_invokes(url, invoker, invoke, 50, "pipelined")[1]
        print(
            f"  {sent} txs, {(time.monotonic() - start) / 60:.1f} min, RSS {_rss_mib(pid):.0f} MiB",
            flush=True,
        )
    elapsed = time.monotonic() - start
    end_rss = _rss_mib(pid)
    print(
        f"soak: {sent} txs in {elapsed / 60:.1f} min ({sent / elapsed:.2f} tx/s); RSS "
        f"{start_rss:.0f} MiB at start, {end_rss:.0f} MiB at end ({end_rss - start_rss:+.0f} MiB)"
    )
    return sent


def report(fast: Figures, stock: Figures | None, args: argparse.Namespace) -> None:
    names = {
        "sequential": f"small invokes, starknet.js, sequential ({args.count})",
        "pipelined": f"small invokes, starknet.js, pipelined ({args.count})",
        "create_task": f"create_task, starknet-py, sequential ({args.tasks})",
        "devnet_mint": f"devnet_mint, sequential ({args.mints})",
    }
    print()
    seen = f"{fast.invokes_seen} of {fast.invokes_sent}" + (
        f", stock {stock.invokes_seen} of {stock.invokes_sent}" if stock else ""
    )
    print(f"small invokes: {fast.invoke}; seen on chain (warm-ups included): {seen}")
    print(f"{'tx/s':<48} {'smainer':>8} {'stock':>8} {'x stock':>8} {'devnet-rs':>10}")
    for key, name in names.items():
        if key not in fast.tps:
            continue
        ours = fast.tps[key]
        theirs = stock.tps[key] if stock else None
        ratio = f"{ours / theirs:7.2f}x" if theirs else f"{'-':>8}"
        print(
            f"{name:<48} {ours:8.2f} {theirs if theirs else float('nan'):8.2f} {ratio} "
            f"{STARKNET_DEVNET_TPS:>6} ({ours / STARKNET_DEVNET_TPS:.2f}x)"
        )
    if fast.latency_ms is not None:
        stock_latency = f", stock {stock.latency_ms:.0f} ms" if stock and stock.latency_ms else ""
        print(f"create_task latency median: {fast.latency_ms:.0f} ms{stock_latency}")
    print(
        f"devnet RSS: {fast.rss_mib[0]:.0f} -> {fast.rss_mib[-1]:.0f} MiB over the measures"
        + (f" (stock {stock.rss_mib[0]:.0f} -> {stock.rss_mib[-1]:.0f} MiB)" if stock else "")
    )
    print(
        "devnet-rs: starknet-devnet's published ~7.7 tx/s (500 mints in ~65 s); stock: the same "
        "devnet with SMAINER_ENGINE_SPEEDUPS=0, measured in this run"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="small invokes per mode")
    parser.add_argument("--tasks", type=int, default=20, help="create_task transactions")
    parser.add_argument("--mints", type=int, default=30, help="devnet_mint calls (0: none)")
    parser.add_argument("--soak", type=float, default=0, metavar="MINUTES", help="soak minutes")
    parser.add_argument("--no-stock", action="store_true", help="skip the stock cairo-lang run")
    parser.add_argument(
        "--invoke",
        choices=("counter", "transfer"),
        default="counter",
        help="small invoke: increase(1) on a deployed Counter, or a one-unit STRK transfer",
    )
    args = parser.parse_args()
    install_client()
    stock = None if args.no_stock else bench(True, args)
    fast = bench(False, args)
    report(fast, stock, args)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
