"""The devnet's records: transactions, receipts, blocks, state diffs, fee estimates, notifications.

Frozen dataclasses of ints, strings and tuples, never JSON and never cairo-lang objects: the
wire shapes of the spec (v0.10.2) are made from these in one place, :mod:`devnet.codec`, so the
chain logic never handles raw dicts. Names follow the spec's fields (``sender_address``,
``resource_bounds``...) so that the mapping stays obvious.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from smainer.engine import Event, L2ToL1Message

__all__ = [
    "QUERY_VERSION_BASE",
    "Block",
    "DeclareTransaction",
    "DeployAccountTransaction",
    "EmittedEvent",
    "ExecutionResources",
    "FeeEstimate",
    "GasPrices",
    "Invocation",
    "InvokeTransaction",
    "Located",
    "NewBlock",
    "PredeployedAccount",
    "Receipt",
    "Reorg",
    "ResourceBound",
    "ResourceBounds",
    "StateDiff",
    "Transaction",
    "TransactionReceived",
    "TransactionTrace",
    "TransactionType",
]

QUERY_VERSION_BASE = 2**128
"""Added to a transaction's version to mark it query-only (estimate/simulate), per the spec's
``"0x100000000000000000000000000000003"`` version: such a hash can never be replayed on-chain."""


class TransactionType(StrEnum):
    """The spec's ``TXN_TYPE`` values this devnet executes (v3 only)."""

    INVOKE = "INVOKE"
    DECLARE = "DECLARE"
    DEPLOY_ACCOUNT = "DEPLOY_ACCOUNT"


@dataclass(frozen=True)
class ResourceBound:
    """One entry of ``RESOURCE_BOUNDS_MAPPING``: the most a tx accepts to use and pay per unit."""

    max_amount: int = 0
    max_price_per_unit: int = 0


@dataclass(frozen=True)
class ResourceBounds:
    """The three v3 bounds; ``max_fee`` is what the sender must hold (spec error 54)."""

    l1_gas: ResourceBound = ResourceBound()
    l1_data_gas: ResourceBound = ResourceBound()
    l2_gas: ResourceBound = ResourceBound()

    @property
    def max_fee(self) -> int:
        return sum(
            bound.max_amount * bound.max_price_per_unit
            for bound in (self.l1_gas, self.l1_data_gas, self.l2_gas)
        )


@dataclass(frozen=True, kw_only=True)
class _V3Fields:
    """Fields every v3 transaction carries (``INVOKE_TXN_V3`` and siblings)."""

    transaction_hash: int
    version: int
    signature: tuple[int, ...]
    nonce: int
    resource_bounds: ResourceBounds
    tip: int = 0
    paymaster_data: tuple[int, ...] = ()
    nonce_data_availability_mode: int = 0
    fee_data_availability_mode: int = 0

    @property
    def is_query(self) -> bool:
        """A query-only version (estimate/simulate); never accepted by ``add*Transaction``."""
        return self.version >= QUERY_VERSION_BASE


@dataclass(frozen=True, kw_only=True)
class InvokeTransaction(_V3Fields):
    """``INVOKE_TXN_V3``: the account's ``__execute__`` runs ``calldata``."""

    type: Literal[TransactionType.INVOKE] = TransactionType.INVOKE
    sender_address: int
    calldata: tuple[int, ...]
    account_deployment_data: tuple[int, ...] = ()
    proof_facts: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DeclareTransaction(_V3Fields):
    """``DECLARE_TXN_V3`` as stored in a block: the class by hash (the Sierra lives in state)."""

    type: Literal[TransactionType.DECLARE] = TransactionType.DECLARE
    sender_address: int
    class_hash: int
    compiled_class_hash: int
    account_deployment_data: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DeployAccountTransaction(_V3Fields):
    """``DEPLOY_ACCOUNT_TXN_V3``; ``contract_address`` is derived, kept for receipts."""

    type: Literal[TransactionType.DEPLOY_ACCOUNT] = TransactionType.DEPLOY_ACCOUNT
    class_hash: int
    contract_address_salt: int
    constructor_calldata: tuple[int, ...]
    contract_address: int

    @property
    def sender_address(self) -> int:
        return self.contract_address


