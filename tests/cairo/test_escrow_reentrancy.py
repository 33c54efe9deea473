"""The escrow against a payment token that misbehaves on purpose, run in the in-process engine.

The token is test-only: ``tests/cairo/fixtures/evil_token.cairo`` (compiled JSON next to it, see
:func:`load_evil_token`). A second Escrow, paid in that token, is deployed on a chain of its own.
Checked here (docs/protocol.md, cairo/escrow.cairo):

* the reentrancy guard: a token that calls back into the escrow from inside ``transfer_from``
  (``create_task``) or ``transfer`` (``cancel_task``, ``submit_proof_and_claim``,
  ``reclaim_expired``, ``rescue_tokens``) gets ``REENTRANT_CALL``, and nothing is kept;
* effects and events before the token call: a re-entry that is allowed (a view) already sees the
  final state, and the escrow's event comes before the token's ``Transfer`` in the log;
* a token that returns false: every one of those functions reverts with ``TRANSFER_FAILED``.

What the engine does with a failing nested call: it runs cairo-lang 0.14.0.1 with
``support_reverted=False`` (smainer/engine/execution.py), so a contract cannot catch a failed
inner call. The token's ``call_contract_syscall`` never returns ``Err``; the whole top-level call
fails, and ``ExecutionRevertedError.reason`` is the innermost panic, the escrow's
``REENTRANT_CALL``, with ``failed_address`` the escrow. The token's "swallow" mode (ignore the
``Err``, finish the transfer) therefore ends exactly like its "propagate" mode here, and both are
tested to revert. ``test_engine_aborts_the_whole_call_when_a_nested_call_fails`` pins that down:
if the engine ever lets contracts catch failed inner calls, it fails, and the swallow cases must
then expect the outer call to succeed with the re-entry refused (e.g. ``create_task`` keeps its
task Open, logs ``TaskCreated`` and the token's ``Transfer`` and no ``TaskCancelled``, and
``escrowed_amount()`` includes it).
"""

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smainer.artifacts import load_contract
from smainer.class_hash import sierra_class_hash
from smainer.engine import CallResult, Chain, Snapshot
from smainer.engine.contract import DeployedContract
from smainer.payload import encode_json, payload_hash
from smainer.sandbox import ONE_TOKEN, FeeSplit, Roles
from tests.cairo.conftest import START_TIME
from tests.cairo.helpers import (
    ALICE,
    BOB,
    DEFAULT_NODE_SPEC,
    DEFAULT_PAYLOAD,
    NODE,
    STRANGER,
    requirements,
    reverts,
    sel,
    u256,
)

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]

FUNDS = 1000 * ONE_TOKEN
SURPLUS = 7 * ONE_TOKEN  # sent to the escrow outside any task: what rescue_tokens may move
RESULT = encode_json({"exit_code": 0})
SHORT = 60  # max_execution_time of the tasks that expire
ROLES = Roles()

# The task ids of the scene (see `_scene`), and the amount of each task.
OUTER_OPEN, INNER_OPEN, CLAIMABLE, OUTER_EXPIRED, INNER_EXPIRED = 1, 2, 3, 4, 5
NEXT_TASK = 6
AMOUNTS = {task_id: task_id * 11 * ONE_TOKEN for task_id in range(1, NEXT_TASK + 1)}


def load_evil_token() -> tuple[dict[str, Any], dict[str, Any]]:
    r"""The compiled test-only token ``fixtures/evil_token.cairo``: (Sierra, CASM) JSON.

    The JSON is committed (Cairo 2.12, the Sierra compiler's Python hints for the engine, compact
    JSON). To regenerate after editing the source, from the repository root::

        F=tests/cairo/fixtures/evil_token
        ../shared/tools/cairo-2.12-compile --allow-warnings --single-file $F.cairo $F.sierra.json
        $(.venv/bin/python -c "import os, starkware.starknet.compiler.v1 as m; \
print(os.path.dirname(m.__file__))")/sierra-compiler-major-1/bin/starknet-sierra-compile \
--add-pythonic-hints $F.sierra.json $F.casm.json
        .venv/bin/python -c "import json, pathlib, sys; [p.write_text(json.dumps(json.loads(\
p.read_text()), separators=(',', ':')) + '\n') for p in map(pathlib.Path, sys.argv[1:])]" \
$F.sierra.json $F.casm.json

    The source must also build with the pinned Cairo 2.1.0 (``smainer build`` fetches it)::

        ~/.cache/smainer/toolchains/cairo-2.1.0/bin/starknet-compile --single-file \
$F.cairo /tmp/evil_token.json

    ``test_fixture_matches_its_source`` and ``test_fixture_builds_with_cairo_2_1`` check both
    where those compilers are present.
    """
    sierra = json.loads((FIXTURES / "evil_token.sierra.json").read_text())
    casm = json.loads((FIXTURES / "evil_token.casm.json").read_text())
    return sierra, casm


