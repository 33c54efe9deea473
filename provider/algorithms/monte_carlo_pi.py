"""``monte_carlo_pi``: a seeded Monte Carlo estimate of π, the same answer on every machine.

Payload::

    {"algorithm": "monte_carlo_pi", "seed": 42, "samples": 1000000}

``seed`` is 0..2^32-1, ``samples`` 1..:data:`MAX_SAMPLES`. Result::

    {"algorithm": "monte_carlo_pi", "seed": 42, "samples": 1000000, "hits": 785398,
     "estimate": 3.141592}

``estimate`` is ``4·hits/samples`` as a float64. Only integers decide ``hits``, so it is the
same on any device and any JAX that keeps these rules: points come from ``jax.random`` with a
``threefry2x32`` key of ``seed`` (``jax_threefry_partitionable`` on), in chunks of
:data:`CHUNK` points, chunk i from ``fold_in(key, i)``; each point is two 31-bit integers
(``bits >> 1``) x, y and falls inside the quarter disc when ``x² + y² < 2^62``, computed in
uint64 (a scoped ``jax.enable_x64``), so no floating-point rounding or fused multiply-add can
move a point across the circle. The last chunk counts only its first ``samples mod CHUNK``
points. The chunk loop is a ``fori_loop`` with a traced bound: one compilation serves every
seed and sample count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from provider.algorithms import schema
from provider.algorithms.cost import Cost

NAME = "monte_carlo_pi"
CHUNK = 1 << 20
MAX_SAMPLES = 1 << 32
RADIUS_SQUARED = 1 << 62
FLOPS_PER_SAMPLE = 64
"""Work per point, in flop-equivalents: two threefry words (about 20 integer operations each),
the shifts, squares and comparison. At the CPU's nominal 1 GFLOP/s (:mod:`provider.feasibility`)
``samples · FLOPS_PER_SAMPLE`` is 1 to 4 times what the benchmark measures on a 2-core CPU."""
CHUNK_BYTES = 64 * CHUNK
"""A chunk's arrays at once: the random words, the uint64 coordinates, squares and masks."""


@dataclass(frozen=True)
class Job:
    seed: int
    samples: int


def parse(payload: Mapping[str, Any]) -> Job:
    schema.only_fields(payload, {"seed", "samples"})
    seed = schema.integer(schema.field(payload, "seed"), "seed", 0, 2**32 - 1)
    samples = schema.integer(schema.field(payload, "samples"), "samples", 1, MAX_SAMPLES)
    return Job(seed, samples)


def cost(job: Job) -> Cost:
    """Linear in whole chunks (a last, partial chunk is computed whole); memory is one chunk
    whatever the count (the loop reuses it)."""
    chunks = -(-job.samples // CHUNK)
    return Cost(float(FLOPS_PER_SAMPLE) * chunks * CHUNK, CHUNK_BYTES)


def chunk_points(key: jax.Array, index: jax.Array) -> jax.Array:
    """Chunk ``index``'s points: (2, CHUNK) uint64, each coordinate in [0, 2^31)."""
    bits = jax.random.bits(jax.random.fold_in(key, index), (2, CHUNK), jnp.uint32)
    return (bits >> 1).astype(jnp.uint64)


@jax.jit
def _hits(seed: jax.Array, samples: jax.Array) -> jax.Array:
    key = jax.random.key(seed, impl="threefry2x32")
    chunks = (samples + CHUNK - 1) // CHUNK
    offsets = jnp.arange(CHUNK, dtype=jnp.int64)

    def body(i: jax.Array, total: jax.Array) -> jax.Array:
        xy = chunk_points(key, i.astype(jnp.uint32))
        inside = xy[0] * xy[0] + xy[1] * xy[1] < jnp.uint64(RADIUS_SQUARED)
        counted = inside & (i * CHUNK + offsets < samples)
        return total + jnp.sum(counted, dtype=jnp.int64)

    return jax.lax.fori_loop(jnp.int64(0), chunks, body, jnp.int64(0))


def count_hits(seed: int, samples: int) -> int:
    with jax.enable_x64(True), jax.threefry_partitionable(True):
        return int(_hits(jnp.uint32(seed), jnp.int64(samples)))


def run(job: Job) -> dict[str, Any]:
    hits = count_hits(job.seed, job.samples)
    return {
        "algorithm": NAME,
        "seed": job.seed,
        "samples": job.samples,
        "hits": hits,
        "estimate": 4 * hits / job.samples,
    }
