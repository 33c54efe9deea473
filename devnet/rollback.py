"""A failed request changes nothing: checkpoint the chain record before a write, restore it after
any error.

A client told "error" must be able to rely on nothing having happened, whatever failed: a spec
rejection, a Cairo revert in a cheat, or a bug halfway through sealing a block. So every write
of :class:`~devnet.state.Devnet` runs between :func:`checkpoint` and either :func:`commit` or
:func:`restore`. The checkpoint is cheap: the live state is undone through the chain's journal
(one entry per write since the request began, which is why sealing a block no longer drops the
journal: :func:`commit` does, once the request succeeded), the block and transaction tables
are shallow copies, and the history is rewound block by block.
"""

from __future__ import annotations

from dataclasses import dataclass

from devnet.genesis import Genesis
from devnet.journal import JournalingChain, Mark
from devnet.models import Block
from devnet.record import ChainRecord, Located
from smainer.engine import BlockContext

__all__ = ["Checkpoint", "checkpoint", "commit", "restore"]


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`restore` needs to put a record back as it was."""

    chain: JournalingChain
    mark: Mark
    block: BlockContext
    pending_mark: Mark
    genesis: Genesis
    blocks: list[Block]
    block_numbers: dict[int, int]
    located: dict[int, Located]
    pending: list[Located]
    clock: tuple[int, int | None]


def checkpoint(record: ChainRecord) -> Checkpoint:
    """The record as it is now (call at the start of a write request)."""
    return Checkpoint(
        chain=record.chain,
        mark=record.chain.mark(),
        block=record.chain.block,
        pending_mark=record.pending_mark,
        genesis=record.genesis,
        blocks=list(record.blocks),
        block_numbers=dict(record.block_numbers),
        located=dict(record.located),
        pending=list(record.pending),
        clock=(record.clock.offset, record.clock.pinned),
    )


def restore(record: ChainRecord, saved: Checkpoint) -> None:
    """Put ``record`` back as :func:`checkpoint` saw it; queued notifications are dropped.

    Blocks sealed since are taken out of the history (newest first), blocks aborted since are
    put back (oldest first), and the live chain (or the one an abort replaced) is rolled back
    through its journal.
    """
    common = 0
    for now, then in zip(record.blocks, saved.blocks, strict=False):
        if now is not then:
            break
        common += 1
    # A block is appended before its diff is recorded, so a half-recorded one is undone too.
    for block in reversed(record.blocks[common:]):
        record.history.truncate(block.number, block.state_diff)
    saved.chain.rollback(saved.mark)
    saved.chain.set_block(saved.block)
    for block in saved.blocks[common:]:
        record.history.record(block.number, block.state_diff, saved.chain.state.classes)
    record.chain = saved.chain
    record.pending_mark = saved.pending_mark
    record.genesis = saved.genesis
    record.blocks = saved.blocks
    record.block_numbers = saved.block_numbers
    record.located = saved.located
    record.pending = saved.pending
    record.clock.offset, record.clock.pinned = saved.clock
    record.outbox = []


def commit(record: ChainRecord) -> None:
    """The request succeeded: drop the journal of mined blocks (the history has them)."""
    record.chain.forget(record.pending_mark)
    record.pending_mark = 0
