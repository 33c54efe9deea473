"""JSON <-> Python for the spec's shapes (v0.10.2): the only module that touches wire dicts.

Parsing validates as it goes and raises :class:`~devnet.errors.InvalidParamsError` naming the
bad field, so handlers receive typed values. Transactions are parsed from the spec's
``BROADCASTED_*_TXN`` and hashed with starknet-py's own v3 hash functions, the code clients sign
with, so a signature that verifies in starknet-py verifies here. Rendering turns
:mod:`devnet.models` records into the spec's result objects: felts as ``0x`` hex, no leading zeros.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from starknet_py.hash.address import compute_address
from starknet_py.hash.sierra_class_hash import compute_sierra_class_hash
from starknet_py.hash.transaction import (
    CommonTransactionV3Fields,
    TransactionHashPrefix,
    compute_declare_v3_transaction_hash,
    compute_deploy_account_v3_transaction_hash,
    compute_invoke_v3_transaction_hash,
)
from starknet_py.net.client_models import DAMode, ResourceBoundsMapping
from starknet_py.net.client_models import ResourceBounds as PyResourceBounds
from starknet_py.net.schemas.rpc.contract import SierraContractClassSchema

from devnet.errors import (
    ContractClassSizeTooLargeError,
    InvalidParamsError,
    UnsupportedContractClassVersionError,
    UnsupportedTransactionVersionError,
)
from devnet.models import (
    QUERY_VERSION_BASE,
    Block,
    DeclareTransaction,
    DeployAccountTransaction,
    EmittedEvent,
    ExecutionResources,
    FeeEstimate,
    GasPrices,
    Invocation,
    InvokeTransaction,
    Receipt,
    ResourceBound,
    ResourceBounds,
    StateDiff,
    Transaction,
    TransactionTrace,
    TransactionType,
)
from devnet.rejections import reject
from smainer.engine import Event, L2ToL1Message

__all__ = [
    "FIELD_PRIME",
    "BlockId",
    "Broadcasted",
    "block_header_json",
    "bounded",
    "casm_json",
    "check_class_limits",
    "contract_class_json",
    "declared_class_hash",
    "emitted_event_json",
    "event_json",
    "fee_estimate_json",
    "felt",
    "hexify",
    "invocation_json",
    "message_json",
    "parse_block_id",
    "parse_broadcasted",
    "parse_felts",
    "prices_of",
    "receipt_json",
    "resources_json",
    "state_diff_json",
    "trace_json",
    "transaction_json",
]

FIELD_PRIME = 2**251 + 17 * 2**192 + 1
"""Starknet's field: every FELT is below it."""

Json = dict[str, Any]
BlockTag = Literal["latest", "pre_confirmed", "l1_accepted"]


def hexify(value: int) -> str:
    """A FELT as the spec writes it: ``0x`` and lowercase hex without leading zeros."""
    return hex(value)


_FELT_TEXT = re.compile(r"0x[0-9a-fA-F]{1,64}", re.ASCII)
"""The spec's FELT (``^0x(0|[a-fA-F1-9][a-fA-F0-9]{0,62})$``), leading zeros allowed as Starknet
nodes and starknet-devnet allow them (clients send 64-digit padded addresses). ASCII only:
Python's ``int`` would take Arabic-Indic or fullwidth digits, ``_`` and surrounding spaces."""


def felt(value: Any, name: str) -> int:
    """A FELT param: a ``0x`` hex string (the spec's form), below the field prime.

    JSON integers are refused: the spec's FELT is a string, and a JSON number above 2^53 is
    rounded by most clients before it arrives.
    """
    if not isinstance(value, str) or _FELT_TEXT.fullmatch(value) is None:
        raise InvalidParamsError(f"{name} must be a 0x-prefixed hex felt, got {value!r:.80}")
    number = int(value, 16)
    if number >= FIELD_PRIME:
        raise InvalidParamsError(f"{name} is outside the field: {value!r}")
    return number


