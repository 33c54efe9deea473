"""A failed request changes nothing: checkpoint the chain record before a write, restore it after
any error.

A client told "error" must be able to rely on nothing having happened, whatever failed: a spec
rejection, a Cairo revert in a cheat, or a bug halfway through sealing a block. So every write
of :class:`~devnet.state.Devnet` runs between :func:`checkpoint` and either :func:`commit` or
:func:`restore`. The checkpoint is cheap: the live state is undone through the chain's journal
(one entry per write since the request began, which is why sealing a block no longer drops the
journal: :func:`commit` does, once the request succeeded), and the archive of mined blocks,
transactions and history (:mod:`devnet.archive`) rolls back a SQLite savepoint. Nothing is
copied but the pre-confirmed block's list and the index of declared classes, so a checkpoint
costs the same on a long chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from devnet.archive import Archive, ArchiveMark
from devnet.genesis import Genesis
from devnet.journal import JournalingChain, Mark
from devnet.models import GasPrices
from devnet.record import ChainRecord, Located
from smainer.engine import BlockContext

__all__ = ["Checkpoint", "checkpoint", "commit", "discard", "restore"]


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`restore` needs to put a record back as it was."""

    chain: JournalingChain
    mark: Mark
    block: BlockContext
    pending_mark: Mark
    genesis: Genesis
    archive: Archive
    archive_mark: ArchiveMark
    pending: list[Located]
    clock: tuple[int, int | None]
    prices: GasPrices
    impersonated: frozenset[int]
    auto_impersonate: bool


def checkpoint(record: ChainRecord) -> Checkpoint:
    """The record as it is now (call at the start of a write request)."""
    return Checkpoint(
        chain=record.chain,
        mark=record.chain.mark(),
        block=record.chain.block,
        pending_mark=record.pending_mark,
        genesis=record.genesis,
        archive=record.archive,
        archive_mark=record.archive.checkpoint(),
        pending=list(record.pending),
        clock=(record.clock.offset, record.clock.pinned),
        prices=record.prices,
        impersonated=record.impersonated,
        auto_impersonate=record.auto_impersonate,
    )


def restore(record: ChainRecord, saved: Checkpoint) -> None:
    """Put ``record`` back as :func:`checkpoint` saw it; queued notifications are dropped.

    The archive (mined blocks, their transactions, the history) rolls back its savepoint, and
    the live chain (or the one an abort replaced) is rolled back through its journal. A request
    that replaced the whole record (restart, load) is undone by the caller, which drops the new
    record (:func:`discard`).
    """
    try:
        saved.archive.restore(saved.archive_mark)
    finally:  # the archive's file may fail (a full disk): the rest is put back regardless
        _restore_memory(record, saved)


def _restore_memory(record: ChainRecord, saved: Checkpoint) -> None:
    saved.chain.rollback(saved.mark)
    saved.chain.set_block(saved.block)
    record.chain = saved.chain
    record.pending_mark = saved.pending_mark
    record.genesis = saved.genesis
    record.archive = saved.archive
    record.pending = saved.pending
    record.pending_by_hash = {
        located.transaction.transaction_hash: located for located in saved.pending
    }
    record.clock.offset, record.clock.pinned = saved.clock
    record.prices = saved.prices
    record.impersonated = saved.impersonated
    record.auto_impersonate = saved.auto_impersonate
    record.outbox = []


def discard(record: ChainRecord) -> None:
    """A record a failed request built and will not keep: delete its archive's file now."""
    record.archive.close()


def commit(record: ChainRecord, saved: Checkpoint | None = None) -> None:
    """The request succeeded: keep what it wrote to the archive (``saved``: its checkpoint)
    and drop the journal of mined blocks (the archive's history has them).

    A request that replaced the whole record (restart, load) leaves the old archive behind:
    it is closed, which deletes its file.
    """
    if saved is not None:
        saved.archive.release()
        if saved.archive is not record.archive:
            saved.archive.close()
    record.chain.forget(record.pending_mark)
    record.pending_mark = 0