@dataclass
class Scene:
    """The evil token and an Escrow paid in it, with tasks in every state a test needs."""

    chain: Chain
    token: DeployedContract
    escrow: DeployedContract

    @property
    def evil(self) -> int:
        """The token's address: it creates the tasks it later cancels from inside a call."""
        return self.token.address

    def arm(self, name: str, *, swallow: bool = False, **kwargs: Any) -> None:
        """Make the token's next transfer call the escrow's ``name`` (as the token)."""
        self.token.invoke(
            "arm",
            target=self.escrow.address,
            selector=sel(name),
            calldata=self.escrow.calldata(name, **kwargs),
            swallow=swallow,
        )

    def escrowed(self) -> int:
        amount: int = self.escrow.call("escrowed_amount")
        return amount

    def status(self, task_id: int) -> int:
        status: int = self.escrow.call("get_task", task_id=task_id)["status"]
        return status


def _create(scene: Scene, creator: int, task_id: int, **changes: Any) -> CallResult:
    return scene.escrow.invoke(
        "create_task",
        kind=1,
        payload=list(DEFAULT_PAYLOAD),
        requirements=requirements(**changes),
        amount=AMOUNTS[task_id],
        caller=creator,
    )


@pytest.fixture(scope="module")
def _scene() -> tuple[Scene, Snapshot]:
    """Built once: tasks 1, 2 Open (created by the token), 3 Assigned to NODE and claimable,
    4, 5 Assigned and expired (created by ALICE), and SURPLUS tokens in the escrow."""
    chain = Chain()
    chain.set_block(number=1, timestamp=START_TIME)
    sierra, casm = load_evil_token()
    class_hash = sierra_class_hash(sierra)
    chain.declare(class_hash, casm, sierra)
    token, _ = DeployedContract.deploy(chain, class_hash, sierra, salt=1)
    artifact = load_contract("Escrow")
    chain.declare(
        artifact.class_hash,
        artifact.casm,
        artifact.sierra,
        compiled_class_hash=artifact.compiled_class_hash,
    )
    fees = FeeSplit()
    escrow, _ = DeployedContract.deploy(
        chain,
        artifact.class_hash,
        artifact.sierra,
        salt=2,
        owner=ROLES.owner,
        payment_token=token.address,
        scheduler=ROLES.scheduler,
        treasury=ROLES.treasury,
        gas_recipient=ROLES.gas_recipient,
        provider_bps=fees.provider_bps,
        gas_bps=fees.gas_bps,
        treasury_bps=fees.treasury_bps,
    )
    scene = Scene(chain, token, escrow)
    for holder in (scene.evil, ALICE):
        token.invoke("mint", recipient=holder, amount=FUNDS)
    spec: dict[str, Any] = dict(DEFAULT_NODE_SPEC)
    escrow.invoke("register_node", caller=NODE, **spec)
    _create(scene, scene.evil, OUTER_OPEN)
    _create(scene, scene.evil, INNER_OPEN)
    _create(scene, ALICE, CLAIMABLE)
    _create(scene, ALICE, OUTER_EXPIRED, max_execution_time=SHORT)
    _create(scene, ALICE, INNER_EXPIRED, max_execution_time=SHORT)
    for task_id in (CLAIMABLE, OUTER_EXPIRED, INNER_EXPIRED):
        escrow.invoke("assign_task", task_id=task_id, node=NODE, caller=ROLES.scheduler)
    chain.advance_time(SHORT + 1)
    token.invoke("mint", recipient=escrow.address, amount=SURPLUS)
    return scene, chain.snapshot()


@pytest.fixture
def scene(_scene: tuple[Scene, Snapshot]) -> Scene:
    built, snapshot = _scene
    built.chain.restore(snapshot)
    return built


def test_scene(scene: Scene) -> None:
    """The tasks are where the other tests need them, and the token is honest by default."""
    assert [scene.status(t) for t in range(1, NEXT_TASK)] == [1, 1, 2, 2, 2]
    assert scene.escrowed() == sum(AMOUNTS[t] for t in range(1, NEXT_TASK))
    held: int = scene.token.call("balance_of", account=scene.escrow.address)
    assert held == scene.escrowed() + SURPLUS
    assert not scene.token.call("is_armed")


# ---------------------------------------------------------------- the operations


