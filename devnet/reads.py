"""Reads of the chain record at any block: blocks, transactions, state, balances, events.

Every spec read names a block (``BLOCK_ID``): ``pre_confirmed`` reads the live state (the mined
blocks plus the block being built), any other id reads the history as that block left it.
``l1_accepted`` names the latest block: a devnet has no L1, and a tool waiting for settlement
wants to see it. Aborted blocks and their transactions are unknown by number, hash or tx hash.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from devnet.archive import TransactionEvents
from devnet.codec import BlockId
from devnet.errors import (
    BlockNotFoundError,
    ClassHashNotFoundError,
    ContractNotFoundError,
    InvalidContinuationTokenError,
    InvalidTransactionIndexError,
    TransactionHashNotFoundError,
)
from devnet.events import EventFilter, Position, check_chunk_size, decode_token, take_page
from devnet.genesis import ETH_ADDRESS, STRK_ADDRESS
from devnet.models import Block, EmittedEvent
from devnet.record import ChainRecord, Located
from devnet.rejections import reject
from devnet.sealing import pending_block
from devnet.transactions import balance_of, balance_slot

__all__ = [
    "balance",
    "block_of",
    "block_transactions",
    "get_block",
    "get_class",
    "get_class_hash_at",
    "get_compiled_casm",
    "get_events",
    "get_nonce",
    "get_storage_at",
    "get_transaction",
    "resolve",
    "token_of",
]


def resolve(record: ChainRecord, block_id: BlockId) -> int:
    """The number of a mined block (``pre_confirmed`` is not one: callers handle it)."""
    mined = len(record.archive)
    if block_id.tag in ("latest", "l1_accepted"):
        return mined - 1
    if block_id.tag == "pre_confirmed":
        return mined
    if block_id.number is not None:
        if block_id.number >= mined:
            raise BlockNotFoundError()
        return block_id.number
    number = record.archive.number_of(block_id.hash or 0)
    if number is None:
        raise BlockNotFoundError()
    return number


def _live(block_id: BlockId) -> bool:
    return block_id.tag == "pre_confirmed"


# Blocks and transactions.


def get_block(record: ChainRecord, block_id: BlockId) -> Block:
    """A mined block, or the pre-confirmed one for ``pre_confirmed`` (``block_hash`` None)."""
    if _live(block_id):
        record.refresh_pending_time()
        return pending_block(record)
    return record.archive.block(resolve(record, block_id))


def block_transactions(record: ChainRecord, block: Block) -> list[Located]:
    """The transactions of ``block`` (a mined block or the pre-confirmed one), in order."""
    if block.is_pre_confirmed:
        return list(record.pending)
    return list(record.archive.transactions(block.number))


def transaction_by_index(record: ChainRecord, block_id: BlockId, index: int) -> Located:
    transactions = block_transactions(record, get_block(record, block_id))
    if not 0 <= index < len(transactions):
        raise InvalidTransactionIndexError()
    return transactions[index]


def get_transaction(record: ChainRecord, tx_hash: int) -> Located:
    located = record.transaction(tx_hash)
    if located is None:
        raise TransactionHashNotFoundError()
    return located


def block_of(record: ChainRecord, located: Located) -> Block:
    """The block a transaction lies in (the pre-confirmed one while it is not mined)."""
    if located.block_number >= len(record.archive):
        return pending_block(record)
    return record.archive.block(located.block_number)


# State.


def get_class_hash_at(record: ChainRecord, address: int, block_id: BlockId) -> int:
    if _live(block_id):
        class_hash = record.chain.state.contracts.get(address, 0)
    else:
        class_hash = record.history.class_hash_at(address, resolve(record, block_id))
    if not class_hash:
        raise ContractNotFoundError()
    return class_hash


def get_nonce(record: ChainRecord, address: int, block_id: BlockId) -> int:
    get_class_hash_at(record, address, block_id)
    if _live(block_id):
        return record.chain.get_nonce(address)
    return record.history.nonce_at(address, resolve(record, block_id))


def get_storage_at(
    record: ChainRecord, address: int, key: int, block_id: BlockId
) -> tuple[int, int]:
    """``(value, number of the last block that changed it)``; spec error 20 if no contract."""
    get_class_hash_at(record, address, block_id)
    if _live(block_id):
        value = record.chain.get_storage(address, key)
        mined = len(record.archive)
        if (address, key) in record.pending_diff().storage:
            return value, mined
        return value, record.history.storage_at(address, key, mined - 1)[1]
    return record.history.storage_at(address, key, resolve(record, block_id))


def get_class(record: ChainRecord, class_hash: int, block_id: BlockId) -> dict[str, Any]:
    """The Sierra class (``CONTRACT_CLASS``) declared by ``block_id``."""
    if _live(block_id):
        declared = record.chain.state.classes.get(class_hash)
    else:
        declared = record.history.declared_class(class_hash, resolve(record, block_id))
    if declared is None or declared.sierra is None:
        raise ClassHashNotFoundError()
    return dict(declared.sierra)


def get_compiled_casm(record: ChainRecord, class_hash: int) -> dict[str, Any]:
    """The CASM of a class declared so far (pre-confirmed included)."""
    declared = record.chain.state.classes.get(class_hash)
    if declared is None:
        raise ClassHashNotFoundError()
    return dict(declared.casm)


def token_of(unit: str) -> int:
    """The fee token of a unit: STRK for ``FRI``, ETH for ``WEI``."""
    return STRK_ADDRESS if unit == "FRI" else ETH_ADDRESS


def balance(record: ChainRecord, address: int, unit: str, block_id: BlockId) -> int:
    """A STRK (``FRI``) or ETH (``WEI``) balance, read from the token's storage."""
    token = token_of(unit)
    if _live(block_id):
        return balance_of(record.chain, token, address)
    number = resolve(record, block_id)
    low = balance_slot(address)
    slot = record.history.storage_at
    return slot(token, low, number)[0] + (slot(token, low + 1, number)[0] << 128)


