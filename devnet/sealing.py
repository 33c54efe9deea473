"""Block sealing: the pre-confirmed block collects transactions until it is mined into a block.

By default every transaction is mined into its own block at once; with a block time (or on
demand), transactions collect in the ``pre_confirmed`` block until ``devnet_createBlock`` or the
timer seals it. Sealing fixes the block's timestamp, computes its commitments and hash, records
its state diff in the history and opens the next block.

**Decisions** (documented here once):

* Block hash: ``poseidon(["SMAINER_DEVNET_BLOCK", number, parent hash, timestamp, sequencer,
  new root, tx count, event count, tx commitment, event commitment, receipt commitment,
  state-diff commitment, l1 gas, l1 data gas, l2 gas prices (FRI)])``; each commitment is a
  Poseidon hash over the block's items, not a Patricia trie root.
* State roots: ``new_root = poseidon([old_root, state-diff commitment])`` (genesis from 0): a
  deterministic fingerprint of the state history, not a Patricia root; no storage proofs.
* Lite mode (``--lite-mode``, starknet-devnet's): a block's hash is its number, and its
  commitments and state root are 0 (the Poseidon hashing is skipped: ~1 ms per empty block,
  ~2 ms per block of one transfer, in Python); transactions run exactly as without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from poseidon_py.poseidon_hash import poseidon_hash_many
from starknet_py.cairo.felt import encode_shortstring

from devnet.codec import Broadcasted
from devnet.errors import DuplicateTransactionError, UnsupportedTransactionVersionError
from devnet.models import Block, NewBlock, Receipt, StateDiff
from devnet.record import STARKNET_VERSION, ChainRecord, Located
from devnet.rejections import reject
from devnet.transactions import execute

__all__ = ["add_transaction", "include", "pending_block", "seal"]

_BLOCK_PREFIX = encode_shortstring("SMAINER_DEVNET_BLOCK")


def _poseidon(values: Sequence[int]) -> int:
    return int(poseidon_hash_many(list(values)))


def _diff_felts(diff: StateDiff) -> list[int]:
    felts: list[int] = []
    for (address, key), value in diff.storage.items():
        felts += [address, key, value]
    for table in (diff.nonces, diff.deployed, diff.replaced, diff.declared):
        felts.append(len(table))
        for key, value in table.items():
            felts += [key, value]
    return felts


def _receipt_felts(receipt: Receipt) -> list[int]:
    resources = receipt.execution_resources
    return [
        receipt.transaction_hash,
        receipt.actual_fee,
        int(not receipt.succeeded),
        resources.l1_gas,
        resources.l1_data_gas,
        resources.l2_gas,
    ]


def pending_block(record: ChainRecord) -> Block:
    """The pre-confirmed block as it stands (no hash, no commitments yet)."""
    latest = record.latest if record.archive else None
    block = record.chain.block
    return Block(
        number=block.number,
        parent_hash=latest.block_hash or 0 if latest else 0,
        timestamp=block.timestamp,
        sequencer_address=block.sequencer_address,
        prices=record.prices,
        starknet_version=STARKNET_VERSION,
        transactions=tuple(located.transaction.transaction_hash for located in record.pending),
        state_diff=record.pending_diff(),
        old_root=latest.new_root if latest else 0,
        event_count=sum(len(located.receipt.events) for located in record.pending),
    )


def _sealed(pending: Block, receipts: list[Receipt]) -> Block:
    """``pending`` with its commitments, new root and hash (see the decisions above)."""
    events = [event for receipt in receipts for event in receipt.events]
    state_diff_commitment = _poseidon(_diff_felts(pending.state_diff))
    transaction_commitment = _poseidon(pending.transactions)
    event_commitment = _poseidon(
        [_poseidon([e.from_address, len(e.keys), *e.keys, len(e.data), *e.data]) for e in events]
    )
    receipt_commitment = _poseidon([_poseidon(_receipt_felts(r)) for r in receipts])
    new_root = (
        _poseidon([pending.old_root, state_diff_commitment])
        if pending.state_diff.length
        else pending.old_root
    )
    prices = pending.prices
    block_hash = _poseidon(
        [
            _BLOCK_PREFIX,
            pending.number,
            pending.parent_hash,
            pending.timestamp,
            pending.sequencer_address,
            new_root,
            len(pending.transactions),
            len(events),
            transaction_commitment,
            event_commitment,
            receipt_commitment,
            state_diff_commitment,
            prices.l1_gas_fri,
            prices.l1_data_gas_fri,
            prices.l2_gas_fri,
        ]
    )
    return replace(
        pending,
        block_hash=block_hash,
        new_root=new_root,
        event_count=len(events),
        transaction_commitment=transaction_commitment,
        event_commitment=event_commitment,
        receipt_commitment=receipt_commitment,
        state_diff_commitment=state_diff_commitment,
    )


def _sealed_lite(pending: Block, receipts: list[Receipt]) -> Block:
    """``pending`` as lite mode mines it: its number as hash, no commitments, no new root."""
    return replace(
        pending,
        block_hash=pending.number,
        new_root=pending.old_root,
        event_count=sum(len(receipt.events) for receipt in receipts),
    )


def seal(record: ChainRecord) -> Block:
    """Mine the pre-confirmed block (empty or not), open the next one, queue a NewBlock."""
    record.refresh_pending_time()
    sealed = _sealed_lite if record.lite_mode else _sealed
    block = sealed(pending_block(record), [located.receipt for located in record.pending])
    record.archive.append(block, tuple(record.pending))
    record.history.record(block.number, block.state_diff, record.chain.state.classes)
    record.pending = []
    record.pending_by_hash = {}
    record.pending_mark = record.chain.mark()
    record.clock.unpin()
    record.chain.set_block(record.block_context(block.number + 1, record.clock.now()))
    record.outbox.append(NewBlock(block))
    return block


def include(record: ChainRecord, located: Located, *, mine: bool) -> None:
    """Add an executed transaction to the pre-confirmed block; seal it at once if ``mine``."""
    record.pending_by_hash[located.transaction.transaction_hash] = located
    record.pending.append(located)
    if mine:
        seal(record)


def add_transaction(record: ChainRecord, item: Broadcasted, *, mine: bool) -> Located:
    """Execute a tx into the pre-confirmed block (and mine it if ``mine``).

    Raises the spec's write-API error when the tx is rejected; a tx that reverts after
    validation is included, with a REVERTED receipt.
    """
    tx = item.tx
    if tx.is_query:
        raise reject(
            UnsupportedTransactionVersionError,
            "query versions (2**128 + 3) are for estimateFee and simulateTransactions only",
        )
    if record.knows(tx.transaction_hash):
        raise reject(DuplicateTransactionError, f"{tx.transaction_hash:#x}")
    record.refresh_pending_time()
    executed = execute(record.chain, item, record.environment())
    located = Located(
        transaction=tx,
        receipt=executed.receipt,
        trace=executed.trace,
        block_number=record.chain.block.number,
        index=len(record.pending),
    )
    include(record, located, mine=mine)
    return located
