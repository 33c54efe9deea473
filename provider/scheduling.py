"""Which node gets a task: eligibility, the score, and fair rotation. Pure functions, no chain.

A node is **eligible** for a task when it is Active, meets every requirement the escrow checks
(tier, GPU, CPU threads, RAM) and has sent a heartbeat within ``max_silence`` seconds of chain
time (a node that never beat is silent). Among eligible nodes the scheduler takes the highest

    score = reputation · freshness / (1 + load)

- ``reputation``: :func:`smainer.reputation.reputation`, the completed share with a Beta(4, 1)
  prior (a new node starts at 0.8; one more completion moves a node by at most 4.2 %, inside
  the tie tolerance, so nodes that all deliver stay equals and keep taking turns, while a
  single failure, 0.8 to 0.667, counts);
- ``freshness = 1 - 0.1 · age / max_silence``, from 1 (beat just now) to 0.9 (about to go
  silent): liveness is mainly the gate (silent nodes are never chosen); within the window a
  recent heartbeat only nudges, so heartbeat phases do not decide who gets the work;
- ``load``: tasks this node holds Assigned now (the scheduler's own view, counting the ones it
  assigns in the same round).

**Fair rotation**: nodes within :data:`TIE_TOLERANCE` of the best score are equals; among them
the one assigned least recently wins (never assigned first, then by address). With the load in
the score, equal nodes take turns even within one round; with tasks trickling in one at a time
(loads back to 0 between them), rotation alone shares them.

**Second chances**: a node passed over for :data:`REVISIT_AFTER` assignments in a row counts as
an equal of the best while its reputation is at least :data:`REVISIT_FLOOR`. Without it a node
whose first task expired (0.8 to 0.667) would never be chosen again beside one that delivered,
so it could never earn its reputation back; with it, it gets about one task in nine until its
completions bring it back within the tie band. A node failing most of its tasks gets none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from provider.escrow import Node, NodeStatus, Requirements
from smainer import reputation as ranking

TIE_TOLERANCE = 0.10
"""Scores within 10 % of the best count as equal, so rotation decides between them: more than
one completion's step of reputation (4.2 %) times the widest freshness gap between two nodes
beating every ``max_silence / 3`` (3.4 %)."""
REVISIT_AFTER = 8
"""Assignments to other nodes after which a passed-over node gets a second chance."""

REVISIT_FLOOR = 0.5
"""The reputation below which a node gets no second chances (it fails more than it delivers,
beyond what the prior forgives)."""

FRESHNESS_WEIGHT = 0.1
"""How much a heartbeat at the edge of the liveness window costs in the score."""


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
    return ranking.reputation(node.completed_tasks, node.failed_tasks)


def score(node: Node, load: int, now: int, max_silence: int) -> float:
    age = max(0, now - node.last_heartbeat)
    freshness = 1 - FRESHNESS_WEIGHT * min(age, max_silence) / max_silence
    return reputation(node) * freshness / (1 + load)


def choose(
    requirements: Requirements,
    candidates: Sequence[Candidate],
    loads: Mapping[int, int],
    last_assigned: Mapping[int, float],
    now: int,
    max_silence: int,
) -> int | None:
    """The address of the node to assign, or ``None`` when no node is eligible.

    ``last_assigned`` maps a node to the sequence number of its last assignment (the scheduler
    counts them): it orders the rotation and counts how long a node has been passed over."""
    eligible = [
        c for c in candidates if ineligibility(c.node, requirements, now, max_silence) is None
    ]
    if not eligible:
        return None
    scored = {c.address: score(c.node, loads.get(c.address, 0), now, max_silence) for c in eligible}
    best = max(scored.values())
    latest = max(last_assigned.values(), default=0.0)
    equals = [
        c.address
        for c in eligible
        if scored[c.address] >= best * (1 - TIE_TOLERANCE)
        or (
            latest - last_assigned.get(c.address, 0.0) >= REVISIT_AFTER
            and reputation(c.node) >= REVISIT_FLOOR
            and loads.get(c.address, 0) == 0
        )
    ]
    return min(equals, key=lambda a: (last_assigned.get(a, -1.0), a))
