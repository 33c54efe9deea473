"""The engine's speedups give the same results as stock cairo-lang on the real marketplace.

Every scenario runs twice on the same chain state, once with ``speedups.disabled()`` and once
with them on, and everything observable is compared: return data, events, steps, memory holes,
builtin counters, gas, and for reverted calls the reason, panic data, steps and trace. Each
Cairo run inside the call tree is compared too (steps, holes, builtins and the effective segment
sizes), so differences cannot cancel out in the per-call totals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starkware.cairo.common.structs import CairoStructFactory
from starkware.cairo.lang.vm.cairo_runner import CairoRunner
from starkware.cairo.lang.vm.relocatable import RelocatableValue
from starkware.crypto.signature.signature import ALPHA, EC_GEN, FIELD_PRIME
from starkware.python import math_utils
from starkware.starknet.core.os.syscall_utils import get_syscall_structs

from smainer.engine import ExecutionRevertedError, speedups, vm_step
from smainer.payload import encode_json, payload_hash
from smainer.sandbox import ONE_TOKEN, Marketplace, deploy_sandbox

USER, NODE, OTHER = 0xA11, 0xB0D, 0xC0C
REQUIREMENTS = {
    "min_tier": 1,
    "gpu_required": False,
    "cpu_threads": 2,
    "ram_gb": 4,
    "max_execution_time": 600,
}
PAYLOAD = encode_json({"algorithm": "matrix_multiplication", "matrix_a": [[1, 2], [3, 4]]})
RESULT = encode_json([[19, 22], [43, 50]])


@pytest.fixture(scope="module")
def market() -> Marketplace:
    return deploy_sandbox()


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Per Cairo run (nested calls included): the resources and effective segment sizes."""
    recorded: list[tuple[object, ...]] = []
    original = CairoRunner.get_execution_resources

    def recording(self: CairoRunner) -> Any:
        resources = original(self)
        recorded.append(
            (
                resources.n_steps,
                resources.n_memory_holes,
                dict(resources.builtin_instance_counter),
                dict(self.segments._segment_used_sizes or {}),
                len(self.accessed_addresses or ()),
            )
        )
        return resources

    monkeypatch.setattr(CairoRunner, "get_execution_resources", recording)
    return recorded


def _outcome(operation: Callable[[], Any]) -> object:
    try:
        return operation()
    except ExecutionRevertedError as error:
        return (
            "reverted",
            error.reason,
            error.panic_data,
            error.steps,
            error.trace,
            error.failed_address,
        )


def _scenario(market: Marketplace) -> Iterator[tuple[str, Callable[[], Any]]]:
    escrow, token = market.escrow, market.token
    yield "fund", lambda: market.fund(USER, 1000 * ONE_TOKEN)
    yield "balance_of", lambda: market.chain.call(token.address, "balance_of", [USER])
    yield (
        "create_task",
        lambda: escrow.invoke(
            "create_task",
            kind=1,
            payload=PAYLOAD,
            requirements=REQUIREMENTS,
            amount=10 * ONE_TOKEN,
            caller=USER,
        ),
    )
    yield (
        "register_node",
        lambda: escrow.invoke(
            "register_node", tier=3, gpu=True, cpu_threads=8, ram_gb=32, caller=NODE
        ),
    )
    yield "heartbeat", lambda: escrow.invoke("heartbeat", caller=NODE)
    yield (
        "assign_task",
        lambda: escrow.invoke("assign_task", task_id=1, node=NODE, caller=market.roles.scheduler),
    )
    yield (
        "submit by the wrong node (reverts)",
        lambda: escrow.invoke(
            "submit_proof_and_claim",
            task_id=1,
            result_hash=payload_hash(RESULT),
            result=RESULT,
            caller=OTHER,
        ),
    )
    yield (
        "heartbeat of an unknown node (reverts)",
        lambda: escrow.invoke("heartbeat", caller=OTHER),
    )
    yield (
        "transfer beyond the balance (inner call reverts)",
        lambda: token.invoke("transfer", recipient=NODE, amount=10**30, caller=OTHER),
    )
    yield (
        "submit_proof_and_claim",
        lambda: escrow.invoke(
            "submit_proof_and_claim",
            task_id=1,
            result_hash=payload_hash(RESULT),
            result=RESULT,
            caller=NODE,
        ),
    )
    yield (
        "get_task",
        lambda: market.chain.call(escrow.address, "get_task", escrow.calldata("get_task", 1)),
    )


def _run(market: Marketplace, runs: list[tuple[object, ...]]) -> list[tuple[str, object, object]]:
    start = market.chain.snapshot()
    results: list[tuple[str, object, object]] = []
    for name, operation in _scenario(market):
        runs.clear()
        outcome = _outcome(operation)
        results.append((name, outcome, list(runs)))
    market.chain.restore(start)
    return results