Transaction = InvokeTransaction | DeclareTransaction | DeployAccountTransaction


@dataclass(frozen=True)
class ExecutionResources:
    """Spec ``EXECUTION_RESOURCES``: gas amounts a tx used, priced by the block's prices."""

    l1_gas: int = 0
    l1_data_gas: int = 0
    l2_gas: int = 0


@dataclass(frozen=True)
class FeeEstimate:
    """Spec ``FEE_ESTIMATE`` (unit FRI): the consumed amounts and the prices they were priced at."""

    l1_gas_consumed: int
    l1_gas_price: int
    l1_data_gas_consumed: int
    l1_data_gas_price: int
    l2_gas_consumed: int
    l2_gas_price: int
    overall_fee: int


@dataclass(frozen=True)
class Receipt:
    """What a tx did (``*_TXN_RECEIPT``); finality and block come from where the tx lies."""

    transaction_hash: int
    type: TransactionType
    actual_fee: int
    execution_resources: ExecutionResources
    events: tuple[Event, ...] = ()
    messages_sent: tuple[L2ToL1Message, ...] = ()
    revert_reason: str | None = None
    contract_address: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.revert_reason is None


@dataclass(frozen=True)
class StateDiff:
    """Spec ``STATE_DIFF`` of a tx or a block, squashed: only values that actually changed.

    ``deployed`` and ``replaced`` are address -> class hash; ``declared`` is class hash ->
    compiled class hash. All maps are sorted by key so that a diff hashes deterministically.
    """

    storage: dict[tuple[int, int], int] = field(default_factory=dict)
    nonces: dict[int, int] = field(default_factory=dict)
    deployed: dict[int, int] = field(default_factory=dict)
    replaced: dict[int, int] = field(default_factory=dict)
    declared: dict[int, int] = field(default_factory=dict)

    @property
    def length(self) -> int:
        """The spec's ``state_diff_length``: changed storage slots, nonces, contracts, classes."""
        return (
            len(self.storage)
            + len(self.nonces)
            + len(self.deployed)
            + len(self.replaced)
            + len(self.declared)
        )


@dataclass(frozen=True)
class GasPrices:
    """A block's prices per unit of each resource, in FRI (STRK) and WEI (ETH).

    starknet-devnet's defaults (1 gwei / 1e9 FRI everywhere), so fees look familiar.
    """

    l1_gas_fri: int = 10**9
    l1_gas_wei: int = 10**9
    l1_data_gas_fri: int = 10**9
    l1_data_gas_wei: int = 10**9
    l2_gas_fri: int = 10**9
    l2_gas_wei: int = 10**9


@dataclass(frozen=True)
class Block:
    """A block: mined (``block_hash`` set) or the one being built (``pre_confirmed``)."""

    number: int
    parent_hash: int
    timestamp: int
    sequencer_address: int
    prices: GasPrices
    starknet_version: str
    transactions: tuple[int, ...]
    """Transaction hashes, in execution order."""
    state_diff: StateDiff
    block_hash: int | None = None
    """``None`` while pre-confirmed."""
    old_root: int = 0
    new_root: int = 0
    event_count: int = 0
    transaction_commitment: int = 0
    event_commitment: int = 0
    receipt_commitment: int = 0
    state_diff_commitment: int = 0

    @property
    def is_pre_confirmed(self) -> bool:
        return self.block_hash is None


@dataclass(frozen=True)
class EmittedEvent:
    """Spec ``EMITTED_EVENT``: an event and where it was emitted (block hash unset if pending)."""

    event: Event
    transaction_hash: int
    transaction_index: int
    event_index: int
    block_number: int
    block_hash: int | None


