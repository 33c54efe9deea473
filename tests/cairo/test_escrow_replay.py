"""The escrow's events replay into exactly what its views show (the indexer's contract).

tests/cairo/replay_model.py folds the escrow's raw events into tasks, nodes, per-user task
lists, earnings and settings. The stateful test (test_escrow_stateful.py) holds that replay
against every view after every step of its random histories. This module pins it down on one
scripted history that emits every escrow event (fee split changed between a task's creation
and its claim, a node suspended while Inactive and reinstated Inactive, roles and ownership
moved, tokens rescued, a creator who is also a node, the escrow upgraded in place), and shows
that the comparison has teeth:

* the replay of the history equals the views, field by field;
* the raw-felt decoder (docs/protocol.md's layout) agrees with the ABI's decoder on every
  event;
* replays with one rule broken (the mutants below: what an indexer could plausibly get wrong)
  disagree with the views or reject the log, so a wrong replay cannot pass.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from smainer.engine import CallResult, Event
from smainer.payload import encode_json, payload_hash
from tests.cairo.replay_model import (
    EVENT_LAYOUTS,
    NODE_ACTIVE,
    TASK_ASSIGNED,
    TASK_COMPLETED,
    TASK_EXPIRED,
    EscrowReplay,
    EscrowView,
    ReplayedTask,
    ReplayError,
    decode,
    differences,
    read_views,
)
from tests.cairo.test_escrow_stateful import (
    ALICE,
    BOB,
    CAROL,
    CREATORS,
    NODE_1,
    NODE_2,
    NODE_3,
    NODE_CANDIDATES,
    OWNER,
    SCHEDULER,
    STRANGER,
    TREASURY,
    _deployment,
)

pytestmark = pytest.mark.slow

PAYLOAD = encode_json({"op": "matmul", "n": 64})
RESULT = [7, 8, 9]


def requirements(max_execution_time: int = 3600) -> dict[str, Any]:
    return {
        "min_tier": 1,
        "gpu_required": False,
        "cpu_threads": 2,
        "ram_gb": 4,
        "max_execution_time": max_execution_time,
    }


@dataclass(frozen=True)
class History:
    log: tuple[Event, ...]  # the escrow's events, its constructor's first
    views: EscrowView  # every view after the history
    users: tuple[int, ...]
    nodes: tuple[int, ...]
    status_only: tuple[int, ...]

    def replay(self, replay_class: type[EscrowReplay] = EscrowReplay) -> EscrowView:
        return replay_class.from_events(self.log).view(self.users, self.nodes, self.status_only)


@functools.cache
def _history() -> History:
    """Runs the scripted history on the stateful test's deployment (restored from its
    snapshot) and reads every view at the end."""
    deployment = _deployment()
    market = deployment.market
    chain, escrow, other = market.chain, market.escrow, deployment.other
    chain.restore(deployment.snapshot)
    log = list(deployment.log)

    def call(caller: int, fn: str, contract: Any = escrow, **kwargs: Any) -> CallResult:
        result: CallResult = contract.invoke(fn, caller=caller, **kwargs)
        log.extend(e for e in result.events if e.from_address == escrow.address)
        return result

    def create(creator: int, amount: int, max_execution_time: int = 3600) -> int:
        result = call(
            creator,
            "create_task",
            kind=1,
            payload=PAYLOAD,
            requirements=requirements(max_execution_time),
            amount=amount,
        )
        task_id: int = escrow.decode("create_task", result.retdata)
        return task_id

    def submit(node: int, task_id: int) -> None:
        call(
            node,
            "submit_proof_and_claim",
            task_id=task_id,
            result_hash=payload_hash(RESULT),
            result=RESULT,
        )

    owner, scheduler = OWNER.address, SCHEDULER.address
    t1 = create(ALICE.address, 10**20 + 1999)  # paid by the deployment's 9300/200/500
    call(owner, "set_fee_config", provider_bps=7000, gas_bps=1000, treasury_bps=2000)
    t2 = create(BOB.address, 12_345)  # 7000/1000/2000 from here on
    t3 = create(NODE_1.address, 19)  # a creator who is also a node
    call(scheduler, "assign_task", task_id=t1, node=NODE_1.address)
    call(scheduler, "assign_task", task_id=t2, node=NODE_2.address)
    call(NODE_1.address, "heartbeat")
    chain.advance_time(60)
    call(NODE_2.address, "deactivate_node")  # Inactive, still holding t2
    call(owner, "suspend_node", node=NODE_2.address)
    call(owner, "set_fee_config", provider_bps=10000, gas_bps=0, treasury_bps=0)
    submit(NODE_1.address, t1)  # still split 9300/200/500
    call(owner, "set_max_execution_time", seconds=365 * 24 * 3600)
    t4 = create(ALICE.address, 10**6, max_execution_time=365 * 24 * 3600)  # split 10000/0/0
    chain.advance_time(3600)
    call(STRANGER.address, "reclaim_expired", task_id=t2)  # NODE_2 fails it
    call(owner, "reinstate_node", node=NODE_2.address)  # back to Inactive
    call(NODE_1.address, "cancel_task", task_id=t3)
    call(owner, "set_scheduler", new_scheduler=ALICE.address)
    call(owner, "set_treasury", new_treasury=BOB.address)
    call(owner, "set_gas_recipient", new_gas_recipient=NODE_3.address)
    call(owner, "pause")
    call(owner, "unpause")
    call(CAROL.address, "transfer", contract=market.token, recipient=escrow.address, amount=1000)
    call(owner, "rescue_tokens", token=market.token.address, to=STRANGER.address, amount=1777)
    call(owner, "rescue_tokens", token=other.address, to=TREASURY.address, amount=5)
    call(owner, "set_fee_config", provider_bps=8000, gas_bps=500, treasury_bps=1500)
    t5 = create(ALICE.address, 10**9)  # split 8000/500/1500, paid to the new payees
    call(ALICE.address, "assign_task", task_id=t4, node=NODE_1.address)
    call(ALICE.address, "assign_task", task_id=t5, node=NODE_1.address)
    submit(NODE_1.address, t5)
    call(owner, "transfer_ownership", new_owner=BOB.address)
    call(owner, "transfer_ownership", new_owner=0)  # cancelled
    call(owner, "transfer_ownership", new_owner=ALICE.address)
    call(ALICE.address, "accept_ownership")
    call(ALICE.address, "upgrade", new_class_hash=chain.get_class_hash_at(escrow.address))
    call(ALICE.address, "register_node", tier=3, gpu=True, cpu_threads=8, ram_gb=16)

    replay = EscrowReplay.from_events(log)
    users = sorted({a.address for a in CREATORS} | replay.known_users())
    nodes = sorted(replay.known_nodes())
    status_only = sorted({a.address for a in NODE_CANDIDATES} - set(nodes))
    views = read_views(escrow, users, nodes, status_only)
    assert views.tasks[t4]["status"] == TASK_ASSIGNED  # 365 days to go
    return History(tuple(log), views, tuple(users), tuple(nodes), tuple(status_only))


def test_history_emits_every_escrow_event():
    names = [decode(e).name for e in _history().log]
    assert names[0] == "EscrowInitialized"
    assert set(names) == set(EVENT_LAYOUTS)


def test_replay_equals_the_views():
    history = _history()
    wrong = differences(history.replay(), history.views)
    assert not wrong, "\n".join(wrong)
    # The fee terms are the creation's, not the current ones.
    fees = [history.views.tasks[i]["fees"]["provider_bps"] for i in sorted(history.views.tasks)]
    assert fees == [9300, 7000, 7000, 10000, 8000]
    assert history.views.settings["get_fee_config"]["provider_bps"] == 8000
    assert history.views.nodes[NODE_2.address]["status"] == 2  # reinstated Inactive


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value


def test_raw_layout_agrees_with_the_abi_decoder():
    """docs/protocol.md's felt layout, which the replay reads, is the one the ABI describes."""
    escrow = _deployment().market.escrow
    for event in _history().log:
        raw = decode(event)
        abi = escrow.decode_event(event)
        assert raw.name == abi.name
        assert _plain(raw.fields) == _plain(dict(abi.values)), raw.name


