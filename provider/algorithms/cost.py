"""What a job will cost before it runs: floating-point work and peak memory, from its shapes.

The worker turns a :class:`Cost` into seconds with the node's rate (see
:mod:`provider.feasibility`) and refuses a task it cannot finish before its deadline or within
its ``max_execution_time``, or that would not fit in the node's memory, instead of starting it
and missing the deadline. Estimates are upper bounds in the algorithms' own terms (a float64
multiply-add counts as two flops; a random point of ``monte_carlo_pi`` as
:data:`~provider.algorithms.monte_carlo_pi.FLOPS_PER_SAMPLE`), never measured: a payload must be
judged without running it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cost:
    flops: float
    """Floating-point (or equivalent integer) operations the job performs."""
    memory_bytes: int
    """Peak bytes its arrays take at once (inputs, intermediates, output), with headroom."""
