"""Run one Cairo 1 entry point over an :class:`~smainer.engine.state.OverlayState` with cairo-lang.

This is the only module that subclasses cairo-lang's execution classes; :mod:`.chain` talks to it
through :func:`run_entry_point` and gets back plain engine types or an engine error.

* :class:`_EntryPoint` is cairo-lang's ``ExecuteEntryPoint`` with ``_execute`` copied from 0.14.0.1
  and changed in three places: it builds the runnable ``Program`` through :mod:`.speedups` (cached
  per class when speedups are on), it uses :class:`_SyscallHandler`, and it records the steps of a
  run cut short by an exception (so a reverted call can still be charged). ``execute`` records
  each failing call's panic data before raising, so the innermost reason survives cairo-lang
  turning it into a text trace. Nested calls made through syscalls use the same classes, because
  the handler instantiates ``type(entry_point)``.
* :class:`_SyscallHandler` fills ``TxInfo`` from the engine's :class:`~.types.TxContext`
  (cairo-lang fills the v3 fields with zeros and takes ``chain_id`` from an enum) and implements
  ``get_class_hash_at``.

Inner-call failures are not catchable by the calling contract here (``support_reverted=False``):
the whole top-level call fails, as on Starknet before inner-call reverts existed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from starkware.cairo.common.cairo_function_runner import (
    CairoFunctionRunner,
)
from starkware.cairo.lang.vm.cairo_pie import (
    ExecutionResourcesStone,
)
from starkware.cairo.lang.vm.relocatable import (
    MaybeRelocatable,
    RelocatableValue,
)
from starkware.cairo.lang.vm.utils import (
    ResourcesError,
    RunResources,
)
from starkware.starknet.builtins.segment_arena.segment_arena_builtin_runner import (
    SegmentArenaBuiltinRunner,
)
from starkware.starknet.business_logic.execution.deprecated_objects import (
    ExecutionResourcesManager,
)
from starkware.starknet.business_logic.execution.execute_entry_point import (
    ExecuteEntryPoint,
    clean_leaks,
)
from starkware.starknet.business_logic.execution.objects import (
    CallInfo,
    CallType,
    TransactionExecutionContext,
)
from starkware.starknet.business_logic.utils import (
    get_call_result,
    validate_contract_deployed,
)
from starkware.starknet.core.os import os_utils
from starkware.starknet.core.os.bl_syscall_handler import (
    BusinessLogicSyscallHandler,
)
from starkware.starknet.core.os.execution.account_backward_compatibility import (
    get_v1_bound_accounts_cairo1,
    get_v1_bound_accounts_max_tip,
)
from starkware.starknet.definitions import constants
from starkware.starknet.definitions.constants import (
    VERSIONED_CONSTANTS,
    GasCost,
)
from starkware.starknet.definitions.error_codes import (
    CairoErrorCode,
    StarknetErrorCode,
)
from starkware.starknet.definitions.execution_mode import (
    ExecutionMode,
)
from starkware.starknet.definitions.general_config import (
    STARKNET_LAYOUT_INSTANCE,
    StarknetGeneralConfig,
)
from starkware.starknet.services.api.contract_class.contract_class import (
    CompiledClass,
)
from starkware.starknet.services.api.contract_class.contract_class import (
    EntryPointType as CairoEntryPointType,
)
from starkware.starkware_utils.error_handling import (
    StarkException,
    wrap_with_stark_exception,
)

from smainer.engine import speedups
from smainer.engine.errors import ExecutionRevertedError
from smainer.engine.panic import decode_reason
from smainer.engine.state import OverlayState
from smainer.engine.types import (
    CallNode,
    CallResult,
    EntryPointType,
    Event,
    L2ToL1Message,
    TxContext,
)

__all__ = [
    "DEFAULT_INITIAL_GAS",
    "DEFAULT_MAX_STEPS",
    "Failure",
    "run_entry_point",
    "version_seen_by",
]

DEFAULT_MAX_STEPS: int = int(VERSIONED_CONSTANTS.invoke_tx_max_n_steps)
"""Step limit of one top-level call unless the caller gives one (Starknet's invoke limit)."""

DEFAULT_INITIAL_GAS: int = int(GasCost.DEFAULT_INITIAL.value)
"""Sierra gas a top-level call starts with unless the caller gives some (cairo-lang's default)."""

# A copy of Starknet's layout that also knows the segment_arena builtin; built once, not per call.
_LAYOUT = dataclasses.replace(
    STARKNET_LAYOUT_INSTANCE,
    builtins={**STARKNET_LAYOUT_INSTANCE.builtins, "segment_arena": {}},
)

_ENTRY_POINT_TYPES = {
    EntryPointType.EXTERNAL: CairoEntryPointType.EXTERNAL,
    EntryPointType.L1_HANDLER: CairoEntryPointType.L1_HANDLER,
    EntryPointType.CONSTRUCTOR: CairoEntryPointType.CONSTRUCTOR,
}
_ENGINE_ENTRY_POINT_TYPES = {cairo: ours for ours, cairo in _ENTRY_POINT_TYPES.items()}

_QUERY_BIT = 2**128
"""Added to a transaction's version when it is only a query (estimate, simulation)."""


def version_seen_by(class_hash: int, version: int, tip: int) -> int:
    """The ``tx_info.version`` a contract of ``class_hash`` is shown, as Starknet's OS shows it.

    Accounts written before v3 transactions (OpenZeppelin's 0.8.0 among them) assert version 1;
    Starknet keeps them usable by showing a v3 transaction as version 1 (keeping the query bit) to
    the classes listed in ``os_constants.v1_bound_accounts_cairo1`` of cairo-lang's
    ``versioned_constants.json``, as long as the tip is at most ``v1_bound_accounts_max_tip``.
    """
    query = version & _QUERY_BIT
    if (
        version - query == 3
        and class_hash in get_v1_bound_accounts_cairo1()
        and tip <= get_v1_bound_accounts_max_tip()
    ):
        return query + 1
    return version


@dataclass
class Failure:
    """One failing call in the call tree, innermost first."""

    contract_address: int
    panic_data: list[int]


@dataclass
class _Tracking:
    """Per-top-level-call bookkeeping shared by every nested call through the tx context."""

    tx: TxContext
    chain_id: int
    max_steps: int
    failures: list[Failure] = field(default_factory=list)
    interrupted_steps: int = 0


@dataclasses.dataclass
class _ExecutionContext(TransactionExecutionContext):
    """cairo-lang's tx context plus the engine's tracking (it is shared by all nested calls)."""

    tracking: Any = None


class _SyscallHandler(BusinessLogicSyscallHandler):
    """Business-logic syscall handler that reports the engine's tx info and class hashes."""

    def _get_execution_info_ptr(self) -> RelocatableValue:
        cached: RelocatableValue | None = getattr(self, "_execution_info_ptr", None)
        if cached is None:
            tracking: _Tracking = self.tx_execution_context.tracking
            tx = tracking.tx
            block_info = self.storage.state.block_info
            if self._is_validate_execution_mode():
                # Starknet rounds block info in __validate__ so validation cannot depend on it.
                block = self.structs.BlockInfo(
                    block_number=_round_down(
                        block_info.block_number, constants.VALIDATE_BLOCK_NUMBER_ROUNDING
                    ),
                    block_timestamp=_round_down(
                        block_info.block_timestamp, constants.VALIDATE_TIMESTAMP_ROUNDING
                    ),
                    sequencer_address=0,
                )
            else:
                block = self.structs.BlockInfo(
                    block_number=block_info.block_number,
                    block_timestamp=block_info.block_timestamp,
                    sequencer_address=block_info.sequencer_address or 0,
                )
            signature = self.allocate_segment(data=list(tx.signature))
            bounds = self.allocate_segment(
                data=[
                    value
                    for bound in tx.resource_bounds
                    for value in (bound.resource, bound.max_amount, bound.max_price_per_unit)
                ]
            )
            paymaster = self.allocate_segment(data=list(tx.paymaster_data))
            deployment = self.allocate_segment(data=list(tx.account_deployment_data))
            # engine: v1-bound accounts see a v3 transaction as version 1 (as on Starknet).
            class_hash = self.entry_point.class_hash or self._get_class_hash_at(
                self.entry_point.contract_address
            )
            tx_info = self.structs.TxInfo(
                version=version_seen_by(class_hash, tx.version, tx.tip),
                account_contract_address=tx.account_address,
                max_fee=tx.max_fee,
                signature_start=signature,
                signature_end=signature + len(tx.signature),
                transaction_hash=tx.transaction_hash,
                chain_id=tracking.chain_id,
                nonce=tx.nonce,
                resource_bounds_start=bounds,
                resource_bounds_end=bounds + 3 * len(tx.resource_bounds),
                tip=tx.tip,
                paymaster_data_start=paymaster,
                paymaster_data_end=paymaster + len(tx.paymaster_data),
                nonce_data_availability_mode=tx.nonce_data_availability_mode,
                fee_data_availability_mode=tx.fee_data_availability_mode,
                account_deployment_data_start=deployment,
                account_deployment_data_end=deployment + len(tx.account_deployment_data),
            )
            execution_info = self.structs.ExecutionInfo(
                block_info=self.allocate_segment(data=block),
                tx_info=self.allocate_segment(data=tx_info),
                caller_address=self.entry_point.caller_address,
                contract_address=self.entry_point.contract_address,
                selector=self.entry_point.entry_point_selector,
            )
            cached = self._execution_info_ptr = self.allocate_segment(data=execution_info)
        return cached

    def _get_class_hash_at(self, contract_address: int) -> int:
        return int(self.state.get_class_hash_at(contract_address=contract_address))


def _round_down(value: int, step: int) -> int:
    return (value // step) * step


class _EntryPoint(ExecuteEntryPoint):
    """``ExecuteEntryPoint`` that records failures and uses the engine's handler and caches."""

    def execute(
        self,
        state: Any,
        resources_manager: Any,
        tx_execution_context: Any,
        general_config: Any,
        support_reverted: bool = False,
    ) -> Any:
        validate_contract_deployed(state=state, contract_address=self.contract_address)
        class_hash = self._get_non_optional_class_hash(
            state=state, tx_execution_context=tx_execution_context
        )
        compiled_class = state.get_compiled_class_by_class_hash(class_hash=class_hash)
        assert isinstance(compiled_class, CompiledClass), "Cairo 0 classes are not supported."
        call_info = self._execute(
            class_hash=class_hash,
            compiled_class=compiled_class,
            state=state,
            resources_manager=resources_manager,
            general_config=general_config,
            tx_execution_context=tx_execution_context,
            support_reverted=support_reverted,
        )
        if support_reverted or call_info.failure_flag == 0:
            return call_info
        tracking: _Tracking = tx_execution_context.tracking
        tracking.failures.append(Failure(self.contract_address, list(call_info.retdata)))
        raise StarkException(
            code=StarknetErrorCode.TRANSACTION_FAILED,
            message=f"Execution was reverted; failure reason: {list(map(hex, call_info.retdata))}.",
        )

    def _execute(
        self,
        state: Any,
        compiled_class: Any,
        class_hash: int,
        resources_manager: Any,
        general_config: Any,
        tx_execution_context: Any,
        support_reverted: bool,
    ) -> Any:
        # Copied from cairo-lang 0.14.0.1 ExecuteEntryPoint._execute; changes are marked "engine:".
        previous_cairo_usage = resources_manager.cairo_usage
        entry_point = self._get_selected_entry_point(
            compiled_class=compiled_class, class_hash=class_hash
        )
        # engine: the Program is cached per (class, builtins) when speedups are on.
        program = speedups.runnable_program(compiled_class, tuple(entry_point.builtins or ()))
        with wrap_with_stark_exception(code=StarknetErrorCode.SECURITY_ERROR):
            runner = CairoFunctionRunner(
                program=program,
                layout=_LAYOUT,
                # engine: the trace is only needed for proving.
                enable_instruction_trace=speedups.instruction_trace(),
                additional_builtin_factories=dict(
                    segment_arena=lambda name, included: SegmentArenaBuiltinRunner(
                        included=included
                    )
                ),
            )

        initial_gas_call = self.initial_gas - GasCost.ENTRY_POINT_INITIAL_BUDGET.value
        if initial_gas_call < 0:
            return CallInfo.create(
                caller_address=self.caller_address,
                call_type=self.call_type,
                contract_address=self.contract_address,
                code_address=self.code_address,
                class_hash=class_hash,
                entry_point_selector=self.entry_point_selector,
                entry_point_type=self.entry_point_type,
                calldata=self.calldata,
                gas_consumed=0,
                failure_flag=1,
                retdata=[CairoErrorCode.OUT_OF_GAS.to_felt()],
                execution_resources=ExecutionResourcesStone.empty(),
                events=[],
                l2_to_l1_messages=[],
                storage_read_values=[],
                accessed_storage_keys=set(),
                internal_calls=[],
                accessed_contract_addresses=set(),
                read_class_hash_values=[],
                accessed_blocks=set(),
                read_block_hash_values=[],
            )
        implicit_args = os_utils.prepare_os_implicit_args(runner=runner, gas=initial_gas_call)

        initial_syscall_ptr = cast(RelocatableValue, implicit_args[-1])
        # engine: our handler (tx info from TxContext, get_class_hash_at).
        syscall_handler = _SyscallHandler(
            state=state,
            resources_manager=resources_manager,
            segments=runner.segments,
            tx_execution_context=tx_execution_context,
            initial_syscall_ptr=initial_syscall_ptr,
            general_config=general_config,
            entry_point=self,
            support_reverted=support_reverted,
        )

        core_program_end_ptr = runner.program_base + len(runner.program.data)
        builtin_costs = [0, 0, 0, 0, 0]
        builtin_cost_ptr = syscall_handler.allocate_segment(data=builtin_costs)
        program_extra_data: list[MaybeRelocatable] = [0x208B7FFF7FFF7FFE, builtin_cost_ptr]
        runner.load_data(ptr=core_program_end_ptr, data=program_extra_data)

        calldata_start = syscall_handler.allocate_segment(data=self.calldata)
        calldata_end = calldata_start + len(self.calldata)
        entry_point_args = [*implicit_args, calldata_start, calldata_end]

        with clean_leaks(runner=runner, syscall_handler=syscall_handler):
            try:
                self._run(
                    runner=runner,
                    entry_point_offset=entry_point.offset,
                    entry_point_args=entry_point_args,
                    hint_locals={"syscall_handler": syscall_handler},
                    run_resources=tx_execution_context.run_resources,
                    program_segment_size=len(runner.program.data) + len(program_extra_data),
                    allow_tmp_segments=True,
                )
            except StarkException:
                # engine: keep the steps of a run cut short, for charging reverted calls.
                tx_execution_context.tracking.interrupted_steps += runner.vm.current_step
                raise

            runner.mark_as_accessed(address=core_program_end_ptr, size=len(program_extra_data))
            os_utils.validate_and_process_os_implicit_args(
                runner=runner,
                syscall_handler=syscall_handler,
                initial_implicit_args=implicit_args,
            )
            resources_manager.cairo_usage += runner.get_execution_resources()
            return self._build_call_info(
                class_hash=class_hash,
                execution_resources=resources_manager.cairo_usage - previous_cairo_usage,
                storage=syscall_handler.storage,
                result=get_call_result(runner=runner, initial_gas=self.initial_gas),
                events=syscall_handler.events,
                l2_to_l1_messages=syscall_handler.l2_to_l1_messages,
                internal_calls=syscall_handler.internal_calls,
            )


_GENERAL_CONFIG = StarknetGeneralConfig()


def run_entry_point(
    state: OverlayState,
    *,
    address: int,
    selector: int,
    calldata: list[int],
    caller: int,
    tx: TxContext,
    chain_id: int,
    entry_point_type: EntryPointType = EntryPointType.EXTERNAL,
    validate_mode: bool = False,
    max_steps: int | None = None,
    initial_gas: int | None = None,
) -> CallResult:
    """Run one entry point; writes land in ``state`` (the caller commits or drops it).

    Raises :class:`ExecutionRevertedError` for any failure in the call tree. The caller checks
    that the contract and entry point exist first, to raise the narrower errors.
    """
    steps_limit = DEFAULT_MAX_STEPS if max_steps is None else max_steps
    tracking = _Tracking(
        tx=tx, chain_id=chain_id if tx.chain_id is None else tx.chain_id, max_steps=steps_limit
    )
    context = _ExecutionContext(
        account_contract_address=tx.account_address,
        transaction_hash=tx.transaction_hash,
        signature=list(tx.signature),
        max_fee=tx.max_fee,
        nonce=tx.nonce,
        version=tx.version,
        run_resources=RunResources(n_steps=steps_limit),
        n_emitted_events=0,
        n_sent_messages=0,
        execution_mode=ExecutionMode.VALIDATE if validate_mode else ExecutionMode.EXECUTE,
        tracking=tracking,
    )
    resources = ExecutionResourcesManager.empty()
    call = _EntryPoint(
        call_type=CallType.Call,
        contract_address=address,
        calldata=list(calldata),
        code_address=None,
        class_hash=None,
        entry_point_selector=selector,
        entry_point_type=_ENTRY_POINT_TYPES[entry_point_type],
        caller_address=caller,
        initial_gas=DEFAULT_INITIAL_GAS if initial_gas is None else initial_gas,
    )
    try:
        call_info = call.execute(
            state=state,
            resources_manager=resources,
            tx_execution_context=context,
            general_config=_GENERAL_CONFIG,
            support_reverted=False,
        )
    except StarkException as exc:
        steps = resources.cairo_usage.n_steps + tracking.interrupted_steps
        raise _reverted(exc, tracking, steps) from None
    return _call_result(call_info)


def _reverted(exc: Any, tracking: _Tracking, steps: int) -> ExecutionRevertedError:
    """Turn cairo-lang's failure into ours: innermost panic that decodes, else the error text."""
    trace = str(exc.message) if exc.message else str(exc.code)
    for failure in tracking.failures:
        reason = decode_reason(failure.panic_data)
        if reason:
            return ExecutionRevertedError(
                reason,
                panic_data=failure.panic_data,
                trace=trace,
                steps=steps,
                failed_address=failure.contract_address,
            )
    first = tracking.failures[0] if tracking.failures else None
    code = getattr(exc.code, "name", str(exc.code))
    if any(isinstance(cause, ResourcesError) for cause in _causes(exc)):
        reason = f"Out of steps: the call ran past its limit of {tracking.max_steps} steps"
    else:
        reason = _last_error_line(trace) or code
    return ExecutionRevertedError(
        reason,
        panic_data=first.panic_data if first else [],
        trace=f"{code}: {trace}",
        steps=steps,
        failed_address=first.contract_address if first else None,
    )


def _causes(exc: BaseException | None) -> Iterator[object]:
    """The exception and everything cairo-lang wrapped inside it, depth first."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for attr in ("__cause__", "__context__", "inner_exc", "stark_exception"):
            stack.append(getattr(item, attr, None))


def _last_error_line(trace: str) -> str:
    """The most specific line of a cairo-lang error text (its last non-empty one)."""
    lines = [line.strip() for line in trace.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _call_node(call: Any) -> CallNode:
    """cairo-lang's ``CallInfo`` tree as the engine's :class:`CallNode` tree."""
    address = call.contract_address
    resources = call.execution_resources
    return CallNode(
        contract_address=address,
        class_hash=int(call.class_hash or 0),
        entry_point_selector=int(call.entry_point_selector or 0),
        entry_point_type=_ENGINE_ENTRY_POINT_TYPES.get(
            call.entry_point_type, EntryPointType.EXTERNAL
        ),
        call_type="LIBRARY_CALL" if call.call_type == CallType.Delegate else "CALL",
        caller_address=call.caller_address,
        calldata=list(call.calldata),
        retdata=list(call.retdata),
        events=[
            (event.order, Event(address, list(event.keys), list(event.data)))
            for event in call.events
        ],
        l2_to_l1_messages=[
            (message.order, L2ToL1Message(address, message.to_address, list(message.payload)))
            for message in call.l2_to_l1_messages
        ],
        steps=int(resources.n_steps),
        builtins=dict(resources.builtin_instance_counter),
        calls=[_call_node(inner) for inner in call.internal_calls],
    )


def _call_result(call_info: Any) -> CallResult:
    """Flatten cairo-lang's ``CallInfo`` tree into the engine's :class:`CallResult`."""
    events: list[tuple[int, Event]] = []
    messages: list[tuple[int, L2ToL1Message]] = []
    for call in call_info.gen_call_topology():
        address = call.contract_address
        for event in call.events:
            events.append((event.order, Event(address, list(event.keys), list(event.data))))
        for message in call.l2_to_l1_messages:
            messages.append(
                (
                    message.order,
                    L2ToL1Message(address, message.to_address, list(message.payload)),
                )
            )
    resources = call_info.execution_resources
    return CallResult(
        retdata=list(call_info.retdata),
        events=[event for _, event in sorted(events, key=lambda pair: pair[0])],
        steps=int(resources.n_steps),
        memory_holes=int(resources.n_memory_holes),
        builtins=dict(resources.builtin_instance_counter),
        gas_consumed=int(call_info.gas_consumed),
        l2_to_l1_messages=[message for _, message in sorted(messages, key=lambda pair: pair[0])],
        tree=_call_node(call_info),
    )
