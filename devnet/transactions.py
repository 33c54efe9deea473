"""The v3 transaction flow, as Starknet's sequencer runs it, on a :class:`JournalingChain`.

For every type: nonce check (spec error 52: exactly the account's nonce), fee bounds against
the block's prices and the minimal amounts (53), balance against the max fee (54), then:

* INVOKE: ``__validate__`` (caller 0, validate mode; anything but ``'VALID'`` is error 55),
  nonce + 1, ``__execute__`` (a failure reverts only the execution: receipt REVERTED),
* DECLARE: class not declared yet (51), ``__validate_declare__``, then (only now: it takes
  seconds) Sierra compiled to CASM (56) whose hash must be the committed ``compiled_class_hash``
  (60), nonce + 1, the class declared,
* DEPLOY_ACCOUNT: class declared (28), the contract deployed at the address derived from class
  hash, salt and calldata, its constructor run, ``__validate_deploy__``, nonce + 1,

then the fee (:mod:`devnet.fees`) is charged with the STRK token's ``transfer`` from the sender
to the sequencer. Anything rejected before execution leaves the state exactly as it was (the
journal rolls it back): a bad signature does not even spend the nonce. A tx that used more than
its bounds, or cannot pay the fee after executing, is reverted and charged what it may pay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starknet_py.cairo.felt import encode_shortstring

from devnet import fees
from devnet.codec import Broadcasted
from devnet.compiler import compile_class, remember
from devnet.engine_errors import revert_reason, validation_error
from devnet.errors import (
    ClassAlreadyDeclaredError,
    ClassHashNotFoundError,
    CompiledClassHashMismatchError,
    InsufficientAccountBalanceError,
    InvalidTransactionNonceError,
    ValidationFailureError,
)
from devnet.journal import JournalingChain, Mark
from devnet.models import (
    DeclareTransaction,
    DeployAccountTransaction,
    ExecutionResources,
    FeeEstimate,
    GasPrices,
    Invocation,
    InvokeTransaction,
    Receipt,
    TransactionTrace,
    TransactionType,
)
from devnet.rejections import reject
from smainer.engine import (
    CallNode,
    CallResult,
    Chain,
    EntryPointNotFoundError,
    Event,
    ExecutionRevertedError,
    TxContext,
    to_selector,
)
from smainer.engine import (
    ResourceBounds as EngineBound,
)

__all__ = ["Environment", "Executed", "Mode", "balance_of", "balance_slot", "execute", "invocation"]

VALIDATED = encode_shortstring("VALID")
"""What an account's ``__validate*__`` must return (Starknet rejects anything else)."""

_L1_GAS = encode_shortstring("L1_GAS")
_L2_GAS = encode_shortstring("L2_GAS")
_L1_DATA = encode_shortstring("L1_DATA")


@dataclass(frozen=True)
class Environment:
    """Where fees go and what they cost: the fee token, the sequencer, the block's prices."""

    fee_token: int
    sequencer: int
    prices: GasPrices
    impersonated: frozenset[int] = frozenset()
    """Senders impersonated with ``devnet_impersonateAccount``: their ``__validate*__`` is
    skipped (no signature needed); nonce, fee bounds and balance are still checked."""
    auto_impersonate: bool = False
    """``devnet_autoImpersonate``: every sender is impersonated."""

    def impersonates(self, sender: int) -> bool:
        """Whether ``sender``'s transactions skip validation (starknet-devnet's impersonation)."""
        return self.auto_impersonate or sender in self.impersonated


@dataclass(frozen=True)
class Mode:
    """How to run: a real tx (all on), or an estimate/simulation (spec ``SIMULATION_FLAG``)."""

    validate: bool = True
    """Off: ``SKIP_VALIDATE``."""
    charge_fee: bool = True
    """Off: ``SKIP_FEE_CHARGE`` (and estimates): no bound or balance checks, no transfer."""
    strict_nonce: bool = True
    """Off for estimates and simulations: a nonce ahead of the account's is accepted."""


