"""``devnet_dump`` / ``devnet_load``: the whole devnet as one JSON document, and back.

starknet-devnet dumps the requests it received and replays them on load, which re-executes
every transaction (seconds each in our Python VM) and changes every timestamp and block hash.
This devnet dumps its records instead (blocks, transactions, receipts, traces, each block's
state diff, the classes' Sierra and CASM, the clock): loading rebuilds the history from the
diffs without executing anything, and the loaded devnet is the same chain, hashes included.

Records are encoded generically: a dataclass as ``{"@": name, field: value...}``, a tuple as
``{"@t": [...]}``, a dict as ``{"@d": [[key, value]...]}``, an enum as ``{"@e": name, "v": value}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum
from typing import Any

from devnet import models
from devnet.archive import Archive
from devnet.clock import Clock
from devnet.errors import InvalidParamsError
from devnet.genesis import Genesis
from devnet.journal import JournalingChain
from devnet.record import ChainRecord, Located
from smainer.engine import Event, L2ToL1Message, Snapshot

__all__ = ["FORMAT", "decode", "dump_record", "encode", "load_record"]

FORMAT = "smainer-devnet-dump/1"

_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Event,
        L2ToL1Message,
        Genesis,
        models.Block,
        models.DeclareTransaction,
        models.DeployAccountTransaction,
        models.ExecutionResources,
        models.GasPrices,
        models.Invocation,
        models.InvokeTransaction,
        models.PredeployedAccount,
        models.Receipt,
        models.ResourceBound,
        models.ResourceBounds,
        models.StateDiff,
        models.TransactionTrace,
        models.TransactionType,
    )
}


def encode(value: Any) -> Any:
    """JSON-able form of a record (see the module docstring)."""
    if isinstance(value, Enum):
        return {"@e": type(value).__name__, "v": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "@": type(value).__name__,
            **{f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, tuple):
        return {"@t": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {"@d": [[encode(k), encode(v)] for k, v in value.items()]}
    return value


def decode(value: Any) -> Any:
    """The record :func:`encode` encoded."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "@e" in value:
        return _TYPES[value["@e"]](value["v"])
    if "@t" in value:
        return tuple(decode(item) for item in value["@t"])
    if "@d" in value:
        return {decode(k): decode(v) for k, v in value["@d"]}
    cls = _TYPES[value["@"]]
    return cls(**{key: decode(item) for key, item in value.items() if key != "@"})


def dump_record(record: ChainRecord, chain_name: str) -> dict[str, Any]:
    """Everything :func:`load_record` needs to rebuild ``record`` exactly.

    ``chain_name`` is the chain id as a short string (``SN_SEPOLIA``): a dump only loads into a
    devnet of the same chain.
    """
    chain = record.chain
    mined = list(record.archive.blocks())
    return {
        "format": FORMAT,
        "chain_id": chain_name,
        "time_offset": record.clock.offset,
        "pinned_timestamp": record.clock.pinned,
        "genesis": encode(record.genesis),
        "classes": [
            {
                "class_hash": hex(declared.class_hash),
                "compiled_class_hash": hex(declared.compiled_class_hash),
                "casm": declared.casm,
                "sierra": declared.sierra,
            }
            for _, declared in sorted(chain.state.classes.items())
        ],
        "blocks": [encode(block) for block, _ in mined],
        "transactions": [
            _encode_located(located) for _, transactions in mined for located in transactions
        ],
        "pending": [_encode_located(located) for located in record.pending],
        "pending_block": {"number": chain.block.number, "timestamp": chain.block.timestamp},
        "pending_diff": encode(record.pending_diff()),
    }


def _encode_located(located: Located) -> dict[str, Any]:
    return {
        "transaction": encode(located.transaction),
        "receipt": encode(located.receipt),
        "trace": encode(located.trace),
        "block_number": located.block_number,
        "index": located.index,
    }


def _decode_located(entry: dict[str, Any]) -> Located:
    return Located(
        transaction=decode(entry["transaction"]),
        receipt=decode(entry["receipt"]),
        trace=decode(entry["trace"]),
        block_number=entry["block_number"],
        index=entry["index"],
    )


def load_record(
    data: Any,
    *,
    chain_name: str,
    chain_id: int,
    prices: models.GasPrices,
    wall: Callable[[], float],
) -> ChainRecord:
    """The record dumped in ``data``, for a devnet of chain ``chain_name`` with ``prices``.

    A file that is not a dump of this chain is spec error -32602, whatever is wrong in it.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidParamsError(f"not a {FORMAT} file")
    if data.get("chain_id") != chain_name:
        raise InvalidParamsError(
            f"the dump is of chain {data.get('chain_id')}, this devnet is {chain_name}"
        )
    try:
        return _load(data, chain_id, prices, wall)
    except Exception as exc:
        # Anything wrong in the file (a missing key, a bad class, a wrong type) is the file's
        # fault, not an internal error: nothing was changed yet.
        raise InvalidParamsError(f"not a valid {FORMAT} file ({type(exc).__name__})") from None


def _load(
    data: dict[str, Any], chain_id: int, prices: models.GasPrices, wall: Callable[[], float]
) -> ChainRecord:
    blocks: list[models.Block] = [decode(block) for block in data["blocks"]]
    scratch = JournalingChain()
    for entry in data["classes"]:
        scratch.declare(
            int(entry["class_hash"], 16),
            entry["casm"],
            entry["sierra"],
            compiled_class_hash=int(entry["compiled_class_hash"], 16),
        )
    classes = dict(scratch.state.classes)
    mined: dict[int, list[Located]] = {block.number: [] for block in blocks}
    for entry in data["transactions"]:
        located = _decode_located(entry)
        mined[located.block_number].append(located)
    archive = Archive()
    for block in blocks:
        archive.append(block, tuple(mined[block.number]))
        archive.history.record(block.number, block.state_diff, classes)

    record = ChainRecord(
        chain_id=chain_id,
        prices=prices,
        genesis=decode(data["genesis"]),
        chain=JournalingChain(),
        clock=Clock(wall, offset=data["time_offset"], pinned=data["pinned_timestamp"]),
        archive=archive,
    )
    pending_block = data["pending_block"]
    chain = JournalingChain(
        record.block_context(pending_block["number"], pending_block["timestamp"])
    )
    chain.restore(Snapshot(data=archive.history.state_at(blocks[-1].number), block=chain.block))
    pending_diff: models.StateDiff = decode(data["pending_diff"])
    for class_hash in pending_diff.declared:
        declared = classes[class_hash]
        chain.declare(
            class_hash,
            declared.casm,
            declared.sierra,
            compiled_class_hash=declared.compiled_class_hash,
        )
    for address, class_hash in (*pending_diff.deployed.items(), *pending_diff.replaced.items()):
        chain.set_class_hash_at(address, class_hash)
    for address, nonce in pending_diff.nonces.items():
        chain.set_nonce(address, nonce)
    for (address, key), value in pending_diff.storage.items():
        chain.set_storage(address, key, value)
    record.chain = chain
    record.pending = [_decode_located(entry) for entry in data["pending"]]
    record.pending_by_hash = {item.transaction.transaction_hash: item for item in record.pending}
    if not isinstance(record.genesis, Genesis):
        raise TypeError("genesis")
    return record
