"""The spec's read API (blocks, transactions, state, classes, ``call``, events), one named
function per method.

Each handler takes the :class:`~devnet.state.Devnet` first, then the spec's params by their
spec names (raw JSON: parsing them is the handler's first job), and returns the spec's result
shape; :func:`devnet.methods.starknet.register` binds the devnet. Tests call them directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from devnet.codec import (
    Json,
    block_header_json,
    casm_json,
    contract_class_json,
    emitted_event_json,
    felt,
    parse_block_id,
    parse_felts,
    receipt_json,
    state_diff_json,
    transaction_json,
)
from devnet.errors import (
    InvalidContinuationTokenError,
    InvalidParamsError,
    StorageProofNotSupportedError,
    TransactionHashNotFoundError,
)
from devnet.events import EventFilter
from devnet.methods.params import EventsFilter, FunctionCall, convert, flags, optional_block
from devnet.methods.params import index as parse_index
from devnet.models import Block, StateDiff
from devnet.rejections import reject
from devnet.state import Devnet, Located

SPEC_VERSION = "0.10.2"

_PROOF_FACTS = {"INCLUDE_PROOF_FACTS"}


def block_status(block: Block) -> str:
    return "PRE_CONFIRMED" if block.is_pre_confirmed else "ACCEPTED_ON_L2"


def finality(devnet: Devnet, located: Located) -> str:
    pending = devnet.is_pre_confirmed(located.transaction.transaction_hash)
    return "PRE_CONFIRMED" if pending else "ACCEPTED_ON_L2"


def spec_version(devnet: Devnet) -> str:
    return SPEC_VERSION


def chain_id(devnet: Devnet) -> str:
    return hex(devnet.chain_id)


def syncing(devnet: Devnet) -> bool:
    return False


def block_number(devnet: Devnet) -> int:
    return devnet.latest_block.number


def block_hash_and_number(devnet: Devnet) -> Json:
    block = devnet.latest_block
    return {"block_hash": hex(block.block_hash or 0), "block_number": block.number}


def _block_json(devnet: Devnet, block_id: Any, body: str, response_flags: Any = None) -> Json:
    """A block with its transactions as hashes, transactions or transactions with receipts."""
    proofs = "INCLUDE_PROOF_FACTS" in flags(response_flags, "response_flags", _PROOF_FACTS)
    block = devnet.get_block(parse_block_id(block_id))
    status = block_status(block)
    out = block_header_json(block, status)
    transactions = devnet.block_transactions(block)
    if body == "hashes":
        out["transactions"] = [hex(t.transaction.transaction_hash) for t in transactions]
    elif body == "txs":
        out["transactions"] = [
            transaction_json(t.transaction, proof_facts=proofs) for t in transactions
        ]
    else:
        out["transactions"] = [
            {
                "transaction": transaction_json(t.transaction, with_hash=False, proof_facts=proofs),
                "receipt": receipt_json(t.receipt, status),
            }
            for t in transactions
        ]
    return out


def get_block_with_tx_hashes(devnet: Devnet, block_id: Any) -> Json:
    return _block_json(devnet, block_id, "hashes")


def get_block_with_txs(devnet: Devnet, block_id: Any, response_flags: Any = None) -> Json:
    return _block_json(devnet, block_id, "txs", response_flags)


def get_block_with_receipts(devnet: Devnet, block_id: Any, response_flags: Any = None) -> Json:
    return _block_json(devnet, block_id, "receipts", response_flags)


def get_block_transaction_count(devnet: Devnet, block_id: Any) -> int:
    return len(devnet.get_block(parse_block_id(block_id)).transactions)


def get_state_update(devnet: Devnet, block_id: Any, contract_addresses: Any = None) -> Json:
    parsed = parse_block_id(block_id)
    wanted = None
    if contract_addresses is not None:
        wanted = set(parse_felts(contract_addresses, "contract_addresses"))
    block = devnet.get_state_update(parsed)
    diff = block.state_diff
    if wanted is not None:
        diff = StateDiff(
            storage={k: v for k, v in diff.storage.items() if k[0] in wanted},
            nonces={k: v for k, v in diff.nonces.items() if k in wanted},
            deployed={k: v for k, v in diff.deployed.items() if k in wanted},
            replaced={k: v for k, v in diff.replaced.items() if k in wanted},
            declared=diff.declared,
        )
    if block.is_pre_confirmed:
        return {"old_root": hex(block.old_root), "state_diff": state_diff_json(diff)}
    return {
        "block_hash": hex(block.block_hash or 0),
        "old_root": hex(block.old_root),
        "new_root": hex(block.new_root),
        "state_diff": state_diff_json(diff),
    }


def get_storage_at(
    devnet: Devnet, contract_address: Any, key: Any, block_id: Any, response_flags: Any = None
) -> Any:
    wanted = flags(response_flags, "response_flags", {"INCLUDE_LAST_UPDATE_BLOCK"})
    value, last_update = devnet.get_storage_at(
        felt(contract_address, "contract_address"), felt(key, "key"), parse_block_id(block_id)
    )
    if "INCLUDE_LAST_UPDATE_BLOCK" in wanted:
        return {"value": hex(value), "last_update_block": last_update}
    return hex(value)


def get_transaction_status(devnet: Devnet, transaction_hash: Any) -> Json:
    located = devnet.get_transaction(felt(transaction_hash, "transaction_hash"))
    out: Json = {
        "finality_status": finality(devnet, located),
        "execution_status": "SUCCEEDED" if located.receipt.succeeded else "REVERTED",
    }
    if located.receipt.revert_reason is not None:
        out["failure_reason"] = located.receipt.revert_reason
    return out


def get_messages_status(devnet: Devnet, transaction_hash: Any) -> list[Json]:
    felt(transaction_hash, "transaction_hash")
    raise reject(TransactionHashNotFoundError, "this devnet has no L1 -> L2 messages")


def get_transaction_by_hash(
    devnet: Devnet, transaction_hash: Any, response_flags: Any = None
) -> Json:
    proofs = "INCLUDE_PROOF_FACTS" in flags(response_flags, "response_flags", _PROOF_FACTS)
    located = devnet.get_transaction(felt(transaction_hash, "transaction_hash"))
    return transaction_json(located.transaction, proof_facts=proofs)


def get_transaction_by_block_id_and_index(
    devnet: Devnet, block_id: Any, index: Any, response_flags: Any = None
) -> Json:
    proofs = "INCLUDE_PROOF_FACTS" in flags(response_flags, "response_flags", _PROOF_FACTS)
    located = devnet.get_transaction_by_index(parse_block_id(block_id), parse_index(index, "index"))
    return transaction_json(located.transaction, proof_facts=proofs)


def get_transaction_receipt(devnet: Devnet, transaction_hash: Any) -> Json:
    located = devnet.get_transaction(felt(transaction_hash, "transaction_hash"))
    return receipt_json(located.receipt, finality(devnet, located), devnet.block_of(located))


def get_class(devnet: Devnet, block_id: Any, class_hash: Any) -> Json:
    parsed = parse_block_id(block_id)
    return contract_class_json(devnet.get_class(felt(class_hash, "class_hash"), parsed))


def get_class_hash_at(devnet: Devnet, block_id: Any, contract_address: Any) -> str:
    parsed = parse_block_id(block_id)
    return hex(devnet.get_class_hash_at(felt(contract_address, "contract_address"), parsed))


def get_class_at(devnet: Devnet, block_id: Any, contract_address: Any) -> Json:
    parsed = parse_block_id(block_id)
    class_hash = devnet.get_class_hash_at(felt(contract_address, "contract_address"), parsed)
    return contract_class_json(devnet.get_class(class_hash, parsed))


def get_compiled_casm(devnet: Devnet, class_hash: Any) -> Json:
    return casm_json(devnet.get_compiled_casm(felt(class_hash, "class_hash")))


def get_nonce(devnet: Devnet, block_id: Any, contract_address: Any) -> str:
    parsed = parse_block_id(block_id)
    return hex(devnet.get_nonce(felt(contract_address, "contract_address"), parsed))


def call(devnet: Devnet, request: Any, block_id: Any) -> list[str]:
    address, selector, calldata = convert(request, FunctionCall, "request").parsed("request")
    result = devnet.call(address, selector, calldata, parse_block_id(block_id))
    return [hex(value) for value in result]


def get_events(devnet: Devnet, filter: Any) -> Json:
    wanted = convert(filter, EventsFilter, "filter")
    if wanted.chunk_size < 1:
        raise InvalidParamsError("filter.chunk_size must be a positive integer")
    addresses: frozenset[int] | None = None
    if isinstance(wanted.address, list):
        addresses = frozenset(parse_felts(wanted.address, "filter.address"))
    elif wanted.address is not None:
        addresses = frozenset([felt(wanted.address, "filter.address")])
    event_filter = EventFilter(
        addresses=addresses,
        keys=tuple(
            frozenset(parse_felts(position, f"filter.keys[{i}]"))
            for i, position in enumerate(wanted.keys or [])
        ),
    )
    token = wanted.continuation_token
    if token is not None and _TOKEN.fullmatch(token) is None:
        raise reject(InvalidContinuationTokenError, f"malformed token {token!r:.80}")
    events, next_token = devnet.get_events(
        event_filter,
        from_block=optional_block(wanted.from_block, "filter.from_block"),
        to_block=optional_block(wanted.to_block, "filter.to_block"),
        chunk_size=wanted.chunk_size,
        continuation_token=token,
    )
    out: Json = {"events": [emitted_event_json(event) for event in events]}
    if next_token is not None:
        out["continuation_token"] = next_token
    return out


_TOKEN = re.compile(r"[0-9]{1,20}-[0-9]{1,20}-[0-9]{1,20}", re.ASCII)
"""The shape of the tokens :mod:`devnet.events` issues; anything else is spec error 33."""


def get_storage_proof(
    devnet: Devnet,
    block_id: Any,
    class_hashes: Any = None,
    contract_addresses: Any = None,
    contracts_storage_keys: Any = None,
) -> Json:
    """Checked like any read (``-32602`` for wrong types, 24 for an unknown block), then
    error 42: this devnet keeps no Merkle-Patricia tries to prove against."""
    devnet.get_block(parse_block_id(block_id))
    for value, name in ((class_hashes, "class_hashes"), (contract_addresses, "contract_addresses")):
        if value is not None:
            parse_felts(value, name)
    if contracts_storage_keys is not None:
        if not isinstance(contracts_storage_keys, list):
            raise InvalidParamsError("contracts_storage_keys must be an array")
        for i, entry in enumerate(contracts_storage_keys):
            name = f"contracts_storage_keys[{i}]"
            if not isinstance(entry, dict) or set(entry) != {"contract_address", "storage_keys"}:
                raise InvalidParamsError(f"{name} must be {{contract_address, storage_keys}}")
            felt(entry["contract_address"], f"{name}.contract_address")
            parse_felts(entry["storage_keys"], f"{name}.storage_keys")
    raise reject(StorageProofNotSupportedError, "this devnet keeps no Merkle-Patricia tries")


METHODS: dict[str, Callable[..., Any]] = {
    "starknet_specVersion": spec_version,
    "starknet_chainId": chain_id,
    "starknet_syncing": syncing,
    "starknet_blockNumber": block_number,
    "starknet_blockHashAndNumber": block_hash_and_number,
    "starknet_getBlockWithTxHashes": get_block_with_tx_hashes,
    "starknet_getBlockWithTxs": get_block_with_txs,
    "starknet_getBlockWithReceipts": get_block_with_receipts,
    "starknet_getBlockTransactionCount": get_block_transaction_count,
    "starknet_getStateUpdate": get_state_update,
    "starknet_getStorageAt": get_storage_at,
    "starknet_getTransactionStatus": get_transaction_status,
    "starknet_getMessagesStatus": get_messages_status,
    "starknet_getTransactionByHash": get_transaction_by_hash,
    "starknet_getTransactionByBlockIdAndIndex": get_transaction_by_block_id_and_index,
    "starknet_getTransactionReceipt": get_transaction_receipt,
    "starknet_getClass": get_class,
    "starknet_getClassHashAt": get_class_hash_at,
    "starknet_getClassAt": get_class_at,
    "starknet_getCompiledCasm": get_compiled_casm,
    "starknet_getNonce": get_nonce,
    "starknet_call": call,
    "starknet_getEvents": get_events,
    "starknet_getStorageProof": get_storage_proof,
}
"""The read API's handlers by spec name."""