@dataclass(frozen=True)
class Executed:
    """A tx that made it into a block (succeeded or reverted): receipt, trace and fee."""

    receipt: Receipt
    trace: TransactionTrace
    estimate: FeeEstimate


def balance_slot(address: int) -> int:
    """Storage key of ``ERC20_balances[address]`` (u256 low; high is the next slot)."""
    return Chain.storage_address("ERC20_balances", address)


def balance_of(chain: Chain, token: int, address: int) -> int:
    """A token balance read straight from storage (no call: cheap, and works in any state)."""
    slot = balance_slot(address)
    return chain.get_storage(token, slot) + (chain.get_storage(token, slot + 1) << 128)


def _context(tx: InvokeTransaction | DeclareTransaction | DeployAccountTransaction) -> TxContext:
    bounds = tx.resource_bounds
    return TxContext(
        account_address=tx.sender_address,
        transaction_hash=tx.transaction_hash,
        signature=tx.signature,
        nonce=tx.nonce,
        version=tx.version,
        resource_bounds=(
            EngineBound(_L1_GAS, bounds.l1_gas.max_amount, bounds.l1_gas.max_price_per_unit),
            EngineBound(_L2_GAS, bounds.l2_gas.max_amount, bounds.l2_gas.max_price_per_unit),
            EngineBound(
                _L1_DATA, bounds.l1_data_gas.max_amount, bounds.l1_data_gas.max_price_per_unit
            ),
        ),
        tip=tx.tip,
        paymaster_data=tx.paymaster_data,
        nonce_data_availability_mode=tx.nonce_data_availability_mode,
        fee_data_availability_mode=tx.fee_data_availability_mode,
        account_deployment_data=getattr(tx, "account_deployment_data", ()),
    )


def _l2_gas_of(result: CallResult | CallNode) -> int:
    return result.steps * fees.L2_GAS_PER_STEP + sum(
        count * fees.BUILTIN_L2_GAS.get(name, 0) for name, count in result.builtins.items()
    )


def _nested(node: CallNode) -> Invocation:
    """The engine's call tree as the trace's, each call with its own events and messages."""
    return Invocation(
        contract_address=node.contract_address,
        entry_point_selector=node.entry_point_selector,
        calldata=tuple(node.calldata),
        caller_address=node.caller_address,
        class_hash=node.class_hash,
        entry_point_type=node.entry_point_type.value,
        result=tuple(node.retdata),
        events=tuple(event for _, event in node.events),
        messages=tuple(message for _, message in node.l2_to_l1_messages),
        l2_gas=_l2_gas_of(node),
        calls=tuple(_nested(inner) for inner in node.calls),
        call_type=node.call_type,
        event_orders=tuple(order for order, _ in node.events),
        message_orders=tuple(order for order, _ in node.l2_to_l1_messages),
    )


def invocation(
    chain: Chain,
    address: int,
    selector: str | int,
    calldata: Sequence[int],
    result: CallResult,
    *,
    caller: int = 0,
    entry_point_type: str = "EXTERNAL",
) -> Invocation:
    """The trace of a top-level call: nested as it ran when the engine kept its call tree."""
    if result.tree is not None:
        return _nested(result.tree)
    return Invocation(
        contract_address=address,
        entry_point_selector=to_selector(selector),
        calldata=tuple(calldata),
        caller_address=caller,
        class_hash=chain.get_class_hash_at(address),
        entry_point_type=entry_point_type,
        result=tuple(result.retdata),
        events=tuple(result.events),
        messages=tuple(result.l2_to_l1_messages),
        l2_gas=_l2_gas_of(result),
    )