@dataclass(frozen=True)
class PredeployedAccount:
    """A funded account made at genesis (banner, ``devnet_getPredeployedAccounts``)."""

    address: int
    private_key: int
    public_key: int
    initial_balance: int


@dataclass(frozen=True)
class NewBlock:
    """Listener notification: ``block`` was just mined (for ``starknet_subscribeNewHeads``)."""

    block: Block


@dataclass(frozen=True)
class TransactionReceived:
    """Listener notification: a transaction was accepted into the pre-confirmed block and waits
    there (``--block-time``, or mining on demand), so ``PRE_CONFIRMED`` subscribers can be told
    at once. Not sent for a transaction mined in the request that received it: its
    :class:`NewBlock` says it all."""

    transaction_hash: int
    block_number: int
    """The pre-confirmed block's number."""


@dataclass(frozen=True)
class Reorg:
    """Listener notification: blocks were aborted (``starknet_subscriptionReorg``'s fields)."""

    starting_block_number: int
    starting_block_hash: int
    ending_block_number: int
    ending_block_hash: int


@dataclass(frozen=True)
class Invocation:
    """One call of a tx's call tree, for traces (spec ``FUNCTION_INVOCATION``).

    ``events`` and ``messages`` are this call's own, ``event_orders`` and ``message_orders`` their
    orders within the top-level call; ``calls`` are the calls it made, each nested the same way
    (the account's ``__execute__`` calling the escrow calling the token). ``l2_gas`` covers the
    subtree. A trace loaded from a dump of an older devnet has no ``calls`` and the whole tree's
    events on the top call, with no orders: :meth:`tree_events` reads both alike.
    """

    contract_address: int
    entry_point_selector: int
    calldata: tuple[int, ...]
    caller_address: int
    class_hash: int
    entry_point_type: str
    result: tuple[int, ...]
    events: tuple[Event, ...]
    messages: tuple[L2ToL1Message, ...]
    l2_gas: int
    calls: tuple[Invocation, ...] = ()
    call_type: str = "CALL"
    """``CALL``, or ``LIBRARY_CALL`` for a library call."""
    event_orders: tuple[int, ...] = ()
    message_orders: tuple[int, ...] = ()

    def ordered_events(self) -> list[tuple[int, Event]]:
        """This call's own events with their orders (positions where no order was kept)."""
        orders = self.event_orders or range(len(self.events))
        return list(zip(orders, self.events, strict=True))

    def ordered_messages(self) -> list[tuple[int, L2ToL1Message]]:
        """This call's own messages with their orders (positions where no order was kept)."""
        orders = self.message_orders or range(len(self.messages))
        return list(zip(orders, self.messages, strict=True))

    def walk(self) -> list[Invocation]:
        """This call and every call under it, depth first."""
        return [self, *(inner for call in self.calls for inner in call.walk())]

    def tree_events(self) -> list[Event]:
        """Every event of the subtree in emission order, as a receipt lists them."""
        pairs = [pair for call in self.walk() for pair in call.ordered_events()]
        return [event for _, event in sorted(pairs, key=lambda pair: pair[0])]

    def tree_messages(self) -> list[L2ToL1Message]:
        """Every L2->L1 message of the subtree in the order they were sent."""
        pairs = [pair for call in self.walk() for pair in call.ordered_messages()]
        return [message for _, message in sorted(pairs, key=lambda pair: pair[0])]


@dataclass(frozen=True)
class TransactionTrace:
    """Spec ``TRANSACTION_TRACE``: the calls a tx made, its state diff and resources."""

    type: TransactionType
    execution_resources: ExecutionResources
    state_diff: StateDiff
    validate: Invocation | None = None
    execute: Invocation | None = None
    execute_revert_reason: str | None = None
    constructor: Invocation | None = None
    fee_transfer: Invocation | None = None


@dataclass(frozen=True)
class Located:
    """A transaction with its receipt and trace, and where it lies."""

    transaction: Transaction
    receipt: Receipt
    trace: TransactionTrace
    block_number: int
    index: int
