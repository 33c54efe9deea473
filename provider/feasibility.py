"""Whether this node can run a job in time and in memory: decided before the compute starts.

A task the node cannot finish is better left alone at once than started and missed: the creator
is refunded by ``reclaim_expired`` either way, but a node that starts it holds a compute slot
for nothing and, were it to claim late, the claim would revert. The estimate is

    seconds = flops / rate + compile_seconds

with the algorithm's :class:`~provider.algorithms.cost.Cost` and the node's nominal ``rate``
(flop/s; deliberately low defaults, :data:`CPU_FLOPS` and :data:`ACCELERATOR_FLOPS`,
overridable with ``smainer provider --gflops``). A job is refused when its memory exceeds the
memory the node gives one computation, when the estimate exceeds the task's
``max_execution_time``, or when ``now + seconds + claim_margin`` passes its deadline (the margin
covers sending the claim and its inclusion). Pure functions; the worker reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from provider.algorithms.cost import Cost

CPU_FLOPS = 1e9
"""Nominal rate of a CPU node: below what the benchmark measures on a 2-core machine for every
algorithm (float64 matmul reaches 20-170 GFLOP/s there, ``monte_carlo_pi`` 1-4 GFLOP-eq/s)."""
ACCELERATOR_FLOPS = 1e11
"""Nominal rate when JAX sees a GPU: two orders of magnitude below a current GPU's peak."""
MIB = 1 << 20


@dataclass(frozen=True)
class Budget:
    """What the node may spend on one job."""

    flops_per_second: float = CPU_FLOPS
    compile_seconds: float = 3.0
    """Allowance for the first compilation of a shape (measured: under 1 s on a CPU)."""
    claim_margin: float = 15.0
    """Seconds kept before the deadline to send the claim and see it included."""
    memory_bytes: int | None = None
    """Memory one computation may take: the node's memory over its concurrent computations
    (``None``: not checked)."""

    def seconds(self, cost: Cost) -> float:
        return cost.flops / self.flops_per_second + self.compile_seconds


def refusal(cost: Cost, budget: Budget, max_execution_time: int, seconds_left: float) -> str | None:
    """Why the node will not run a job of ``cost`` (``None``: it will).

    ``seconds_left`` is the task's deadline minus the chain's time now.
    """
    if budget.memory_bytes is not None and cost.memory_bytes > budget.memory_bytes:
        return (
            f"needs ~{cost.memory_bytes / MIB:.1f} MiB; this node gives a computation "
            f"{budget.memory_bytes / MIB:.1f} MiB"
        )
    estimate = budget.seconds(cost)
    if estimate > max_execution_time:
        return (
            f"estimated {estimate:.1f} s exceeds the task's max_execution_time "
            f"({max_execution_time} s)"
        )
    if estimate + budget.claim_margin > seconds_left:
        return (
            f"cannot finish before the deadline: estimated {estimate:.1f} s plus a "
            f"{budget.claim_margin:.0f} s claim margin, {max(0.0, seconds_left):.0f} s left"
        )
    return None