@dataclass
class _Run:
    """What one tx accumulates as it goes, turned into the receipt at the end."""

    type: TransactionType
    sender: int
    start: Mark
    data_felts: int
    code_felts: int = 0
    steps: int = 0
    builtins: dict[str, int] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)
    validate: Invocation | None = None
    execute: Invocation | None = None
    constructor: Invocation | None = None
    revert_reason: str | None = None
    contract_address: int | None = None
    execute_mark: Mark | None = None
    """Where the revertible part (execution, a declare's class) begins in the journal."""

    def add(self, result: CallResult, *, keep_output: bool = True) -> None:
        self.steps += result.steps
        for name, count in result.builtins.items():
            self.builtins[name] = self.builtins.get(name, 0) + count
        if keep_output:
            self.events.extend(result.events)
            self.messages.extend(result.l2_to_l1_messages)


def execute(
    chain: JournalingChain, item: Broadcasted, env: Environment, mode: Mode = Mode()
) -> Executed:
    """Run one v3 tx to a receipt, or raise the spec error that rejects it (state unchanged)."""
    start = chain.mark()
    try:
        tx = item.tx
        if isinstance(tx, InvokeTransaction):
            run = _invoke(chain, tx, env, mode, start)
        elif isinstance(tx, DeclareTransaction):
            assert item.contract_class is not None, "a declare carries its class"
            run = _declare(chain, tx, item.contract_class, env, mode, start)
        else:
            run = _deploy_account(chain, tx, env, mode, start)
        return _charge(chain, tx, run, env, mode)
    except BaseException:
        chain.rollback(start)
        raise


# Checks before execution.


def _check_nonce(chain: Chain, address: int, nonce: int, mode: Mode) -> None:
    current = chain.get_nonce(address)
    if nonce == current or (not mode.strict_nonce and nonce > current):
        return
    raise InvalidTransactionNonceError(
        f"Invalid transaction nonce of contract at address {address:#x}. "
        f"Account nonce: {current:#x}; got: {nonce:#x}."
    )


def _check_fee(
    chain: Chain,
    tx: InvokeTransaction | DeclareTransaction | DeployAccountTransaction,
    env: Environment,
    data_felts: int,
) -> None:
    """Spec errors 53 (bounds below prices or minimal amounts) and 54 (balance below max fee)."""
    fees.check_bounds(tx.resource_bounds, env.prices, fees.minimal_resources(tx.type, data_felts))
    max_fee = tx.resource_bounds.max_fee
    balance = balance_of(chain, env.fee_token, tx.sender_address)
    if balance < max_fee:
        raise reject(
            InsufficientAccountBalanceError,
            f"balance {balance} FRI of {tx.sender_address:#x} < max fee {max_fee} FRI",
        )


def _validate(
    chain: JournalingChain,
    run: _Run,
    entry_point: str,
    calldata: Sequence[int],
    context: TxContext,
) -> None:
    """Run ``__validate*__`` in validate mode; any failure is spec error 55 (or 58)."""
    try:
        result = chain.invoke(
            run.sender, entry_point, calldata, caller=0, tx=context, validate=True
        )
    except (EntryPointNotFoundError, ExecutionRevertedError) as err:
        raise validation_error(err, entry_point, run.sender) from None
    if list(result.retdata) != [VALIDATED]:
        raise ValidationFailureError(
            f"{entry_point} returned {[hex(v) for v in result.retdata]}, not 'VALID'"
        )
    run.add(result)
    run.validate = invocation(chain, run.sender, entry_point, calldata, result)


def _bump_nonce(chain: JournalingChain, address: int, nonce: int) -> None:
    chain.set_nonce(address, max(chain.get_nonce(address), nonce) + 1)


# The three types.


