"""The scheduling policy alone: eligibility, score, rotation between equal nodes."""

from collections import Counter

import pytest

from provider.escrow import Node, NodeStatus, Requirements
from provider.scheduling import (
    REVISIT_AFTER,
    Candidate,
    choose,
    ineligibility,
    reputation,
    score,
)

NOW = 10_000
SILENCE = 900
REQ = Requirements(min_tier=2, gpu_required=False, cpu_threads=4, ram_gb=8)


def node(**changes) -> Node:
    base = {
        "tier": 3, "gpu": False, "cpu_threads": 8, "ram_gb": 16, "status": NodeStatus.ACTIVE,
        "registered_at": 1, "last_heartbeat": NOW - 10, "completed_tasks": 0, "failed_tasks": 0,
        "earnings": 0,
    }  # fmt: skip
    return Node(**{**base, **changes})


def test_every_requirement_and_state_excludes():
    cases = {
        "suspended": node(status=NodeStatus.SUSPENDED),
        "inactive": node(status=NodeStatus.INACTIVE),
        "tier too low": node(tier=1),
        "not enough CPU": node(cpu_threads=2),
        "not enough RAM": node(ram_gb=4),
        "silent": node(last_heartbeat=NOW - SILENCE - 1),
        "never beat": node(last_heartbeat=0),
    }
    for name, n in cases.items():
        assert ineligibility(n, REQ, NOW, SILENCE) is not None, name
    assert ineligibility(node(), REQ, NOW, SILENCE) is None
    gpu = Requirements(gpu_required=True)
    assert ineligibility(node(), gpu, NOW, SILENCE) == "no GPU"
    assert ineligibility(node(gpu=True), gpu, NOW, SILENCE) is None


def test_choose_never_picks_an_ineligible_node():
    candidates = [Candidate(1, node(tier=1)), Candidate(2, node(last_heartbeat=0))]
    assert choose(REQ, candidates, {}, {}, NOW, SILENCE) is None
    candidates.append(Candidate(3, node(completed_tasks=0, failed_tasks=50)))
    assert choose(REQ, candidates, {}, {}, NOW, SILENCE) == 3


def test_reputation_prior_and_score():
    assert reputation(node()) == 0.8
    assert reputation(node(completed_tasks=98)) > reputation(node(completed_tasks=8))
    assert reputation(node(failed_tasks=10)) < 0.3
    fresh, stale = node(last_heartbeat=NOW), node(last_heartbeat=NOW - SILENCE)
    assert score(fresh, 0, NOW, SILENCE) == 0.8
    assert score(stale, 0, NOW, SILENCE) == pytest.approx(0.8 * 0.9)
    assert score(fresh, 1, NOW, SILENCE) == score(fresh, 0, NOW, SILENCE) / 2


def test_nodes_that_all_deliver_share_tasks_arriving_one_at_a_time():
    """Each task completed before the next arrives (loads back to 0), the nodes' heartbeats at
    different points of the window: still turns, not one node taking everything."""
    nodes = {10: node(last_heartbeat=NOW - 5), 20: node(last_heartbeat=NOW - SILENCE // 3)}
    last: dict[int, float] = {}
    picks = []
    for step in range(12):
        candidates = [Candidate(a, n) for a, n in nodes.items()]
        chosen = choose(REQ, candidates, {}, last, NOW, SILENCE)
        assert chosen is not None
        picks.append(chosen)
        last[chosen] = step
        done = nodes[chosen]
        nodes[chosen] = node(
            last_heartbeat=done.last_heartbeat, completed_tasks=done.completed_tasks + 1
        )
    assert Counter(picks) == {10: 6, 20: 6}


def test_a_failure_counts():
    reliable, failed = Candidate(1, node(completed_tasks=3)), Candidate(2, node(failed_tasks=1))
    for _ in range(3):
        assert choose(REQ, [failed, reliable], {}, {1: 5.0}, NOW, SILENCE) == 1


def test_equal_nodes_share_tasks_in_turn():
    candidates = [Candidate(a, node()) for a in (30, 10, 20)]
    loads: dict[int, int] = {}
    last: dict[int, float] = {}
    picks = []
    for step in range(9):
        chosen = choose(REQ, candidates, loads, last, NOW, SILENCE)
        assert chosen is not None
        picks.append(chosen)
        loads[chosen] = loads.get(chosen, 0) + 1
        last[chosen] = step
    assert picks[:3] == [10, 20, 30]
    assert Counter(picks) == {10: 3, 20: 3, 30: 3}
    # Loads drained (tasks completed): rotation alone keeps taking turns.
    loads.clear()
    assert choose(REQ, candidates, loads, last, NOW, SILENCE) == picks[-3]


def test_a_better_node_wins_until_loaded():
    good, new = Candidate(1, node(completed_tasks=40)), Candidate(2, node())
    assert choose(REQ, [good, new], {}, {}, NOW, SILENCE) == 1
    assert choose(REQ, [good, new], {1: 1}, {}, NOW, SILENCE) == 2


def test_a_node_whose_first_task_expired_gets_second_chances_and_recovers():
    """Node 10's first task expires; without second chances node 20, which delivered, would
    take every later task (0.667 is out of the tie band) and 10 could never recover."""
    # (Without them: picks == [10] + [20] * 59.)
    nodes = {10: node(), 20: node()}
    last: dict[int, float] = {}
    picks = []
    for step in range(1, 61):
        candidates = [Candidate(a, n) for a, n in nodes.items()]
        chosen = choose(REQ, candidates, {}, last, NOW, SILENCE)
        assert chosen is not None
        picks.append(chosen)
        last[chosen] = step
        done = nodes[chosen]
        failed = step == 1
        nodes[chosen] = node(
            completed_tasks=done.completed_tasks + (not failed),
            failed_tasks=done.failed_tasks + failed,
        )
    assert picks[0] == 10
    first_return = picks.index(10, 1)
    assert first_return <= 1 + REVISIT_AFTER + 1
    # Every REVISIT_AFTER + 1 tasks at least one, and its completions count again.
    assert picks.count(10) >= len(picks) // (REVISIT_AFTER + 1)
    assert reputation(nodes[10]) > reputation(node(failed_tasks=1))


def test_a_node_that_fails_most_tasks_gets_no_second_chance():
    bad = Candidate(2, node(completed_tasks=0, failed_tasks=4))
    good = Candidate(1, node(completed_tasks=10))
    last = {1: 100.0}
    assert choose(REQ, [good, bad], {}, last, NOW, SILENCE) == 1
