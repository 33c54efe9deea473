"""The cost model and the refusal rule: what a node will not start, and why."""

import pytest

from provider.algorithms import prepare
from provider.algorithms.cost import Cost
from provider.feasibility import Budget, refusal

BUDGET = Budget(flops_per_second=1e9, compile_seconds=5, claim_margin=30, memory_bytes=1 << 30)


def cost_of(payload: dict) -> Cost:
    algorithm, job = prepare(payload)
    return algorithm.cost(job)


def test_costs_follow_the_shapes():
    small = cost_of({"algorithm": "matrix_multiplication", "matrix_a": [[1] * 4] * 3,
                     "matrix_b": [[1] * 5] * 4})  # fmt: skip
    assert small.flops == 2 * 3 * 4 * 5
    # Past 2^53 the entries split into limbs: the work grows with each pair of limbs.
    wide = cost_of({"algorithm": "matrix_multiplication", "matrix_a": [[2**100] * 4] * 3,
                    "matrix_b": [[2**100] * 5] * 4})  # fmt: skip
    assert wide.flops >= 4 * small.flops
    assert wide.memory_bytes > small.memory_bytes
    # Whole chunks of 2^20 points: a partial chunk costs a whole one.
    pi = cost_of({"algorithm": "monte_carlo_pi", "seed": 1, "samples": 1000})
    assert cost_of({"algorithm": "monte_carlo_pi", "seed": 1, "samples": 1 << 20}) == pi
    twice = cost_of({"algorithm": "monte_carlo_pi", "seed": 1, "samples": (1 << 20) + 1})
    assert twice.flops == 2 * pi.flops
    net = cost_of({"algorithm": "mlp_forward", "inputs": [[1.0, 2.0]] * 3,
                   "layers": [{"weights": [[1.0] * 4] * 2, "bias": [0.0] * 4}]})  # fmt: skip
    assert net.flops == 2 * 3 * 2 * 4


def test_a_feasible_job_is_taken():
    assert refusal(Cost(1e9, 1 << 20), BUDGET, max_execution_time=60, seconds_left=60) is None


@pytest.mark.parametrize(
    ("cost", "max_time", "left", "match"),
    [
        (Cost(1, 2 << 30), 3600, 3600, "needs ~2048.0 MiB"),
        (Cost(100e9, 1), 60, 3600, "exceeds the task's max_execution_time"),
        (Cost(10e9, 1), 3600, 44, "cannot finish before the deadline"),
        (Cost(0, 1), 3600, -5, "cannot finish before the deadline"),
    ],
)
def test_refused_jobs_say_why(cost, max_time, left, match):
    why = refusal(cost, BUDGET, max_execution_time=max_time, seconds_left=left)
    assert why is not None
    assert match in why


def test_unchecked_memory_and_the_boundary():
    unlimited = Budget(flops_per_second=1e9, compile_seconds=5, claim_margin=30)
    assert refusal(Cost(10e9, 1 << 40), unlimited, max_execution_time=3600, seconds_left=45) is None
    assert refusal(Cost(10e9, 1), unlimited, max_execution_time=3600, seconds_left=44.9)