def _invoke(
    chain: JournalingChain, tx: InvokeTransaction, env: Environment, mode: Mode, start: Mark
) -> _Run:
    sender = tx.sender_address
    run = _Run(
        TransactionType.INVOKE,
        sender,
        start,
        data_felts=len(tx.calldata) + len(tx.signature) + len(tx.paymaster_data),
    )
    if not chain.is_deployed(sender):
        raise ValidationFailureError(f"the sender {sender:#x} is not a deployed contract")
    _check_nonce(chain, sender, tx.nonce, mode)
    if mode.charge_fee:
        _check_fee(chain, tx, env, run.data_felts)
    context = _context(tx)
    if mode.validate and not env.impersonates(sender):
        _validate(chain, run, "__validate__", tx.calldata, context)
    _bump_nonce(chain, sender, tx.nonce)
    run.execute_mark = chain.mark()
    try:
        result = chain.invoke(sender, "__execute__", tx.calldata, caller=0, tx=context)
    except ExecutionRevertedError as err:
        run.steps += err.steps
        run.revert_reason = revert_reason(err)
    except EntryPointNotFoundError as err:
        run.revert_reason = revert_reason(err)
    else:
        run.add(result)
        run.execute = invocation(chain, sender, "__execute__", tx.calldata, result)
    return run


def _declare(
    chain: JournalingChain,
    tx: DeclareTransaction,
    contract_class: dict[str, Any],
    env: Environment,
    mode: Mode,
    start: Mark,
) -> _Run:
    """Cheap checks first (sender, nonce, fee, signature): compiling takes seconds."""
    sender = tx.sender_address
    if chain.is_declared(tx.class_hash):
        raise reject(ClassAlreadyDeclaredError, f"class {tx.class_hash:#x} is already declared")
    run = _Run(
        TransactionType.DECLARE,
        sender,
        start,
        data_felts=len(tx.signature) + len(tx.paymaster_data),
    )
    if not chain.is_deployed(sender):
        raise ValidationFailureError(f"the sender {sender:#x} is not a deployed contract")
    _check_nonce(chain, sender, tx.nonce, mode)
    if mode.charge_fee:
        _check_fee(chain, tx, env, run.data_felts)
    if mode.validate and not env.impersonates(sender):
        _validate(chain, run, "__validate_declare__", [tx.class_hash], _context(tx))
    compiled = compile_class(tx.class_hash, contract_class)
    if not compiled.matches(tx.compiled_class_hash):
        raise reject(
            CompiledClassHashMismatchError,
            f"got {tx.compiled_class_hash:#x}; the class compiles to "
            f"{compiled.blake2s_hash:#x} (Blake2s, or its Poseidon hash for older clients)",
        )
    remember(tx.class_hash, compiled)
    run.code_felts = len(contract_class["sierra_program"]) + len(compiled.casm["bytecode"])
    _bump_nonce(chain, sender, tx.nonce)
    run.execute_mark = chain.mark()
    chain.declare(
        tx.class_hash, compiled.casm, contract_class, compiled_class_hash=tx.compiled_class_hash
    )
    return run


def _deploy_account(
    chain: JournalingChain,
    tx: DeployAccountTransaction,
    env: Environment,
    mode: Mode,
    start: Mark,
) -> _Run:
    address = tx.contract_address
    run = _Run(
        TransactionType.DEPLOY_ACCOUNT,
        address,
        start,
        data_felts=len(tx.constructor_calldata) + len(tx.signature) + len(tx.paymaster_data),
        contract_address=address,
    )
    if not chain.is_declared(tx.class_hash):
        raise reject(ClassHashNotFoundError, f"class {tx.class_hash:#x} is not declared")
    if chain.is_deployed(address):
        raise ValidationFailureError(f"a contract is already deployed at {address:#x}")
    _check_nonce(chain, address, tx.nonce, mode)
    if mode.charge_fee:
        _check_fee(chain, tx, env, run.data_felts)
    context = _context(tx)
    try:
        deployed = chain.deploy(
            tx.class_hash,
            tx.constructor_calldata,
            salt=tx.contract_address_salt,
            deployer_address=0,
            tx=context,
        )
    except ExecutionRevertedError as err:
        raise validation_error(err, "the constructor", address) from None
    run.add(deployed.result)
    run.constructor = invocation(
        chain,
        address,
        "constructor",
        tx.constructor_calldata,
        deployed.result,
        entry_point_type="CONSTRUCTOR",
    )
    if mode.validate and not env.impersonates(address):
        _validate(
            chain,
            run,
            "__validate_deploy__",
            [tx.class_hash, tx.contract_address_salt, *tx.constructor_calldata],
            context,
        )
    _bump_nonce(chain, address, tx.nonce)
    return run