def test_escrow_results_are_identical_with_and_without_speedups(
    market: Marketplace, runs: list[tuple[object, ...]]
) -> None:
    with speedups.disabled():
        stock = _run(market, runs)
    assert speedups.is_enabled()
    fast = _run(market, runs)
    assert [name for name, _, _ in fast] == [name for name, _, _ in stock]
    for (name, outcome, per_run), (_, stock_outcome, stock_per_run) in zip(
        fast, stock, strict=True
    ):
        assert outcome == stock_outcome, name
        assert per_run == stock_per_run, name
    outcomes = {name: outcome for name, outcome, _ in fast}
    # The scenario really covers what it claims to.
    assert not _reverted(outcomes["create_task"])
    assert _reverted(outcomes["submit by the wrong node (reverts)"])
    assert _reverted(outcomes["heartbeat of an unknown node (reverts)"])
    assert _reverted(outcomes["transfer beyond the balance (inner call reverts)"])
    assert not _reverted(outcomes["submit_proof_and_claim"])


def _reverted(outcome: object) -> bool:
    return isinstance(outcome, tuple) and outcome[:1] == ("reverted",)


@pytest.mark.parametrize("lever", ["program_cells", "structs", "step"])
def test_each_lever_alone_keeps_results(
    market: Marketplace, runs: list[tuple[object, ...]], lever: str
) -> None:
    fast = _run(market, runs)
    speedups._disabled_levers.add(lever)
    try:
        without = _run(market, runs)
    finally:
        speedups._disabled_levers.discard(lever)
    assert without == fast


def test_program_cells_lever_narrows_the_scans(market: Marketplace) -> None:
    """With lever 7 on, an ended run records the run-added cells and they exclude the program."""
    seen: list[tuple[int, int, int]] = []
    original = CairoRunner.get_execution_resources

    def spy(self: CairoRunner) -> Any:
        known, rest = self._smainer_run
        seen.append((known.size, len(rest), len(self.memory.data)))
        return original(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CairoRunner, "get_execution_resources", spy)
        market.chain.call(market.token.address, "balance_of", [USER])
    assert len(seen) == 1
    size, rest, total = seen[0]
    assert size > 1000
    assert 0 < rest < size
    assert rest + size == total


def test_struct_cache_only_for_the_syscall_factory(market: Marketplace) -> None:
    market.chain.call(market.token.address, "balance_of", [USER])  # registers the factory
    structs = get_syscall_structs()
    assert structs.ResponseHeader.build() is structs.ResponseHeader.build()
    header = structs.ResponseHeader(gas=5, failure_flag=0)
    with speedups.disabled():
        assert structs.ResponseHeader.build() is not structs.ResponseHeader.build()
        assert structs.ResponseHeader(gas=5, failure_flag=0) == header
    factory = structs.factory
    other = CairoStructFactory(factory.identifiers, main_scope=factory.main_scopes[0]).structs
    assert other.ResponseHeader.build() is not other.ResponseHeader.build()


def _far_program_cell(runner: CairoRunner) -> tuple[Any, Any]:
    return runner.program_base + len(runner.program.data) + 10, 1


def _invalid_pointer(runner: CairoRunner) -> tuple[Any, Any]:
    return runner.execution_base + 5000, RelocatableValue(999, 0)


def _range_check_gap(runner: CairoRunner) -> tuple[Any, Any]:
    return runner.builtin_runners["range_check_builtin"].base + 500, 1


@pytest.mark.parametrize("fault", [_far_program_cell, _invalid_pointer, _range_check_gap])
def test_cells_written_during_the_run_are_still_checked(
    market: Marketplace, fault: Callable[[CairoRunner], tuple[Any, Any]]
) -> None:
    """A bad cell written during the run (here by a test hook, right before ``end_run``) fails
    the call the same way with and without speedups."""
    original = CairoRunner.run_until_pc

    def run_then_write(self: CairoRunner, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        address, value = fault(self)
        self.memory[address] = value

    def attempt() -> object:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(CairoRunner, "run_until_pc", run_then_write)
            return _outcome(lambda: market.chain.call(market.token.address, "balance_of", [USER]))

    with speedups.disabled():
        stock = attempt()
    fast = attempt()
    assert _reverted(stock)
    assert fast == stock


def test_fast_step_runs_most_steps_and_leaves_hints_to_stock(market: Marketplace) -> None:
    """Lever 14 really runs (most steps of a call), and never at a pc with hints."""
    fast: list[int] = []
    stock: list[int] = []
    original = vm_step.step

    def counting(vm: Any, prepared: vm_step.Prepared) -> bool:
        offset = vm.run_context.pc.offset - prepared.base_offset
        ran = original(vm, prepared)
        (fast if ran else stock).append(offset)
        if offset in prepared.hinted:
            assert not ran
        return ran

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vm_step, "step", counting)
        start = market.chain.snapshot()
        market.fund(USER, ONE_TOKEN)
        market.chain.restore(start)
    assert len(fast) > 4 * len(stock) > 0