def _create_task(scene: Scene) -> CallResult:
    return _create(scene, scene.evil, NEXT_TASK)


def _cancel_task(scene: Scene) -> CallResult:
    return scene.escrow.invoke("cancel_task", task_id=OUTER_OPEN, caller=scene.evil)


def _claim(scene: Scene) -> CallResult:
    return scene.escrow.invoke(
        "submit_proof_and_claim",
        task_id=CLAIMABLE,
        result_hash=payload_hash(RESULT),
        result=list(RESULT),
        caller=NODE,
    )


def _reclaim_expired(scene: Scene) -> CallResult:
    return scene.escrow.invoke("reclaim_expired", task_id=OUTER_EXPIRED, caller=STRANGER)


def _rescue_tokens(scene: Scene) -> CallResult:
    return scene.escrow.invoke(
        "rescue_tokens", token=scene.evil, to=BOB, amount=SURPLUS, caller=ROLES.owner
    )


Operation = Callable[[Scene], CallResult]

# Every escrow function that calls the token, and the token function it calls.
OPERATIONS: dict[str, Operation] = {
    "create_task": _create_task,  # transfer_from
    "cancel_task": _cancel_task,  # transfer
    "submit_proof_and_claim": _claim,  # transfer (three payouts)
    "reclaim_expired": _reclaim_expired,  # transfer
    "rescue_tokens": _rescue_tokens,  # transfer
}

# Re-entries that would succeed if the guard let them in (the token is the creator of
# INNER_OPEN; anyone may reclaim an expired task), as (entry point, arguments).
REENTRIES: dict[str, tuple[str, dict[str, Any]]] = {
    "cancel_task": ("cancel_task", {"task_id": INNER_OPEN}),
    "reclaim_expired": ("reclaim_expired", {"task_id": INNER_EXPIRED}),
    "create_task": (
        "create_task",
        {
            "kind": 2,
            "payload": list(DEFAULT_PAYLOAD),
            "requirements": requirements(),
            "amount": ONE_TOKEN,
        },
    ),
}

MODES = pytest.mark.parametrize("swallow", [False, True], ids=["propagate", "swallow"])


# ---------------------------------------------------------------- reentrancy guard


@MODES
def test_reentrant_cancel_of_the_task_being_created_is_refused(scene: Scene, swallow: bool) -> None:
    """The issue's case: ``cancel_task(N)`` from inside ``create_task``'s ``transfer_from``.

    Task N is Open by then (effects come first), so without the guard the cancel would go
    through and the log would hold TaskCancelled(N) inside TaskCreated(N)'s transaction.
    """
    scene.arm("cancel_task", swallow=swallow, task_id=NEXT_TASK)
    with reverts(scene.chain, "REENTRANT_CALL") as info:
        _create_task(scene)
    assert info.value.failed_address == scene.escrow.address
    assert scene.token.call("is_armed")  # the disarm was rolled back with everything else
    assert scene.escrow.call("get_task_count") == NEXT_TASK - 1


@MODES
@pytest.mark.parametrize("reentry", sorted(REENTRIES))
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_reentry_is_refused(scene: Scene, operation: str, reentry: str, swallow: bool) -> None:
    """Each token-calling function, re-entered from its token call: the call reverts whole."""
    name, kwargs = REENTRIES[reentry]
    scene.arm(name, swallow=swallow, **kwargs)
    with reverts(scene.chain, "REENTRANT_CALL") as info:
        OPERATIONS[operation](scene)
    assert info.value.failed_address == scene.escrow.address