def bounded(value: Any, name: str, bits: int) -> int:
    """A ``u64``/``u128`` param (hex string, as the spec writes them)."""
    number = felt(value, name)
    if number >= 2**bits:
        raise InvalidParamsError(f"{name} does not fit in u{bits}: {value!r}")
    return number


def parse_felts(value: Any, name: str) -> tuple[int, ...]:
    """An array of FELTs."""
    if not isinstance(value, list):
        raise InvalidParamsError(f"{name} must be an array of felts")
    return tuple(felt(item, f"{name}[{index}]") for index, item in enumerate(value))


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidParamsError(f"{name} must be an object")
    return value


def _field(obj: Mapping[str, Any], key: str, name: str) -> Any:
    if key not in obj:
        raise InvalidParamsError(f"{name} lacks {key!r}")
    return obj[key]


# Block ids.


@dataclass(frozen=True)
class BlockId:
    """A parsed ``BLOCK_ID``: exactly one of ``tag``, ``number``, ``hash`` is set."""

    tag: BlockTag | None = None
    number: int | None = None
    hash: int | None = None


def parse_block_id(value: Any, name: str = "block_id") -> BlockId:
    """A block tag (``latest``, ``pre_confirmed``, ``l1_accepted``), number or hash."""
    if isinstance(value, str):
        if value in ("latest", "pre_confirmed", "l1_accepted"):
            return BlockId(tag=value)  # type: ignore[arg-type]
        raise InvalidParamsError(f"{name}: unknown block tag {value!r}")
    if isinstance(value, dict) and len(value) == 1:
        if "block_number" in value:
            number = value["block_number"]
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise InvalidParamsError(f"{name}.block_number must be a non-negative integer")
            return BlockId(number=number)
        if "block_hash" in value:
            return BlockId(hash=felt(value["block_hash"], f"{name}.block_hash"))
    raise InvalidParamsError(f"{name} must be a block tag, {{block_number}} or {{block_hash}}")


# Broadcasted transactions.

_TX_VERSIONS = {3, QUERY_VERSION_BASE + 3}
_DA_MODES = {"L1": 0, "L2": 1}


@dataclass(frozen=True)
class Broadcasted:
    """A parsed ``BROADCASTED_TXN``: the tx as it will be stored, plus a declare's class."""

    tx: Transaction
    contract_class: Json | None = None
    """The Sierra class a declare carries (``sierra_program``, ``entry_points_by_type``...)."""


def _version(tx: Mapping[str, Any], name: str) -> int:
    raw = _field(tx, "version", name)
    try:
        version = felt(raw, f"{name}.version")
    except InvalidParamsError:
        raise reject(UnsupportedTransactionVersionError, f"version {raw!r}") from None
    if version not in _TX_VERSIONS:
        raise reject(UnsupportedTransactionVersionError, f"version {raw}: v3 only")
    return version


def _bound(obj: Mapping[str, Any], key: str, name: str) -> ResourceBound:
    bound = _object(obj.get(key, {"max_amount": "0x0", "max_price_per_unit": "0x0"}), name)
    return ResourceBound(
        max_amount=bounded(_field(bound, "max_amount", name), f"{name}.max_amount", 64),
        max_price_per_unit=bounded(
            _field(bound, "max_price_per_unit", name), f"{name}.max_price_per_unit", 128
        ),
    )


def _resource_bounds(value: Any, name: str) -> ResourceBounds:
    obj = _object(value, name)
    return ResourceBounds(
        l1_gas=_bound(obj, "l1_gas", f"{name}.l1_gas"),
        l1_data_gas=_bound(obj, "l1_data_gas", f"{name}.l1_data_gas"),
        l2_gas=_bound(obj, "l2_gas", f"{name}.l2_gas"),
    )


def _da_mode(value: Any, name: str) -> int:
    if value not in _DA_MODES:
        raise InvalidParamsError(f"{name} must be 'L1' or 'L2', got {value!r}")
    return _DA_MODES[value]