def _conflicting_frame_cell(runner: CairoRunner) -> None:
    """A value at a cell the entry point writes early (its frame, just above ap)."""
    runner.memory[runner.vm.run_context.ap + 2] = 123456789


def _builtin_output_conflict(runner: CairoRunner) -> None:
    """A wrong value where the range-check builtin's next instance will be checked."""
    base = runner.builtin_runners["range_check_builtin"].base
    runner.memory[base] = 2**200


@pytest.mark.parametrize("fault", [_conflicting_frame_cell, _builtin_output_conflict])
def test_failing_steps_fail_the_same_way(
    market: Marketplace, fault: Callable[[CairoRunner], None]
) -> None:
    """A cell set before the run (by a test hook) makes a step fail: the same error, reason and
    trace with the fast step as with stock cairo-lang."""
    original = CairoRunner.run_until_pc

    def write_then_run(self: CairoRunner, *args: Any, **kwargs: Any) -> None:
        fault(self)
        original(self, *args, **kwargs)

    def attempt() -> object:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(CairoRunner, "run_until_pc", write_then_run)
            return _outcome(lambda: market.chain.call(market.token.address, "balance_of", [USER]))

    with speedups.disabled():
        stock = attempt()
    fast = attempt()
    assert _reverted(stock)
    assert fast == stock


@pytest.mark.parametrize("max_steps", [1, 150, 1500])
def test_step_limits_stop_runs_the_same_way(market: Marketplace, max_steps: int) -> None:
    """Lever 15's inlined loop: a step limit hit at several points of ``create_task`` (whose
    nested token call shares the resources) fails the same way, with the same steps and trace,
    as stock; a generous limit changes nothing."""

    def attempt(limit: int | None) -> object:
        start = market.chain.snapshot()
        market.fund(USER, 1000 * ONE_TOKEN)
        market.chain.max_steps = limit
        try:
            return _outcome(
                lambda: market.escrow.invoke(
                    "create_task",
                    kind=1,
                    payload=PAYLOAD,
                    requirements=REQUIREMENTS,
                    amount=10 * ONE_TOKEN,
                    caller=USER,
                )
            )
        finally:
            market.chain.max_steps = None
            market.chain.restore(start)

    with speedups.disabled():
        stock = attempt(max_steps)
    fast = attempt(max_steps)
    assert _reverted(stock)
    assert fast == stock
    assert not _reverted(attempt(10**6))


# Levers 10-12 replace field arithmetic with C or closed forms: same answers as stock, checked
# on random and edge inputs (errors included), except ec_op's documented prover-side check.


felts = st.integers(min_value=0, max_value=FIELD_PRIME - 1)


def _outcome_of(function, *args):
    try:
        return ("ok", function(*args))
    except Exception as exc:
        return ("error", type(exc).__name__)


@settings(max_examples=60)
@given(st.one_of(felts, felts.map(lambda n: n * n % FIELD_PRIME), st.sampled_from([0, 1, 4])))
def test_field_sqrt_matches_stock(n):
    assert _outcome_of(speedups._sqrt, n, FIELD_PRIME) == _outcome_of(
        speedups._stock_sqrt, n, FIELD_PRIME
    )


@settings(max_examples=60)
@given(
    st.one_of(
        felts,
        felts.map(lambda n: n * n % FIELD_PRIME),
        st.integers(min_value=-(2**300), max_value=2**300),
        st.sampled_from([0, 1, 2, FIELD_PRIME, FIELD_PRIME + 1, -1]),
    )
)
def test_quad_residue_matches_stock(n):
    assert speedups._is_quad_residue(n, FIELD_PRIME) == speedups._stock_is_quad_residue(
        n, FIELD_PRIME
    )
    assert math_utils.is_quad_residue is speedups._is_quad_residue  # installed


@settings(max_examples=60)
@given(felts, felts)
def test_pedersen_matches_stock(x, y):
    assert _outcome_of(speedups._pedersen_hash, x, y) == _outcome_of(
        speedups._stock_pedersen_hash, x, y
    )


@settings(max_examples=25)
@given(
    st.integers(min_value=1, max_value=2**250),
    st.integers(min_value=1, max_value=2**250),
    st.one_of(st.integers(min_value=0, max_value=2**128), felts),
)
def test_ec_op_matches_stock_wherever_stock_succeeds(p_scalar, q_scalar, m):
    p = math_utils.ec_mult(p_scalar, EC_GEN, ALPHA, FIELD_PRIME)
    q = math_utils.ec_mult(q_scalar, EC_GEN, ALPHA, FIELD_PRIME)
    args = (*p, *q, m, ALPHA, FIELD_PRIME, 256)
    stock = _outcome_of(speedups._stock_ec_op_impl, *args)
    if stock[0] == "ok":
        assert _outcome_of(speedups._ec_op_impl, *args) == stock
