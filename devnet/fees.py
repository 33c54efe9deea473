"""The fee model: what a transaction used, in Starknet's three resources, and what it costs.

Starknet (0.13.4+, all-resources v3 mode) prices three resources. This devnet measures them so:

* **l2_gas** (computation and data sent to L2) =
  ``TX_BASE_L2_GAS[type]`` (the OS's fixed work per tx: nonce, hash, fee checks)
  + ``100`` per Cairo step + each builtin use at its Starknet weight (:data:`BUILTIN_L2_GAS`)
  over ``__validate*__``, ``__execute__``/constructor and the fee transfer
  (:data:`FEE_TRANSFER_L2_GAS`, a constant: the fee cannot depend on itself)
  + ``5.12`` per felt of calldata, signature and paymaster data (``gas_per_data_felt``)
  + ``5.12`` per felt of emitted events, keys counted twice (``event_key_factor`` 2)
  + for a declare, ``32`` per byte of code (Sierra program and CASM bytecode, 32 bytes a felt).
* **l1_data_gas** (the state diff published in blobs) = ``32`` per felt of the squashed state
  diff, counted as Starknet's OS encodes it (:func:`state_diff_felts`), the fee transfer's
  two balance slots included.
* **l1_gas** = ``0`` (blob mode) except for L2 -> L1 messages, :data:`MESSAGE_L1_GAS` each plus
  :data:`MESSAGE_PAYLOAD_L1_GAS` per payload felt.

The fee is ``sum(amount * price)`` at the block's FRI prices (spec ``FEE_ESTIMATE.overall_fee``);
tips are carried but not charged (no mempool ordering to buy). The weights are Starknet's
versioned constants; the fixed parts are approximations. The model is deterministic, so
``starknet_estimateFee`` returns exactly the fee the same tx is then charged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from devnet.errors import InsufficientResourcesForValidateError
from devnet.models import (
    ExecutionResources,
    FeeEstimate,
    GasPrices,
    ResourceBounds,
    StateDiff,
    TransactionType,
)
from devnet.rejections import reject
from smainer.engine import Event, L2ToL1Message

__all__ = [
    "BUILTIN_L2_GAS",
    "FEE_TRANSFER_L2_GAS",
    "L2_GAS_PER_STEP",
    "TX_BASE_L2_GAS",
    "Usage",
    "check_bounds",
    "estimate",
    "exceeded_bound",
    "fee_of",
    "minimal_resources",
    "resources_of",
    "state_diff_felts",
]

L2_GAS_PER_STEP = 100
"""Sierra gas of one Cairo step (Starknet's ``step_gas_cost``)."""

BUILTIN_L2_GAS: Mapping[str, int] = {
    "pedersen_builtin": 4050,
    "range_check_builtin": 70,
    "ecdsa_builtin": 10561,
    "bitwise_builtin": 583,
    "ec_op_builtin": 4085,
    "keccak_builtin": 136189,
    "poseidon_builtin": 491,
    "range_check96_builtin": 56,
    "add_mod_builtin": 230,
    "mul_mod_builtin": 604,
}
"""L2 gas per builtin instance (Starknet 0.13.4+ ``builtin_gas_costs``); others are free."""

TX_BASE_L2_GAS: Mapping[TransactionType, int] = {
    # ~3,200 OS steps plus a few hashes per tx, as Starknet's os_resources charge them.
    TransactionType.INVOKE: 350_000,
    TransactionType.DECLARE: 365_000,
    TransactionType.DEPLOY_ACCOUNT: 420_000,
}
"""The OS's fixed work per transaction type, in L2 gas."""

FEE_TRANSFER_L2_GAS = 954 * L2_GAS_PER_STEP + 4 * 4050 + 29 * 70
"""What the fee token's ``transfer`` costs (954 steps, 4 pedersen, 29 range checks, measured on
the devnet's Token): a constant, because the fee it moves cannot depend on itself."""

DATA_FELT_L2_GAS = (5120, 1000)
"""``gas_per_data_felt`` as a fraction: calldata, signatures and event payloads."""

EVENT_KEY_FACTOR = 2
CODE_BYTE_L2_GAS = 32
"""``gas_per_code_byte``: a declared class's Sierra and CASM, 32 bytes per felt."""

DATA_GAS_PER_FELT = 32
"""Blob gas of one state-diff felt (one byte = one unit of data gas)."""

MESSAGE_L1_GAS = 29_524
MESSAGE_PAYLOAD_L1_GAS = 1_024


@dataclass(frozen=True)
class Usage:
    """What one transaction ran: the inputs of :func:`resources_of`."""

    type: TransactionType
    steps: int = 0
    builtins: Mapping[str, int] = field(default_factory=dict)
    data_felts: int = 0
    """Calldata (or constructor calldata), signature and paymaster data, in felts."""
    events: tuple[Event, ...] = ()
    messages: tuple[L2ToL1Message, ...] = ()
    state_diff_felts: int = 0
    code_felts: int = 0
    """For a declare: Sierra program plus CASM bytecode length."""


def _data_gas(felts: int) -> int:
    numerator, denominator = DATA_FELT_L2_GAS
    return math.ceil(felts * numerator / denominator)


def resources_of(usage: Usage) -> ExecutionResources:
    """The three resource amounts a tx is charged for (see the module docstring)."""
    computation = usage.steps * L2_GAS_PER_STEP + sum(
        count * BUILTIN_L2_GAS.get(name, 0) for name, count in usage.builtins.items()
    )
    event_felts = sum(EVENT_KEY_FACTOR * len(e.keys) + len(e.data) for e in usage.events)
    l2_gas = (
        TX_BASE_L2_GAS[usage.type]
        + computation
        + FEE_TRANSFER_L2_GAS
        + _data_gas(usage.data_felts + event_felts)
        + usage.code_felts * 32 * CODE_BYTE_L2_GAS
    )
    l1_gas = sum(
        MESSAGE_L1_GAS + MESSAGE_PAYLOAD_L1_GAS * len(message.payload) for message in usage.messages
    )
    return ExecutionResources(
        l1_gas=l1_gas,
        l1_data_gas=usage.state_diff_felts * DATA_GAS_PER_FELT,
        l2_gas=l2_gas,
    )


def minimal_resources(tx_type: TransactionType, data_felts: int) -> ExecutionResources:
    """The least any tx of this type uses: base, its data, a nonce bump and the fee transfer.

    A tx whose bounds are below this cannot even pay for its validation (spec error 53).
    """
    # Sender (address, packed nonce) + fee token (address, packed) + two balance slots.
    minimal_diff_felts = 2 + 2 + 2 * 2
    return ExecutionResources(
        l1_gas=0,
        l1_data_gas=minimal_diff_felts * DATA_GAS_PER_FELT,
        l2_gas=TX_BASE_L2_GAS[tx_type] + FEE_TRANSFER_L2_GAS + _data_gas(data_felts),
    )


def state_diff_felts(diff: StateDiff, also_changed: Iterable[tuple[int, int]] = ()) -> int:
    """Felts the OS publishes for ``diff`` (plus the storage slots ``also_changed``).

    Per touched contract: its address and one packed word (nonce, number of updates, class
    flag), the new class hash when deployed or replaced, and a key and value per changed slot;
    per declared class: its class hash and compiled class hash.
    """
    slots: dict[int, set[int]] = {}
    for address, key in (*diff.storage, *also_changed):
        slots.setdefault(address, set()).add(key)
    contracts = set(slots) | set(diff.nonces) | set(diff.deployed) | set(diff.replaced)
    return (
        2 * len(contracts)
        + len(diff.deployed)
        + len(diff.replaced)
        + 2 * sum(len(keys) for keys in slots.values())
        + 2 * len(diff.declared)
    )


def fee_of(resources: ExecutionResources, prices: GasPrices) -> int:
    """The fee in FRI: each amount at the block's STRK price."""
    return (
        resources.l1_gas * prices.l1_gas_fri
        + resources.l1_data_gas * prices.l1_data_gas_fri
        + resources.l2_gas * prices.l2_gas_fri
    )


def estimate(resources: ExecutionResources, prices: GasPrices) -> FeeEstimate:
    """Spec ``FEE_ESTIMATE`` of ``resources`` at ``prices``."""
    return FeeEstimate(
        l1_gas_consumed=resources.l1_gas,
        l1_gas_price=prices.l1_gas_fri,
        l1_data_gas_consumed=resources.l1_data_gas,
        l1_data_gas_price=prices.l1_data_gas_fri,
        l2_gas_consumed=resources.l2_gas,
        l2_gas_price=prices.l2_gas_fri,
        overall_fee=fee_of(resources, prices),
    )


def check_bounds(bounds: ResourceBounds, prices: GasPrices, minimal: ExecutionResources) -> None:
    """Refuse bounds that cannot pay the block's prices or the tx's minimal amounts (error 53).

    As Starknet does before validation: each resource's max price must cover the block's
    price, and each max amount the least the tx type can use.
    """
    for name, bound, price, least in (
        ("L1Gas", bounds.l1_gas, prices.l1_gas_fri, minimal.l1_gas),
        ("L1DataGas", bounds.l1_data_gas, prices.l1_data_gas_fri, minimal.l1_data_gas),
        ("L2Gas", bounds.l2_gas, prices.l2_gas_fri, minimal.l2_gas),
    ):
        if bound.max_price_per_unit < price:
            raise reject(
                InsufficientResourcesForValidateError,
                f"Insufficient max {name} price: max price per unit "
                f"{bound.max_price_per_unit}, actual price {price}",
            )
        if bound.max_amount < least:
            raise reject(
                InsufficientResourcesForValidateError,
                f"Insufficient max {name}: max amount {bound.max_amount}, minimal amount {least}",
            )


def exceeded_bound(resources: ExecutionResources, bounds: ResourceBounds) -> str | None:
    """The revert reason when the tx used more of a resource than its bound allows, else None."""
    for name, used, bound in (
        ("L1Gas", resources.l1_gas, bounds.l1_gas),
        ("L1DataGas", resources.l1_data_gas, bounds.l1_data_gas),
        ("L2Gas", resources.l2_gas, bounds.l2_gas),
    ):
        if used > bound.max_amount:
            return f"Insufficient max {name}: max amount: {bound.max_amount}, actual used: {used}"
    return None


def capped(resources: ExecutionResources, bounds: ResourceBounds) -> ExecutionResources:
    """``resources`` limited to the bounds: what a tx that ran out of a resource is charged."""
    return ExecutionResources(
        l1_gas=min(resources.l1_gas, bounds.l1_gas.max_amount),
        l1_data_gas=min(resources.l1_data_gas, bounds.l1_data_gas.max_amount),
        l2_gas=min(resources.l2_gas, bounds.l2_gas.max_amount),
    )
