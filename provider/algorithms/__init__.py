"""The algorithms a provider runs, by the name a payload's ``"algorithm"`` field gives.

Each module is one pure computation with a documented JSON payload and result (see
``docs/provider.md``): ``parse(payload)`` checks the payload and returns a typed job, raising
:class:`~provider.errors.PayloadRejectedError` for anything it will not run; ``run(job)``
computes with JAX (jit-compiled, so cached per input shape) and returns the result as JSON that
fits in a claim; ``cost(job)`` estimates its work and memory from the shapes alone, so the worker
can refuse a task it cannot finish in time or in memory before starting it. Chain calls and I/O
stay outside them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from provider.algorithms import matrix_multiplication, mlp_forward, monte_carlo_pi
from provider.algorithms.cost import Cost
from provider.errors import PayloadRejectedError


@dataclass(frozen=True)
class Algorithm:
    """One registered algorithm: its payload parser, its computation and its cost estimate."""

    name: str
    parse: Callable[[Mapping[str, Any]], Any]
    run: Callable[[Any], dict[str, Any]]
    cost: Callable[[Any], Cost]


REGISTRY: dict[str, Algorithm] = {
    module.NAME: Algorithm(module.NAME, module.parse, module.run, module.cost)
    for module in (matrix_multiplication, monte_carlo_pi, mlp_forward)
}
"""Every algorithm a provider accepts, by name."""


def get_algorithm(payload: Any) -> Algorithm:
    """The algorithm a decoded payload names; rejects a payload that names none we know."""
    if not isinstance(payload, dict):
        raise PayloadRejectedError("payload must be a JSON object")
    name = payload.get("algorithm")
    algorithm = REGISTRY.get(name) if isinstance(name, str) else None
    if algorithm is None:
        raise PayloadRejectedError(f"unknown algorithm {name!r}; known: {sorted(REGISTRY)}")
    return algorithm


def prepare(payload: Any) -> tuple[Algorithm, Any]:
    """Check a decoded payload fully before any compute: its algorithm and its typed job."""
    algorithm = get_algorithm(payload)
    return algorithm, algorithm.parse(payload)


def compute(payload: Any) -> dict[str, Any]:
    """Parse and run a payload: the result JSON (raises PayloadRejectedError if refused)."""
    algorithm, job = prepare(payload)
    return algorithm.run(job)