def _common(tx: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {
        "version": _version(tx, name),
        "signature": parse_felts(_field(tx, "signature", name), f"{name}.signature"),
        "nonce": felt(_field(tx, "nonce", name), f"{name}.nonce"),
        "resource_bounds": _resource_bounds(
            _field(tx, "resource_bounds", name), f"{name}.resource_bounds"
        ),
        "tip": bounded(tx.get("tip", "0x0"), f"{name}.tip", 64),
        "paymaster_data": parse_felts(tx.get("paymaster_data", []), f"{name}.paymaster_data"),
        "nonce_data_availability_mode": _da_mode(
            tx.get("nonce_data_availability_mode", "L1"), f"{name}.nonce_data_availability_mode"
        ),
        "fee_data_availability_mode": _da_mode(
            tx.get("fee_data_availability_mode", "L1"), f"{name}.fee_data_availability_mode"
        ),
    }


def _hash_fields(
    common: Mapping[str, Any], prefix: TransactionHashPrefix, address: int, chain_id: int
) -> CommonTransactionV3Fields:
    bounds: ResourceBounds = common["resource_bounds"]
    return CommonTransactionV3Fields(
        tx_prefix=prefix,
        version=common["version"],
        address=address,
        tip=common["tip"],
        resource_bounds=ResourceBoundsMapping(
            l1_gas=PyResourceBounds(bounds.l1_gas.max_amount, bounds.l1_gas.max_price_per_unit),
            l2_gas=PyResourceBounds(bounds.l2_gas.max_amount, bounds.l2_gas.max_price_per_unit),
            l1_data_gas=PyResourceBounds(
                bounds.l1_data_gas.max_amount, bounds.l1_data_gas.max_price_per_unit
            ),
        ),
        paymaster_data=list(common["paymaster_data"]),
        chain_id=chain_id,
        nonce=common["nonce"],
        nonce_data_availability_mode=DAMode(common["nonce_data_availability_mode"]),
        fee_data_availability_mode=DAMode(common["fee_data_availability_mode"]),
    )


def parse_broadcasted(value: Any, chain_id: int, name: str = "transaction") -> Broadcasted:
    """Parse and hash one ``BROADCASTED_TXN`` (v3 only: anything else is spec error 61)."""
    tx = _object(value, name)
    kind = _field(tx, "type", name)
    if kind == "INVOKE":
        return Broadcasted(_parse_invoke(tx, chain_id, name))
    if kind == "DECLARE":
        return _parse_declare(tx, chain_id, name)
    if kind == "DEPLOY_ACCOUNT":
        return Broadcasted(_parse_deploy_account(tx, chain_id, name))
    raise InvalidParamsError(f"{name}.type must be INVOKE, DECLARE or DEPLOY_ACCOUNT")


def _parse_invoke(tx: Mapping[str, Any], chain_id: int, name: str) -> InvokeTransaction:
    common = _common(tx, name)
    sender = felt(_field(tx, "sender_address", name), f"{name}.sender_address")
    calldata = parse_felts(_field(tx, "calldata", name), f"{name}.calldata")
    deployment = parse_felts(
        tx.get("account_deployment_data", []), f"{name}.account_deployment_data"
    )
    proof_facts = parse_felts(tx.get("proof_facts") or [], f"{name}.proof_facts")
    tx_hash = compute_invoke_v3_transaction_hash(
        account_deployment_data=list(deployment),
        calldata=list(calldata),
        common_fields=_hash_fields(common, TransactionHashPrefix.INVOKE, sender, chain_id),
        proof_facts=list(proof_facts) or None,
    )
    return InvokeTransaction(
        transaction_hash=tx_hash,
        sender_address=sender,
        calldata=calldata,
        account_deployment_data=deployment,
        proof_facts=proof_facts,
        **common,
    )


def _parse_declare(tx: Mapping[str, Any], chain_id: int, name: str) -> Broadcasted:
    common = _common(tx, name)
    sender = felt(_field(tx, "sender_address", name), f"{name}.sender_address")
    compiled_class_hash = felt(
        _field(tx, "compiled_class_hash", name), f"{name}.compiled_class_hash"
    )
    contract_class = dict(_object(_field(tx, "contract_class", name), f"{name}.contract_class"))
    check_class_limits(contract_class, f"{name}.contract_class")
    class_hash = declared_class_hash(contract_class, f"{name}.contract_class")
    deployment = parse_felts(
        tx.get("account_deployment_data", []), f"{name}.account_deployment_data"
    )
    tx_hash = compute_declare_v3_transaction_hash(
        class_hash=class_hash,
        account_deployment_data=list(deployment),
        compiled_class_hash=compiled_class_hash,
        common_fields=_hash_fields(common, TransactionHashPrefix.DECLARE, sender, chain_id),
    )
    declare = DeclareTransaction(
        transaction_hash=tx_hash,
        sender_address=sender,
        class_hash=class_hash,
        compiled_class_hash=compiled_class_hash,
        account_deployment_data=deployment,
        **common,
    )
    return Broadcasted(declare, contract_class)


def _parse_deploy_account(
    tx: Mapping[str, Any], chain_id: int, name: str
) -> DeployAccountTransaction:
    common = _common(tx, name)
    class_hash = felt(_field(tx, "class_hash", name), f"{name}.class_hash")
    salt = felt(_field(tx, "contract_address_salt", name), f"{name}.contract_address_salt")
    calldata = parse_felts(_field(tx, "constructor_calldata", name), f"{name}.constructor_calldata")
    address = compute_address(
        class_hash=class_hash, constructor_calldata=list(calldata), salt=salt, deployer_address=0
    )
    tx_hash = compute_deploy_account_v3_transaction_hash(
        class_hash=class_hash,
        constructor_calldata=list(calldata),
        contract_address_salt=salt,
        common_fields=_hash_fields(common, TransactionHashPrefix.DEPLOY_ACCOUNT, address, chain_id),
    )
    return DeployAccountTransaction(
        transaction_hash=tx_hash,
        class_hash=class_hash,
        contract_address_salt=salt,
        constructor_calldata=calldata,
        contract_address=address,
        **common,
    )


SUPPORTED_CLASS_VERSIONS = frozenset({"0.1.0"})
"""Sierra ``contract_class_version``s the Starknet OS (and so this devnet) runs: the spec's
CONTRACT_CLASS says "Currently, the Starknet OS supports version 0.1.0"."""

MAX_SIERRA_FELTS = 81_920
"""Starknet's bytecode limit, applied to the Sierra program: longer is spec error 57."""


def check_class_limits(contract_class: Mapping[str, Any], name: str = "contract_class") -> None:
    """The cheap checks of a declared class, before it is hashed or compiled (seconds of work):
    an unknown version is spec error 62, a program over :data:`MAX_SIERRA_FELTS` error 57."""
    version = contract_class.get("contract_class_version")
    if not isinstance(version, str):
        raise InvalidParamsError(f"{name}.contract_class_version must be a string")
    if version not in SUPPORTED_CLASS_VERSIONS:
        raise reject(UnsupportedContractClassVersionError, f"{name}: version {version!r:.40}")
    program = contract_class.get("sierra_program")
    if not isinstance(program, list):
        raise InvalidParamsError(f"{name}.sierra_program must be an array of felts")
    if len(program) > MAX_SIERRA_FELTS:
        raise reject(ContractClassSizeTooLargeError, f"{name}: {len(program)} Sierra felts")


def declared_class_hash(contract_class: Mapping[str, Any], name: str = "contract_class") -> int:
    """The class hash of a spec ``CONTRACT_CLASS`` as a client sent it (ABI as a string, params
    checked), via starknet-py; :func:`smainer.class_hash.sierra_class_hash` hashes our artifacts.

    Hashing a large Sierra program takes seconds in Python, and the same class arrives several
    times (estimate, simulate, declare), so results are memoized by the class's content.
    """
    wire = {key: contract_class[key] for key in _CLASS_KEYS if key in contract_class}
    if not isinstance(wire.get("abi", ""), str):
        wire["abi"] = json.dumps(wire["abi"])
    try:
        text = json.dumps(wire, sort_keys=True)
    except (TypeError, ValueError):
        raise InvalidParamsError(f"{name} is not a valid Sierra class") from None
    digest = hashlib.sha256(text.encode()).digest()
    cached = _CLASS_HASHES.get(digest)
    if cached is None:
        try:
            parsed = SierraContractClassSchema().load(wire)
            cached = int(compute_sierra_class_hash(parsed))
        except Exception as exc:
            raise InvalidParamsError(f"{name} is not a valid Sierra class: {exc}") from None
        _CLASS_HASHES[digest] = cached
    return cached


_CLASS_HASHES: dict[bytes, int] = {}


_CLASS_KEYS = ("sierra_program", "contract_class_version", "entry_points_by_type", "abi")


# Rendering.


def _hexes(values: Sequence[int]) -> list[str]:
    return [hex(value) for value in values]


def _bounds_json(bounds: ResourceBounds) -> Json:
    return {
        name: {
            "max_amount": hex(bound.max_amount),
            "max_price_per_unit": hex(bound.max_price_per_unit),
        }
        for name, bound in (
            ("l1_gas", bounds.l1_gas),
            ("l1_data_gas", bounds.l1_data_gas),
            ("l2_gas", bounds.l2_gas),
        )
    }


_DA_NAMES = {0: "L1", 1: "L2"}


def transaction_json(tx: Transaction, *, with_hash: bool = True, proof_facts: bool = False) -> Json:
    """Spec ``TXN`` (``TXN_WITH_HASH`` when ``with_hash``) of a stored transaction."""
    out: Json = {"type": tx.type.value}
    if isinstance(tx, InvokeTransaction):
        out["sender_address"] = hex(tx.sender_address)
        out["calldata"] = _hexes(tx.calldata)
    elif isinstance(tx, DeclareTransaction):
        out["sender_address"] = hex(tx.sender_address)
        out["class_hash"] = hex(tx.class_hash)
        out["compiled_class_hash"] = hex(tx.compiled_class_hash)
    else:
        out["class_hash"] = hex(tx.class_hash)
        out["contract_address_salt"] = hex(tx.contract_address_salt)
        out["constructor_calldata"] = _hexes(tx.constructor_calldata)
    out.update(
        version=hex(tx.version),
        signature=_hexes(tx.signature),
        nonce=hex(tx.nonce),
        resource_bounds=_bounds_json(tx.resource_bounds),
        tip=hex(tx.tip),
        paymaster_data=_hexes(tx.paymaster_data),
        nonce_data_availability_mode=_DA_NAMES[tx.nonce_data_availability_mode],
        fee_data_availability_mode=_DA_NAMES[tx.fee_data_availability_mode],
    )
    if not isinstance(tx, DeployAccountTransaction):
        out["account_deployment_data"] = _hexes(tx.account_deployment_data)
    if isinstance(tx, InvokeTransaction) and proof_facts:
        out["proof_facts"] = _hexes(tx.proof_facts)
    if with_hash:
        out["transaction_hash"] = hex(tx.transaction_hash)
    return out


def event_json(event: Event) -> Json:
    """Spec ``EVENT``."""
    return {
        "from_address": hex(event.from_address),
        "keys": _hexes(event.keys),
        "data": _hexes(event.data),
    }


def message_json(message: L2ToL1Message) -> Json:
    """Spec ``MSG_TO_L1``."""
    return {
        "from_address": hex(message.from_address),
        "to_address": hex(message.to_address),
        "payload": _hexes(message.payload),
    }


def resources_json(resources: ExecutionResources) -> Json:
    """Spec ``EXECUTION_RESOURCES`` (integers, not hex)."""
    return {
        "l1_gas": resources.l1_gas,
        "l1_data_gas": resources.l1_data_gas,
        "l2_gas": resources.l2_gas,
    }


def receipt_json(receipt: Receipt, finality_status: str, block: Block | None = None) -> Json:
    """Spec ``TXN_RECEIPT``; with ``block``, ``TXN_RECEIPT_WITH_BLOCK_INFO``.

    A pre-confirmed block has no hash yet, so only its number is given (as the spec says).
    """
    out: Json = {
        "type": receipt.type.value,
        "transaction_hash": hex(receipt.transaction_hash),
        "actual_fee": {"amount": hex(receipt.actual_fee), "unit": "FRI"},
        "execution_status": "SUCCEEDED" if receipt.succeeded else "REVERTED",
        "finality_status": finality_status,
        "messages_sent": [message_json(m) for m in receipt.messages_sent],
        "events": [event_json(e) for e in receipt.events],
        "execution_resources": resources_json(receipt.execution_resources),
    }
    if receipt.revert_reason is not None:
        out["revert_reason"] = receipt.revert_reason
    if receipt.contract_address is not None:
        out["contract_address"] = hex(receipt.contract_address)
    if block is not None:
        if block.block_hash is not None:
            out["block_hash"] = hex(block.block_hash)
        out["block_number"] = block.number
    return out


def _price(fri: int, wei: int) -> Json:
    return {"price_in_fri": hex(fri), "price_in_wei": hex(wei)}


def block_header_json(block: Block, status: str) -> Json:
    """Spec ``BLOCK_HEADER`` plus ``status``, or ``PRE_CONFIRMED_BLOCK_HEADER`` if pending."""
    prices = block.prices
    out: Json = {
        "block_number": block.number,
        "timestamp": block.timestamp,
        "sequencer_address": hex(block.sequencer_address),
        "l1_gas_price": _price(prices.l1_gas_fri, prices.l1_gas_wei),
        "l2_gas_price": _price(prices.l2_gas_fri, prices.l2_gas_wei),
        "l1_data_gas_price": _price(prices.l1_data_gas_fri, prices.l1_data_gas_wei),
        "l1_da_mode": "BLOB",
        "starknet_version": block.starknet_version,
    }
    if block.block_hash is None:
        return out
    return {
        "status": status,
        "block_hash": hex(block.block_hash),
        "parent_hash": hex(block.parent_hash),
        "new_root": hex(block.new_root),
        **out,
        "event_commitment": hex(block.event_commitment),
        "transaction_commitment": hex(block.transaction_commitment),
        "receipt_commitment": hex(block.receipt_commitment),
        "state_diff_commitment": hex(block.state_diff_commitment),
        "event_count": block.event_count,
        "transaction_count": len(block.transactions),
        "state_diff_length": block.state_diff.length,
    }


def state_diff_json(diff: StateDiff) -> Json:
    """Spec ``STATE_DIFF``."""
    storage: dict[int, list[Json]] = {}
    for (address, key), value in diff.storage.items():
        storage.setdefault(address, []).append({"key": hex(key), "value": hex(value)})
    return {
        "storage_diffs": [
            {"address": hex(address), "storage_entries": entries}
            for address, entries in storage.items()
        ],
        "deprecated_declared_classes": [],
        "declared_classes": [
            {"class_hash": hex(class_hash), "compiled_class_hash": hex(compiled)}
            for class_hash, compiled in diff.declared.items()
        ],
        "migrated_compiled_classes": [],
        "deployed_contracts": [
            {"address": hex(address), "class_hash": hex(class_hash)}
            for address, class_hash in diff.deployed.items()
        ],
        "replaced_classes": [
            {"contract_address": hex(address), "class_hash": hex(class_hash)}
            for address, class_hash in diff.replaced.items()
        ],
        "nonces": [
            {"contract_address": hex(address), "nonce": hex(nonce)}
            for address, nonce in diff.nonces.items()
        ],
    }


def fee_estimate_json(estimate: FeeEstimate) -> Json:
    """Spec ``FEE_ESTIMATE`` (u64/u128 as hex strings, unit FRI)."""
    return {
        "l1_gas_consumed": hex(estimate.l1_gas_consumed),
        "l1_gas_price": hex(estimate.l1_gas_price),
        "l2_gas_consumed": hex(estimate.l2_gas_consumed),
        "l2_gas_price": hex(estimate.l2_gas_price),
        "l1_data_gas_consumed": hex(estimate.l1_data_gas_consumed),
        "l1_data_gas_price": hex(estimate.l1_data_gas_price),
        "overall_fee": hex(estimate.overall_fee),
        "unit": "FRI",
    }


def emitted_event_json(emitted: EmittedEvent) -> Json:
    """Spec ``EMITTED_EVENT``; no ``block_hash`` while the block is pre-confirmed."""
    out = event_json(emitted.event)
    if emitted.block_hash is not None:
        out["block_hash"] = hex(emitted.block_hash)
    out.update(
        block_number=emitted.block_number,
        transaction_hash=hex(emitted.transaction_hash),
        transaction_index=emitted.transaction_index,
        event_index=emitted.event_index,
    )
    return out


def contract_class_json(sierra: Mapping[str, Any]) -> Json:
    """Spec ``CONTRACT_CLASS`` from a Sierra artifact or a declared class (ABI as a string)."""
    abi = sierra.get("abi", "")
    return {
        "sierra_program": list(sierra["sierra_program"]),
        "contract_class_version": sierra["contract_class_version"],
        "entry_points_by_type": sierra["entry_points_by_type"],
        "abi": abi if isinstance(abi, str) else json.dumps(abi),
    }


def casm_json(casm: Mapping[str, Any]) -> Json:
    """Spec ``CASM_COMPILED_CONTRACT_CLASS``: the CASM without the devnet-only Python hints."""
    return {key: value for key, value in casm.items() if key != "pythonic_hints"}


def prices_of(prices: GasPrices) -> Json:
    """The prices as ``devnet_getConfig`` reports them (starknet-devnet's names)."""
    return {
        "gas_price_wei": prices.l1_gas_wei,
        "gas_price_fri": prices.l1_gas_fri,
        "data_gas_price_wei": prices.l1_data_gas_wei,
        "data_gas_price_fri": prices.l1_data_gas_fri,
        "l2_gas_price_wei": prices.l2_gas_wei,
        "l2_gas_price_fri": prices.l2_gas_fri,
    }


def invocation_json(call: Invocation) -> Json:
    """Spec ``FUNCTION_INVOCATION``, its nested calls included.

    ``is_reverted`` is always false: an inner call that fails reverts the whole top-level call
    here (the engine does not let a contract catch it), so no failed call survives in a trace.
    """
    return {
        "contract_address": hex(call.contract_address),
        "entry_point_selector": hex(call.entry_point_selector),
        "calldata": _hexes(call.calldata),
        "caller_address": hex(call.caller_address),
        "class_hash": hex(call.class_hash),
        "entry_point_type": call.entry_point_type,
        "call_type": call.call_type,
        "result": _hexes(call.result),
        "calls": [invocation_json(inner) for inner in call.calls],
        "events": [
            {"order": order, "keys": _hexes(event.keys), "data": _hexes(event.data)}
            for order, event in call.ordered_events()
        ],
        "messages": [
            {"order": order, **message_json(message)} for order, message in call.ordered_messages()
        ],
        "execution_resources": {"l1_gas": 0, "l2_gas": call.l2_gas},
        "is_reverted": False,
    }


def trace_json(trace: TransactionTrace) -> Json:
    """Spec ``TRANSACTION_TRACE`` (invoke, declare or deploy-account shape)."""
    out: Json = {"type": trace.type.value}
    if trace.validate is not None:
        out["validate_invocation"] = invocation_json(trace.validate)
    if trace.type is TransactionType.INVOKE:
        if trace.execute is not None:
            out["execute_invocation"] = invocation_json(trace.execute)
        else:
            out["execute_invocation"] = {"revert_reason": trace.execute_revert_reason or ""}
    if trace.constructor is not None:
        out["constructor_invocation"] = invocation_json(trace.constructor)
    if trace.fee_transfer is not None:
        out["fee_transfer_invocation"] = invocation_json(trace.fee_transfer)
    out["state_diff"] = state_diff_json(trace.state_diff)
    out["execution_resources"] = resources_json(trace.execution_resources)
    return out