# What a view re-entered from the token call returns, for each operation: the task it changes
# (or, for rescue_tokens, the escrowed total), read through the escrow's views.
VIEWS: dict[str, tuple[str, dict[str, Any]]] = {
    "create_task": ("get_task", {"task_id": NEXT_TASK}),
    "cancel_task": ("get_task", {"task_id": OUTER_OPEN}),
    "submit_proof_and_claim": ("get_task", {"task_id": CLAIMABLE}),
    "reclaim_expired": ("get_task", {"task_id": OUTER_EXPIRED}),
    "rescue_tokens": ("escrowed_amount", {}),
}
FIRST_EVENT = {
    "create_task": "TaskCreated",
    "cancel_task": "TaskCancelled",
    "submit_proof_and_claim": "TaskCompleted",
    "reclaim_expired": "TaskExpired",
    "rescue_tokens": "TokensRescued",
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_token_call_comes_after_every_effect_and_event(scene: Scene, operation: str) -> None:
    """A re-entry the guard allows (a view) runs, and already sees the final state; the
    escrow's event is logged before the token's first ``Transfer``.

    Also the control of the tests above: the armed token does call back into the escrow.
    """
    view, kwargs = VIEWS[operation]
    scene.arm(view, **kwargs)
    result = OPERATIONS[operation](scene)
    assert not scene.token.call("is_armed")
    assert scene.token.call("last_reentry_ok")
    after = scene.chain.call(scene.escrow.address, view, scene.escrow.calldata(view, **kwargs))
    assert scene.token.call("last_reentry_data") == after.retdata
    first = (scene.escrow.address, sel(FIRST_EVENT[operation]))
    transfer = (scene.evil, sel("Transfer"))
    logged = [(event.from_address, event.keys[0]) for event in result.events]
    assert logged == [first] + [transfer] * (len(logged) - 1)
    assert len(logged) >= 2


def test_create_task_log_and_escrowed_amount(scene: Scene) -> None:
    """What the refused re-entry leaves intact: TaskCreated then the token's Transfer, the task
    Open and counted in ``escrowed_amount()``."""
    before = scene.escrowed()
    result = _create_task(scene)
    assert scene.escrow.decode("create_task", result.retdata) == NEXT_TASK
    assert [(e.from_address, e.keys[0]) for e in result.events] == [
        (scene.escrow.address, sel("TaskCreated")),
        (scene.evil, sel("Transfer")),
    ]
    assert result.events[1].keys[1:] == [scene.evil, scene.escrow.address]
    assert result.events[1].data == u256(AMOUNTS[NEXT_TASK])
    assert scene.status(NEXT_TASK) == 1
    assert scene.escrowed() == before + AMOUNTS[NEXT_TASK]


def test_engine_aborts_the_whole_call_when_a_nested_call_fails(scene: Scene) -> None:
    """The engine gives a contract no ``Err`` for a failed inner call: even the swallowing token
    fails, with the inner reason (see the module docstring)."""
    scene.arm("cancel_task", swallow=True, task_id=999)
    with reverts(scene.chain, "TASK_NOT_FOUND") as info:
        scene.token.invoke("transfer", recipient=BOB, amount=1, caller=ALICE)
    assert info.value.failed_address == scene.escrow.address


# ---------------------------------------------------------------- a token that returns false


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_token_returning_false_reverts(scene: Scene, operation: str) -> None:
    scene.token.invoke("set_fail", fail=True)
    with reverts(scene.chain, "TRANSFER_FAILED") as info:
        OPERATIONS[operation](scene)
    assert info.value.failed_address == scene.escrow.address


# ---------------------------------------------------------------- the fixture's own build

SHARED = Path(os.environ.get("SMAINER_SHARED_DIR", REPO.parent / "shared"))
CAIRO_2_12 = SHARED / "tools" / "cairo-2.12-compile"
CAIRO_2_1 = (
    Path(os.environ.get("SMAINER_CACHE_DIR", Path.home() / ".cache" / "smainer"))
    / "toolchains"
    / "cairo-2.1.0"
    / "bin"
    / "starknet-compile"
)


def _compile(command: list[str], out: Path) -> dict[str, Any]:
    done = subprocess.run(
        [*command, str(FIXTURES / "evil_token.cairo"), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{command[0]} rejected evil_token.cairo:\n{done.stderr}"
    data: dict[str, Any] = json.loads(out.read_text())
    return data


@pytest.mark.compiler
@pytest.mark.slow
@pytest.mark.skipif(not CAIRO_2_12.exists(), reason=f"no Cairo 2.12 script at {CAIRO_2_12}")
def test_fixture_matches_its_source(tmp_path: Path) -> None:
    """The committed Sierra is what Cairo 2.12 makes of evil_token.cairo today."""
    sierra = _compile([str(CAIRO_2_12), "--allow-warnings", "--single-file"], tmp_path / "s.json")
    assert sierra == load_evil_token()[0], "stale fixture: regenerate (see load_evil_token)"


@pytest.mark.compiler
@pytest.mark.slow
@pytest.mark.skipif(not CAIRO_2_1.exists(), reason=f"no Cairo 2.1.0 compiler at {CAIRO_2_1}")
def test_fixture_builds_with_cairo_2_1(tmp_path: Path) -> None:
    """The pinned compiler accepts the source too, with the same entry points."""
    sierra = _compile([str(CAIRO_2_1), "--single-file"], tmp_path / "s.json")
    assert _selectors(sierra) == _selectors(load_evil_token()[0])


def _selectors(sierra: dict[str, Any]) -> dict[str, set[str]]:
    return {
        kind: {entry["selector"] for entry in entries}
        for kind, entries in sierra["entry_points_by_type"].items()
    }