# Events.


def get_events(
    record: ChainRecord,
    event_filter: EventFilter,
    *,
    from_block: BlockId | None,
    to_block: BlockId | None,
    chunk_size: int,
    continuation_token: str | None = None,
) -> tuple[list[EmittedEvent], str | None]:
    """``starknet_getEvents``: matches in chain order, at most ``chunk_size``, next token."""
    check_chunk_size(chunk_size)
    first = 0 if from_block is None else resolve(record, from_block)
    last = len(record.archive) - 1 if to_block is None else resolve(record, to_block)
    start: Position = (first, 0, 0)
    if continuation_token is not None:
        start = decode_token(continuation_token)
        if not first <= start[0] <= max(last, first):
            raise reject(InvalidContinuationTokenError, continuation_token)
    return take_page(_events_from(record, start, last), event_filter, chunk_size)


def _events_from(
    record: ChainRecord, start: Position, last: int
) -> Iterator[tuple[Position, EmittedEvent]]:
    blocks: Iterator[tuple[int, int | None, Sequence[TransactionEvents]]] = (
        (block.number, block.block_hash, block.transactions)
        for block in record.archive.events(start[0], last)
    )
    if last >= len(record.archive):  # the pre-confirmed block, which has no hash yet
        pending = [(t.transaction.transaction_hash, t.receipt.events) for t in record.pending]
        blocks = itertools.chain(blocks, [(len(record.archive), None, pending)])
    for number, block_hash, transactions in blocks:
        for tx_index, (tx_hash, events) in enumerate(transactions):
            if (number, tx_index) < start[:2]:
                continue
            for event_index, event in enumerate(events):
                position = (number, tx_index, event_index)
                if position < start:
                    continue
                yield (
                    position,
                    EmittedEvent(
                        event=event,
                        transaction_hash=tx_hash,
                        transaction_index=tx_index,
                        event_index=event_index,
                        block_number=number,
                        block_hash=block_hash,
                    ),
                )
