"""JAX against NumPy for each provider algorithm, at several sizes; compile time apart.

    .venv/bin/python scripts/bench_provider.py [--repeat 5] [--large]

For each case: NumPy's time, JAX's steady-state time (the median of ``--repeat`` runs after the
first), their ratio, and JAX's compile time (the first call minus the steady state), since a
provider compiles a shape once and then reuses it. "JAX kernel" rows time the jitted function
alone; "provider" rows time the algorithm's ``run`` as the worker calls it (conversions from and
to JSON-able values included). ``--large`` adds n=1024 matrices (NumPy's int64 product alone
takes seconds there). Prints the device JAX runs on.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from provider.algorithms import matrix_multiplication as mm
from provider.algorithms import mlp_forward, monte_carlo_pi


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--large", action="store_true", help="add 1024x1024 matrices")
    args = parser.parse_args()
    print(f"JAX {jax.__version__} on {jax.devices()[0].device_kind} ({jax.default_backend()})")
    print(f"{'case':<34} {'size':>14} {'NumPy ms':>10} {'JAX ms':>10} {'ratio':>9} "
          f"{'compile ms':>10}")  # fmt: skip
    bench_matmul([64, 256, 512] + ([1024] if args.large else []), args.repeat)
    bench_monte_carlo([1 << 20, 1 << 24], args.repeat)
    bench_mlp([256, 4096], args.repeat)


if __name__ == "__main__":
    main()
