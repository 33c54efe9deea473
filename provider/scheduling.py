"""Which node gets a task: eligibility, the score, and fair rotation. Pure functions, no chain.

A node is **eligible** for a task when it is Active, meets every requirement the escrow checks
(tier, GPU, CPU threads, RAM) and has sent a heartbeat within ``max_silence`` seconds of chain
time (a node that never beat is silent). Among eligible nodes the scheduler takes the highest

    score = reputation · freshness / (1 + load)

- ``reputation = (completed + 2) / (completed + failed + 3)``: the completed share with a Beta(2, 1)
  prior, so a new node starts at 2/3, one that always delivers tends to 1, one that lets tasks
  expire falls towards 0;
- ``freshness = 1 - age / (2 · max_silence)``, from 1 (beat just now) to 1/2 (about to go silent);
- ``load``: tasks this node holds Assigned now (the scheduler's own view, counting the ones it
  assigns in the same round).

**Fair rotation**: nodes within :data:`TIE_TOLERANCE` of the best score are equals; among them
the one assigned least recently wins (never assigned first, then by address). With the load in
the score, equal nodes take turns even within one round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from provider.escrow import Node, NodeStatus, Requirements

TIE_TOLERANCE = 0.05
"""Scores within 5 % of the best count as equal, so rotation decides between them."""
PRIOR_COMPLETED = 2
PRIOR_FAILED = 1


@dataclass(frozen=True)
class Candidate:
    address: int
    node: Node


def ineligibility(node: Node, requirements: Requirements, now: int, max_silence: int) -> str | None:
    """Why ``node`` cannot take a task with ``requirements`` (``None``: it can)."""
    if node.status != NodeStatus.ACTIVE:
        return f"node is {node.status.name.lower()}"
    if node.tier < requirements.min_tier:
        return "tier too low"
    if requirements.gpu_required and not node.gpu:
        return "no GPU"
    if node.cpu_threads < requirements.cpu_threads:
        return "not enough CPU threads"
    if node.ram_gb < requirements.ram_gb:
        return "not enough RAM"
    if node.last_heartbeat == 0 or now - node.last_heartbeat > max_silence:
        return "silent (no recent heartbeat)"
    return None


def reputation(node: Node) -> float:
    return (node.completed_tasks + PRIOR_COMPLETED) / (
        node.completed_tasks + node.failed_tasks + PRIOR_COMPLETED + PRIOR_FAILED
    )


def score(node: Node, load: int, now: int, max_silence: int) -> float:
    age = max(0, now - node.last_heartbeat)
    freshness = 1 - age / (2 * max_silence)
    return reputation(node) * freshness / (1 + load)


def choose(
    requirements: Requirements,
    candidates: Sequence[Candidate],
    loads: Mapping[int, int],
    last_assigned: Mapping[int, float],
    now: int,
    max_silence: int,
) -> int | None:
    """The address of the node to assign, or ``None`` when no node is eligible."""
    scored = [
        (score(c.node, loads.get(c.address, 0), now, max_silence), c.address)
        for c in candidates
        if ineligibility(c.node, requirements, now, max_silence) is None
    ]
    if not scored:
        return None
    best = max(s for s, _ in scored)
    equals = [address for s, address in scored if s >= best * (1 - TIE_TOLERANCE)]
    return min(equals, key=lambda a: (last_assigned.get(a, -1.0), a))
