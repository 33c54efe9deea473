"""Plain, frozen result and context types of the engine.

They hold ints and lists only, never cairo-lang objects, so the devnet, the indexer tests and
dump/load code can use and serialize them without importing starkware.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

__all__ = [
    "DEFAULT_CHAIN_ID",
    "DEFAULT_SEQUENCER_ADDRESS",
    "BlockContext",
    "CallNode",
    "CallResult",
    "DeployResult",
    "EntryPointType",
    "Event",
    "L2ToL1Message",
    "ResourceBounds",
    "TxContext",
]

DEFAULT_CHAIN_ID = 0x534E5F5345504F4C4941
"""``'SN_SEPOLIA'``: what contracts see from ``get_tx_info().chain_id`` unless told otherwise."""

DEFAULT_SEQUENCER_ADDRESS = 0x1176A1BD84444C89232EC27754698E5D2E7E1A7F1539F12027F28B23EC9F3D8
"""The sequencer address starknet-devnet uses, so fee transfers to it look familiar."""


class EntryPointType(Enum):
    """Which table of a class an entry point is looked up in (``entry_points_by_type``).

    ``L1_HANDLER`` lets a devnet deliver L1 messages; ``CONSTRUCTOR`` is run by ``Chain.deploy``.
    """

    EXTERNAL = "EXTERNAL"
    L1_HANDLER = "L1_HANDLER"
    CONSTRUCTOR = "CONSTRUCTOR"


@dataclass(frozen=True)
class Event:
    """One emitted event and the contract that emitted it (RPC ``EMITTED_EVENT``)."""

    from_address: int
    keys: list[int]
    data: list[int]


@dataclass(frozen=True)
class L2ToL1Message:
    """A ``send_message_to_l1`` payload, with its sender (RPC ``MSG_TO_L1``)."""

    from_address: int
    to_address: int
    payload: list[int]


@dataclass(frozen=True)
class CallNode:
    """One call of a call tree as it ran, for traces (the spec's ``FUNCTION_INVOCATION``).

    ``events`` and ``l2_to_l1_messages`` are this call's own (not its inner calls'), each with its
    ``order`` within the top-level call; ``steps`` and ``builtins`` cover the subtree rooted here.
    ``call_type`` is ``"CALL"``, or ``"LIBRARY_CALL"`` for a library call (``contract_address`` is
    then the caller's storage and ``class_hash`` the library's class).
    """

    contract_address: int
    class_hash: int
    entry_point_selector: int
    entry_point_type: EntryPointType
    call_type: str
    caller_address: int
    calldata: list[int]
    retdata: list[int]
    events: list[tuple[int, Event]] = field(default_factory=list)
    l2_to_l1_messages: list[tuple[int, L2ToL1Message]] = field(default_factory=list)
    steps: int = 0
    builtins: dict[str, int] = field(default_factory=dict)
    calls: list[CallNode] = field(default_factory=list)


@dataclass(frozen=True)
class CallResult:
    """What one top-level entry-point call did.

    ``events`` and ``l2_to_l1_messages`` are in emission order over the whole call tree (inner calls
    included), as a receipt lists them. ``steps`` and ``builtins`` cover the whole tree too: they
    are what a fee estimate is computed from. ``gas_consumed`` is the Sierra gas of the top call.
    """

    retdata: list[int]
    events: list[Event] = field(default_factory=list)
    steps: int = 0
    memory_holes: int = 0
    builtins: dict[str, int] = field(default_factory=dict)
    gas_consumed: int = 0
    l2_to_l1_messages: list[L2ToL1Message] = field(default_factory=list)
    tree: CallNode | None = None
    """The call tree itself (the top call and its nested calls), for traces."""


@dataclass(frozen=True)
class DeployResult:
    """The address a deployment got and what its constructor did."""

    address: int
    result: CallResult


@dataclass(frozen=True)
class ResourceBounds:
    """One v3 resource bound, as contracts read it from ``TxInfo.resource_bounds``.

    ``resource`` is the short string felt: ``'L1_GAS'``, ``'L2_GAS'`` or ``'L1_DATA'``.
    """

    resource: int
    max_amount: int
    max_price_per_unit: int


@dataclass(frozen=True)
class TxContext:
    """The transaction a call runs in, as contracts see it through ``get_tx_info()``.

    cairo-lang's syscall handler only knows pre-v3 transactions; the engine fills every
    ``TxInfo`` field from this instead, so an account's ``__validate__`` can check a signature
    over ``transaction_hash`` and v3-aware code can read its resource bounds.
    ``chain_id`` of ``None`` means the chain's own (``BlockContext.chain_id``).
    """

    account_address: int = 0
    transaction_hash: int = 0
    signature: Sequence[int] = ()
    nonce: int = 0
    version: int = 3
    max_fee: int = 0
    chain_id: int | None = None
    resource_bounds: Sequence[ResourceBounds] = ()
    tip: int = 0
    paymaster_data: Sequence[int] = ()
    nonce_data_availability_mode: int = 0
    fee_data_availability_mode: int = 0
    account_deployment_data: Sequence[int] = ()

    def replace(self, **changes: object) -> TxContext:
        """A copy with some fields changed (e.g. the same tx with a query version)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class BlockContext:
    """The block a call runs in: what ``get_block_info()`` returns, plus the chain id and prices.

    Gas prices are carried for the devnet's fee computation; the engine itself never charges fees.
    """

    number: int = 0
    timestamp: int = 0
    sequencer_address: int = DEFAULT_SEQUENCER_ADDRESS
    chain_id: int = DEFAULT_CHAIN_ID
    starknet_version: str = "0.14.1"
    l1_gas_price_wei: int = 1_000_000_000
    l1_gas_price_fri: int = 1_000_000_000
    l1_data_gas_price_wei: int = 1
    l1_data_gas_price_fri: int = 1
    l2_gas_price_wei: int = 1
    l2_gas_price_fri: int = 1

    def replace(self, **changes: object) -> BlockContext:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
