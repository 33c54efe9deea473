"""JAX against NumPy for each provider algorithm, at several sizes; compile time apart; then
tasks per minute end to end on a devnet.

    .venv/bin/python scripts/bench_provider.py [--repeat 5] [--large] [--tasks 30] [--no-e2e]

For each case: NumPy's time, JAX's steady-state time (the median of ``--repeat`` runs after the
first), their ratio, and JAX's compile time (the first call minus the steady state), since a
provider compiles a shape once and then reuses it. "JAX kernel" rows time the jitted function
alone; "provider" rows time the algorithm's ``run`` as the worker calls it (conversions from and
to JSON-able values included). ``--large`` adds n=1024 matrices (NumPy's int64 product alone
takes seconds there). "batched" rows put K payload-sized tasks of one shape into one compiled
call (a leading batch axis, ``vmap``) against K NumPy calls and K separate JAX calls: where
JAX's fixed cost per call dominates, batching is its edge. Prints the device JAX runs on, and on
a GPU the float32 and float64 matmul throughput as a fraction of the device's peak.

The end-to-end part starts ``smainer devnet`` in a subprocess, deploys the marketplace, and runs
in this process the scheduler (predeployed account 1) and two provider workers (accounts 2 and
3) while the demander (account 0) creates ``--tasks`` tasks one transaction each, mixing the
three algorithms; it reports tasks per minute from the first creation to the last claim, and
the median latency of one task (created to claimed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from starknet_py.net.full_node_client import FullNodeClient

from provider.algorithms import matrix_multiplication as mm
from provider.algorithms import mlp_forward, monte_carlo_pi
from provider.demand import create_task
from provider.escrow import Requirements, TaskStatus
from provider.journal import Journal
from provider.machine import Capabilities
from provider.scheduler import Scheduler, SchedulerConfig
from provider.session import open_sender, open_session
from provider.worker import ProviderWorker, WorkerConfig
from smainer.config import AccountSettings, get_settings
from smainer.network.deploy import EscrowConfig, deploy_marketplace
from smainer.network.networks import Network

PEAK_FLOPS = {  # dense, per device kind, from the vendors' data sheets (no sparsity)
    "H100": {"float32": 67e12, "float64": 34e12},
    "H200": {"float32": 67e12, "float64": 34e12},
    "A100": {"float32": 19.5e12, "float64": 9.7e12},
}
"""Peak float32 (without TF32) and float64 rates; the matmul throughput is reported against
these when the device's name contains a key."""


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(first call, median of the next ``repeat``) in milliseconds."""
    start = time.perf_counter()
    fn()
    first = (time.perf_counter() - start) * 1000
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return first, statistics.median(runs) if runs else first


def row(name: str, size: str, numpy_ms: float, first: float, steady: float) -> None:
    ratio = numpy_ms / steady if steady else float("inf")
    compile_ms = max(0.0, first - steady)
    print(f"{name:<34} {size:>14} {numpy_ms:>10.2f} {steady:>10.2f} {ratio:>8.2f}x "
          f"{compile_ms:>10.1f}")  # fmt: skip


def ready(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a jitted function and wait for its result (JAX dispatches asynchronously)."""
    return fn(*args).block_until_ready()


