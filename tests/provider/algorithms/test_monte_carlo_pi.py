"""monte_carlo_pi: integer hit counting checked with NumPy on the same random bits."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from provider.algorithms import compute
from provider.algorithms.monte_carlo_pi import CHUNK, RADIUS_SQUARED, chunk_points
from provider.errors import PayloadRejectedError


def numpy_hits(seed: int, samples: int) -> int:
    with jax.enable_x64(True), jax.threefry_partitionable(True):
        key = jax.random.key(seed, impl="threefry2x32")
        hits = 0
        for index in range(-(-samples // CHUNK)):
            xy = np.asarray(chunk_points(key, jnp.uint32(index)))[:, : samples - index * CHUNK]
            hits += int(np.count_nonzero(xy[0] * xy[0] + xy[1] * xy[1] < RADIUS_SQUARED))
    return hits


@pytest.mark.parametrize(("seed", "samples"), [(0, 1), (7, 1000), (42, 2 * CHUNK + 12345)])
def test_hits_match_numpy(seed, samples):
    result = compute({"algorithm": "monte_carlo_pi", "seed": seed, "samples": samples})
    assert result["hits"] == numpy_hits(seed, samples)
    assert result["estimate"] == 4 * result["hits"] / samples


def test_estimate_is_close_to_pi_and_deterministic():
    payload = {"algorithm": "monte_carlo_pi", "seed": 2026, "samples": 4 * CHUNK}
    first, second = compute(payload), compute(payload)
    assert first == second
    sigma = 4 * math.sqrt(math.pi / 4 * (1 - math.pi / 4) / (4 * CHUNK))
    assert abs(first["estimate"] - math.pi) < 5 * sigma


def test_different_seeds_differ():
    a = compute({"algorithm": "monte_carlo_pi", "seed": 1, "samples": 10000})
    b = compute({"algorithm": "monte_carlo_pi", "seed": 2, "samples": 10000})
    assert a["hits"] != b["hits"]


@pytest.mark.parametrize(
    "payload",
    [
        {"seed": -1, "samples": 10},
        {"seed": 2**32, "samples": 10},
        {"seed": 1, "samples": 0},
        {"seed": 1, "samples": 2**40},
        {"seed": 1.5, "samples": 10},
        {"samples": 10},
    ],
)
def test_bad_payloads_are_rejected(payload):
    with pytest.raises(PayloadRejectedError):
        compute({"algorithm": "monte_carlo_pi", **payload})