# Fee.


def _resources(chain: JournalingChain, run: _Run, env: Environment) -> ExecutionResources:
    fee_slots = [
        (env.fee_token, balance_slot(run.sender)),
        (env.fee_token, balance_slot(env.sequencer)),
    ]
    usage = fees.Usage(
        type=run.type,
        steps=run.steps,
        builtins=run.builtins,
        data_felts=run.data_felts,
        events=tuple(run.events),
        messages=tuple(run.messages),
        state_diff_felts=fees.state_diff_felts(chain.diff(run.start), fee_slots),
        code_felts=run.code_felts,
    )
    return fees.resources_of(usage)


def _charge(
    chain: JournalingChain,
    tx: InvokeTransaction | DeclareTransaction | DeployAccountTransaction,
    run: _Run,
    env: Environment,
    mode: Mode,
) -> Executed:
    """Price what the tx used, revert it if over its bounds, and move the fee to the sequencer."""
    resources = _resources(chain, run, env)
    if mode.charge_fee and run.revert_reason is None:
        over = fees.exceeded_bound(resources, tx.resource_bounds)
        if over is not None:
            _undo_execution(chain, run, over)
            resources = fees.capped(_resources(chain, run, env), tx.resource_bounds)
    fee = fees.fee_of(resources, env.prices)
    fee_transfer: Invocation | None = None
    if mode.charge_fee and fee > 0:
        try:
            fee_transfer = _transfer_fee(chain, run.sender, fee, env)
        except ExecutionRevertedError:
            # The execution spent what was to pay the fee: undo it, charge what is left.
            _undo_execution(chain, run, "Insufficient fee token balance to pay the fee")
            fee = min(fee, balance_of(chain, env.fee_token, run.sender))
            fee_transfer = _transfer_fee(chain, run.sender, fee, env) if fee else None
    events = list(run.events)
    if fee_transfer is not None:
        events.extend(fee_transfer.events)
    receipt = Receipt(
        transaction_hash=tx.transaction_hash,
        type=run.type,
        actual_fee=fee,
        execution_resources=resources,
        events=tuple(events),
        messages_sent=tuple(run.messages),
        revert_reason=run.revert_reason,
        contract_address=run.contract_address,
    )
    trace = TransactionTrace(
        type=run.type,
        execution_resources=resources,
        state_diff=chain.diff(run.start),
        validate=run.validate,
        execute=run.execute,
        execute_revert_reason=run.revert_reason if run.type is TransactionType.INVOKE else None,
        constructor=run.constructor,
        fee_transfer=fee_transfer,
    )
    return Executed(receipt, trace, fees.estimate(resources, env.prices))


def _undo_execution(chain: JournalingChain, run: _Run, reason: str) -> None:
    """Revert the execution's writes and outputs; validation and the nonce bump stay."""
    if run.execute_mark is not None:
        chain.rollback(run.execute_mark)
    kept = [call for call in (run.constructor, run.validate) if call is not None]
    run.events = [event for call in kept for event in call.tree_events()]
    run.messages = [message for call in kept for message in call.tree_messages()]
    run.execute = None
    run.revert_reason = run.revert_reason or reason


def _transfer_fee(chain: JournalingChain, sender: int, fee: int, env: Environment) -> Invocation:
    calldata = [env.sequencer, fee % 2**128, fee >> 128]
    result = chain.invoke(env.fee_token, "transfer", calldata, caller=sender)
    return invocation(chain, env.fee_token, "transfer", calldata, result, caller=sender)