def bench_matmul(sizes: list[int], repeat: int) -> None:
    rng = np.random.default_rng(0)
    for n in sizes:
        a = rng.integers(-1000, 1000, (n, n))
        b = rng.integers(-1000, 1000, (n, n))
        numpy_ms = timed(partial(np.matmul, a, b), max(1, repeat // 2))[1]
        with jax.enable_x64(True):
            fa = jnp.asarray(a[None].astype(np.float64))
            fb = jnp.asarray(b[None].astype(np.float64))
            first, steady = timed(partial(ready, mm._limb_products, fa, fb), repeat)
        row("matmul int64 (JAX f64 kernel)", f"{n}x{n}", numpy_ms, first, steady)
        job = mm.Job(a, b, integer=True)  # what parse makes of small integers (past its size cap)
        first, steady = timed(partial(mm.run, job), max(1, repeat // 2))
        row("matmul int (provider run)", f"{n}x{n}", numpy_ms, first, steady)

        big_a, big_b = a.astype(object) * (1 << 40), b.astype(object)  # past 2^53: limbs
        # NumPy on Python ints (object arrays) is the exact reference; too slow past 256.
        exact_ms = timed(partial(np.matmul, big_a, big_b), 0)[0] if n <= 256 else float("nan")
        first, steady = timed(partial(mm.exact_integer_product, big_a, big_b), 1)
        row("matmul 2^50-entries (limbs)", f"{n}x{n}", exact_ms, first, steady)

        fa32 = rng.standard_normal((n, n)).astype(np.float32)
        fb32 = rng.standard_normal((n, n)).astype(np.float32)
        numpy_ms = timed(partial(np.matmul, fa32, fb32), repeat)[1]
        first, steady = timed(partial(ready, mm._float32_product, fa32, fb32), repeat)
        row("matmul float32 (JAX kernel)", f"{n}x{n}", numpy_ms, first, steady)


def bench_monte_carlo(samples: list[int], repeat: int) -> None:
    for count in samples:

        def with_numpy(count: int = count) -> int:
            rng = np.random.default_rng(1)
            hits = 0
            for start in range(0, count, monte_carlo_pi.CHUNK):
                size = min(monte_carlo_pi.CHUNK, count - start)
                xy = rng.integers(0, 2**31, (2, size), dtype=np.uint64)
                hits += int(np.count_nonzero(xy[0] * xy[0] + xy[1] * xy[1] < 2**62))
            return hits

        numpy_ms = timed(with_numpy, max(1, repeat // 2))[1]

        def with_jax(count: int = count) -> int:
            return monte_carlo_pi.count_hits(1, count)

        first, steady = timed(with_jax, repeat)
        row("monte_carlo_pi (one compile)", f"{count:,}", numpy_ms, first, steady)


def bench_mlp(batches: list[int], repeat: int) -> None:
    rng = np.random.default_rng(2)
    widths = [256, 512, 512, 10]
    layers = tuple(
        (rng.standard_normal((a, b)).astype(np.float32) / np.sqrt(a),
         rng.standard_normal(b).astype(np.float32))
        for a, b in itertools.pairwise(widths)
    )  # fmt: skip
    for batch in batches:
        x = rng.standard_normal((batch, widths[0])).astype(np.float32)

        def with_numpy(x: np.ndarray = x) -> np.ndarray:
            h = x
            for i, (w, b) in enumerate(layers):
                h = h @ w + b
                if i < len(layers) - 1:
                    h = np.maximum(h, 0)
            return h

        numpy_ms = timed(with_numpy, repeat)[1]

        def with_jax(x: np.ndarray = x) -> Any:
            return mlp_forward.forward(x, layers, "relu", "linear").block_until_ready()

        first, steady = timed(with_jax, repeat)
        row("mlp_forward 256-512-512-10", f"batch {batch}", numpy_ms, first, steady)


@jax.jit
def _batched_f64_product(a: jax.Array, b: jax.Array) -> jax.Array:
    """K exact integer products at once (each within the 2^53 bound), one compiled call."""
    return jnp.einsum("bnm,bmk->bnk", a, b, precision=jax.lax.Precision.HIGHEST)


def bench_batched(count: int, repeat: int) -> None:
    """K payload-sized tasks of one shape: K NumPy calls, K JAX calls, one batched JAX call."""
    rng = np.random.default_rng(3)
    n = 16  # two 16x16 matrices of 3-digit integers: ~2.6 kB of JSON, a typical payload
    a = rng.integers(-999, 999, (count, n, n))
    b = rng.integers(-999, 999, (count, n, n))
    numpy_ms = timed(lambda: [np.matmul(x, y) for x, y in zip(a, b, strict=True)], repeat)[1]
    jobs = [mm.Job(x, y, integer=True) for x, y in zip(a, b, strict=True)]
    first, each = timed(lambda: [mm.exact_integer_product(j.a, j.b) for j in jobs], repeat)
    row(f"matmul int {count} tasks, one by one", f"{count}x{n}x{n}", numpy_ms, first, each)
    with jax.enable_x64(True):
        fa, fb = jnp.asarray(a.astype(np.float64)), jnp.asarray(b.astype(np.float64))
        first, steady = timed(partial(ready, _batched_f64_product, fa, fb), repeat)
    row(f"matmul int {count} tasks, batched", f"{count}x{n}x{n}", numpy_ms, first, steady)

    # A chunk per task: fewer samples still compute one whole chunk (the result's definition).
    samples = monte_carlo_pi.CHUNK
    seeds = np.arange(max(1, count // 8), dtype=np.uint32)

    def numpy_pi() -> int:
        hits = 0
        for seed in seeds:
            xy = np.random.default_rng(int(seed)).integers(0, 2**31, (2, samples), dtype=np.uint64)
            hits += int(np.count_nonzero(xy[0] * xy[0] + xy[1] * xy[1] < 2**62))
        return hits

    numpy_ms = timed(numpy_pi, repeat)[1]
    first, steady = timed(
        lambda: [monte_carlo_pi.count_hits(int(s), samples) for s in seeds], repeat
    )
    tag = f"{len(seeds)}x{samples:,}"
    row(f"monte_carlo {len(seeds)} tasks, one by one", tag, numpy_ms, first, steady)
    batched = jax.jit(jax.vmap(monte_carlo_pi._hits, in_axes=(0, None)))

    def jax_pi() -> Any:
        with jax.enable_x64(True), jax.threefry_partitionable(True):
            return batched(jnp.asarray(seeds), jnp.int64(samples)).block_until_ready()

    first, steady = timed(jax_pi, repeat)
    row(f"monte_carlo {len(seeds)} tasks, batched", tag, numpy_ms, first, steady)
    with jax.enable_x64(True), jax.threefry_partitionable(True):
        expected = [monte_carlo_pi.count_hits(int(s), samples) for s in seeds]
        assert [int(h) for h in batched(jnp.asarray(seeds), jnp.int64(samples))] == expected

    # K tasks of one small network (8-16-16-4, ~3.5 kB of weights), 4 inputs each.
    widths = [8, 16, 16, 4]
    layers = tuple(
        (rng.standard_normal((i, o)).astype(np.float32), rng.standard_normal(o).astype(np.float32))
        for i, o in itertools.pairwise(widths)
    )
    inputs = rng.standard_normal((count, 4, widths[0])).astype(np.float32)

    def numpy_mlp() -> list[Any]:
        out = []
        for x in inputs:
            for i, (w, b) in enumerate(layers):
                x = x @ w + b
                if i < len(layers) - 1:
                    x = np.maximum(x, 0)
            out.append(x)
        return out

    numpy_ms = timed(numpy_mlp, repeat)[1]

    def one_by_one() -> list[Any]:
        return [np.asarray(mlp_forward.forward(x, layers, "relu", "linear")) for x in inputs]

    first, steady = timed(one_by_one, repeat)
    row(f"mlp_forward {count} tasks, one by one", f"{count}x4x8", numpy_ms, first, steady)
    stacked = jax.jit(jax.vmap(partial(mlp_forward.forward, activation="relu", output="linear"),
                               in_axes=(0, None)))  # fmt: skip
    first, steady = timed(lambda: np.asarray(stacked(inputs, layers)), repeat)
    row(f"mlp_forward {count} tasks, batched", f"{count}x4x8", numpy_ms, first, steady)


def bench_peak(repeat: int) -> None:
    """Large matmuls' throughput as a fraction of the device's peak (accelerators only)."""
    device = jax.devices()[0]
    if device.platform == "cpu":
        return
    peak = next((v for k, v in PEAK_FLOPS.items() if k in device.device_kind), None)
    n = 8192
    for dtype, x64 in (("float32", False), ("float64", True)):
        with jax.enable_x64(x64):
            key = jax.random.key(0)
            a = jax.random.normal(key, (n, n), dtype=dtype)
            b = jax.random.normal(jax.random.fold_in(key, 1), (n, n), dtype=dtype)
            product = mm._float32_product if dtype == "float32" else _f64_product
            _, steady = timed(partial(ready, product, a, b), repeat)
        rate = 2 * n**3 / (steady / 1000)
        share = f", {rate / peak[dtype]:.0%} of {peak[dtype] / 1e12:.1f}" if peak else ""
        print(f"matmul {dtype} {n}x{n} on {device.device_kind}: {rate / 1e12:.1f} TFLOP/s{share}")


@jax.jit
def _f64_product(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST)


# --- end to end on a devnet ---

PAYLOADS: list[tuple[str, dict[str, Any]]] = [
    ("matrix_multiplication", {"matrix_a": [[1, 2, 3], [4, 5, 6]], "matrix_b": [[7], [8], [9]]}),
    ("monte_carlo_pi", {"seed": 11, "samples": 100_000}),
    ("mlp_forward",
     {"inputs": [[1.0, -1.0]], "layers": [{"weights": [[1.0], [2.0]], "bias": [0.5]}]}),
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def devnet_process() -> Iterator[str]:
    """``smainer devnet`` in a subprocess (its banner, with keys, to /dev/null); the RPC URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "smainer.cli",
        "devnet",
        "--port",
        str(port),
        "--accounts",
        "4",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}/rpc"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def wait_for_rpc(url: str, timeout: float = 120) -> None:
    client = FullNodeClient(node_url=url)
    deadline = time.monotonic() + timeout
    while True:
        try:
            await client.get_chain_id()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def end_to_end(url: str, tasks: int) -> None:
    await wait_for_rpc(url)
    with tempfile.TemporaryDirectory() as folder:
        manifest_dir = Path(folder)
        settings = get_settings()
        scheduler_account = await _devnet_address(url, 1)
        await deploy_marketplace(
            Network("devnet", url), AccountSettings(), EscrowConfig(scheduler=scheduler_account),
            manifest_dir=manifest_dir, progress=lambda _m: None,
        )  # fmt: skip
        session = await open_session(url, manifest_dir / "devnet.json", manifest_dir, settings)
        demander = (await open_sender(session, settings, 0, poll=0.05))[0]
        scheduler = Scheduler(
            session.reader,
            (await open_sender(session, settings, 1, poll=0.05))[0],
            SchedulerConfig(interval=0.2),
        )
        workers = [
            ProviderWorker(
                session.reader,
                (await open_sender(session, settings, index, poll=0.05))[0],
                Journal(manifest_dir / f"journal-{index}.json", start_block=0),
                WorkerConfig(
                    capabilities=Capabilities(2, False, 4, 8),
                    poll_interval=0.2,
                    heartbeat_interval=600,
                    max_concurrent=2,
                ),
            )
            for index in (2, 3)
        ]
        for worker in workers:  # registered and beating before the clock starts
            await worker.ensure_registered()
            await worker.heartbeat()
        stop = asyncio.Event()
        running = [asyncio.create_task(scheduler.run(stop))]
        running += [asyncio.create_task(w.run(stop)) for w in workers]
        created: dict[int, float] = {}
        completed: dict[int, float] = {}
        requirements = Requirements(min_tier=1, max_execution_time=3600)
        started = time.perf_counter()
        try:
            for i in range(tasks):
                name, payload = PAYLOADS[i % len(PAYLOADS)]
                task = await create_task(
                    session.reader, demander, name, payload, 10**18, requirements
                )
                created[task.task_id] = time.perf_counter()
            while len(completed) < tasks:
                for task_id in created.keys() - completed.keys():
                    status = (await session.reader.get_task(task_id)).status
                    if status == TaskStatus.COMPLETED:
                        completed[task_id] = time.perf_counter()
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.gather(*running, return_exceptions=True)
        elapsed = max(completed.values()) - started
        latency = statistics.median(completed[t] - created[t] for t in created)
        nodes = [(await session.reader.get_task(t)).node for t in created]
        share = [nodes.count(w.node) for w in workers]
        print(
            f"end to end: {tasks} tasks (create, assign, compute, claim) in {elapsed:.1f} s = "
            f"{60 * tasks / elapsed:.1f} tasks/min; median task latency {latency:.2f} s; "
            f"split between the two providers {share}"
        )


async def _devnet_address(url: str, index: int) -> int:
    from smainer.network.accounts import predeployed_accounts

    accounts = await predeployed_accounts(url)
    assert accounts is not None
    return int(accounts[index]["address"], 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--large", action="store_true", help="add 1024x1024 matrices")
    parser.add_argument("--tasks", type=int, default=30, help="tasks in the end-to-end run")
    parser.add_argument("--batch", type=int, default=64, help="tasks in the batched rows")
    parser.add_argument("--no-e2e", action="store_true", help="skip the devnet part")
    parser.add_argument("--only-e2e", action="store_true", help="only the devnet part")
    args = parser.parse_args()
    print(f"JAX {jax.__version__} on {jax.devices()[0].device_kind} ({jax.default_backend()}), "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    if not args.only_e2e:
        print(f"{'case':<34} {'size':>14} {'NumPy ms':>10} {'JAX ms':>10} {'ratio':>9} "
              f"{'compile ms':>10}")  # fmt: skip
        bench_matmul([64, 256, 512] + ([1024] if args.large else []), args.repeat)
        bench_monte_carlo([1 << 20, 1 << 24], args.repeat)
        bench_mlp([256, 4096], args.repeat)
        bench_batched(args.batch, args.repeat)
        bench_peak(args.repeat)
    if not args.no_e2e:
        with devnet_process() as url:
            asyncio.run(end_to_end(url, args.tasks))


if __name__ == "__main__":
    main()