# ------------------------------------------------------------------------------- mutants
# Replays with one rule wrong. Each must make the comparison fail (or the replay reject the
# log), or the stateful test's replay check could not catch that mistake either.


class IgnoresReinstatedStatus(EscrowReplay):
    """Reinstates every node Active (the escrow's old rule)."""

    def _on_NodeReinstated(self, node: int, status: int) -> None:
        super()._on_NodeReinstated(node, NODE_ACTIVE)


class SplitsAtClaimTime(EscrowReplay):
    """Ignores the fees in TaskCreated: a task pays by the configuration current at its claim."""

    def _on_FeeConfigUpdated(self, provider_bps: int, gas_bps: int, treasury_bps: int) -> None:
        super()._on_FeeConfigUpdated(provider_bps, gas_bps, treasury_bps)
        for task in self.tasks.values():
            if task.status != TASK_COMPLETED:
                task.fees = dict(self.fees)


class IgnoresHeartbeats(EscrowReplay):
    def _on_NodeHeartbeat(self, node: int, timestamp: int) -> None:
        pass


class ForgetsFailures(EscrowReplay):
    """Expires the task but does not count the failure against its node."""

    def _on_TaskExpired(self, task_id: int, node: int, creator: int, refund: int) -> None:
        task: ReplayedTask = self._task(task_id, TASK_EXPIRED, creator=creator, node=node)
        task.status = TASK_EXPIRED


class KeepsPendingOwner(EscrowReplay):
    """Forgets that accepting ownership clears the pending owner."""

    def _on_OwnershipTransferred(self, previous_owner: int, new_owner: int) -> None:
        pending = self.pending_owner
        super()._on_OwnershipTransferred(previous_owner, new_owner)
        self.pending_owner = pending


class IgnoresMaxExecutionTime(EscrowReplay):
    def _on_MaxExecutionTimeUpdated(self, old: int, new: int) -> None:
        pass


class CountsCancelledAsEscrowed(EscrowReplay):
    def escrowed_amount(self) -> int:
        return sum(t.amount for t in self.tasks.values() if t.status != TASK_COMPLETED)


@pytest.mark.parametrize(
    "mutant",
    [
        IgnoresReinstatedStatus,
        SplitsAtClaimTime,
        IgnoresHeartbeats,
        ForgetsFailures,
        KeepsPendingOwner,
        IgnoresMaxExecutionTime,
        CountsCancelledAsEscrowed,
    ],
)
def test_a_broken_replay_is_caught(mutant: type[EscrowReplay]):
    history = _history()
    try:
        wrong = differences(history.replay(mutant), history.views)
    except ReplayError as exc:  # the log itself contradicts the broken rule
        wrong = [str(exc)]
    assert wrong, f"{mutant.__name__} replays into the same views"


def test_the_replay_needs_the_constructor_event():
    with pytest.raises(ReplayError, match="before EscrowInitialized"):
        EscrowReplay.from_events(_history().log[1:])
