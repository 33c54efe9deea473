"""End-to-end ``create_task`` throughput against the devnet, through starknet-py.

    .venv/bin/python scripts/bench_devnet.py [--tasks 30] [--port 0]

Starts ``smainer devnet`` on a free port, deploys the marketplace with ``smainer deploy``'s own
code, then times ``create_task`` invokes end to end: sign, send, wait for the receipt (fixed
resource bounds, so no estimate round trip). In the same run it times the same entry point as a
plain cairo-lang ``ExecuteEntryPoint`` call (our engine with its speedups off, i.e. stock
cairo-lang) and reports both per Cairo step, so the devnet's own overhead is visible.
starknet-devnet (Rust) publishes about 7.7 transactions per second for comparable work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from starknet_py.contract import Contract
from starknet_py.net.client_models import ResourceBounds, ResourceBoundsMapping
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.http_client import RpcHttpClient

from smainer.chain.deploy import EscrowConfig, deploy_marketplace
from smainer.chain.networks import Network
from smainer.config import AccountSettings
from smainer.demo import REQUIREMENTS
from smainer.engine import speedups
from smainer.payload import encode_json
from smainer.sandbox import ONE_TOKEN
from smainer.sandbox import deploy_marketplace as deploy_in_process

STARKNET_DEVNET_TPS = 7.7
PAYLOAD = encode_json({"algorithm": "matrix_multiplication", "matrix_a": [[1, 2], [3, 4]]})
BOUNDS = ResourceBoundsMapping(
    l1_gas=ResourceBounds(max_amount=0, max_price_per_unit=10**12),
    l1_data_gas=ResourceBounds(max_amount=10**5, max_price_per_unit=10**12),
    l2_gas=ResourceBounds(max_amount=10**9, max_price_per_unit=10**10),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_devnet(port: int) -> subprocess.Popen[bytes]:
    smainer = Path(sys.executable).with_name("smainer")
    return subprocess.Popen(
        [str(smainer), "devnet", "--port", str(port), "--accounts", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _wait_alive(client: FullNodeClient, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            await client.get_block_number()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def bench_mints(url: str, mints: int) -> float:
    """Seconds for ``mints`` sequential ``devnet_mint`` calls: starknet-devnet's published measure
    (500 mints in ~65 s) is of exactly these, so this line compares like with like."""
    devnet = RpcHttpClient(url, method_prefix="devnet")
    start = time.perf_counter()
    for i in range(mints):
        await devnet.call("mint", {"address": hex(0x1000 + i), "amount": 10**18, "unit": "FRI"})
    return time.perf_counter() - start


async def bench_devnet(port: int, tasks: int, mints: int) -> tuple[float, list[float], float]:
    """Seconds for ``tasks`` sequential create_task txs, each one's latency, and the mints."""
    url = f"http://127.0.0.1:{port}/rpc"
    client = FullNodeClient(node_url=url)
    await _wait_alive(client)
    with tempfile.TemporaryDirectory() as manifests:
        manifest = await deploy_marketplace(
            Network("devnet", url),
            AccountSettings(),
            EscrowConfig(),
            manifest_dir=Path(manifests),
            progress=lambda message: print(f"  {message}", flush=True),
        )
    from smainer.chain.accounts import load_account

    account = (
        await load_account(client, url, AccountSettings(), int(manifest.chain_id, 16))
    ).account
    token = await Contract.from_address(manifest.address("Token"), provider=account)
    escrow = await Contract.from_address(manifest.address("Escrow"), provider=account)
    approve = await token.functions["approve"].invoke_v3(
        escrow.address, 10**9 * ONE_TOKEN, resource_bounds=BOUNDS
    )
    await approve.wait_for_acceptance(check_interval=0.05)

    latencies = []
    start = time.perf_counter()
    for _ in range(tasks):
        sent = time.perf_counter()
        invoke = await escrow.functions["create_task"].invoke_v3(
            1, PAYLOAD, REQUIREMENTS, ONE_TOKEN, resource_bounds=BOUNDS
        )
        await client.wait_for_tx(invoke.hash, check_interval=0.01)
        latencies.append(time.perf_counter() - sent)
    elapsed = time.perf_counter() - start
    return elapsed, latencies, await bench_mints(url, mints)


def bench_plain(runs: int) -> tuple[float, int]:
    """Median seconds and steps of ``create_task`` as a stock ExecuteEntryPoint call."""
    market = deploy_in_process()
    market.fund(0xA11, 10**6 * ONE_TOKEN)
    ready = market.chain.snapshot()
    times, steps = [], 0
    with speedups.disabled():
        for _ in range(runs):
            market.chain.restore(ready)
            start = time.perf_counter()
            result = market.escrow.invoke(
                "create_task",
                kind=1,
                payload=PAYLOAD,
                requirements=REQUIREMENTS,
                amount=ONE_TOKEN,
                caller=0xA11,
            )
            times.append(time.perf_counter() - start)
            steps = result.steps
    return statistics.median(times), steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=30, help="create_task txs to send")
    parser.add_argument("--plain-runs", type=int, default=5, help="stock ExecuteEntryPoint runs")
    parser.add_argument("--mints", type=int, default=50, help="devnet_mint calls to time")
    args = parser.parse_args()

    port = _free_port()
    print(f"starting smainer devnet on port {port} ...", flush=True)
    devnet = _start_devnet(port)
    try:
        elapsed, latencies, mint_seconds = asyncio.run(bench_devnet(port, args.tasks, args.mints))
    finally:
        devnet.send_signal(signal.SIGINT)
        try:
            devnet.wait(timeout=20)
        except subprocess.TimeoutExpired:
            devnet.kill()
    print("timing a plain stock ExecuteEntryPoint create_task ...", flush=True)
    plain_seconds, plain_steps = bench_plain(args.plain_runs)

    tps = args.tasks / elapsed
    per_tx = elapsed / args.tasks
    print()
    print(f"create_task via starknet-py -> smainer devnet: {args.tasks} txs in {elapsed:.1f} s")
    print(f"  throughput      {tps:6.2f} tx/s   (starknet-devnet publishes ~{STARKNET_DEVNET_TPS})")
    print(
        f"  latency median  {statistics.median(latencies) * 1000:6.0f} ms   "
        f"p90 {sorted(latencies)[int(0.9 * (len(latencies) - 1))] * 1000:.0f} ms"
    )
    print(
        f"devnet_mint (starknet-devnet's measure): {args.mints} in {mint_seconds:.1f} s = "
        f"{args.mints / mint_seconds:.2f} tx/s vs ~{STARKNET_DEVNET_TPS} "
        f"({args.mints / mint_seconds / STARKNET_DEVNET_TPS:.2f}x)"
    )
    print(
        f"plain stock ExecuteEntryPoint create_task: {plain_seconds * 1000:.0f} ms "
        f"for {plain_steps} steps = {plain_seconds / plain_steps * 1e6:.1f} us/step"
    )
    print(f"  devnet: {per_tx / plain_steps * 1e6:.1f} us per step of create_task itself")
    print(
        f"  one devnet tx costs {per_tx / plain_seconds:.2f}x the plain stock call, while it also "
        "validates the signature, charges the fee, mines a block and answers over HTTP"
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
