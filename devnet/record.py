"""The chain's data in one record: what a dump holds and what a failed request puts back.

Every other devnet module is functions over a :class:`ChainRecord` (sealing, reads, simulation,
cheats), so the whole chain is in one place: :mod:`devnet.dump` encodes and decodes it,
:mod:`devnet.rollback` checkpoints and restores it, and nothing reads another module's private
fields. Settings that are not chain data (mining per transaction, listeners, the lock) stay in
:class:`~devnet.state.Devnet`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from devnet.archive import Archive
from devnet.clock import Clock
from devnet.genesis import STRK_ADDRESS, Genesis
from devnet.history import History
from devnet.journal import JournalingChain, Mark
from devnet.models import (
    Block,
    GasPrices,
    Located,
    NewBlock,
    Reorg,
    StateDiff,
    TransactionReceived,
)
from devnet.transactions import Environment
from smainer.engine import BlockContext
from smainer.engine.types import DEFAULT_SEQUENCER_ADDRESS

__all__ = ["STARKNET_VERSION", "ChainRecord", "Located", "Notification", "block_context"]

STARKNET_VERSION = "0.14.1"
"""Reported by blocks: starknet.js only uses Blake2s compiled class hashes from 0.14.1 on."""

Notification = NewBlock | TransactionReceived | Reorg


def block_context(number: int, timestamp: int, chain_id: int, prices: GasPrices) -> BlockContext:
    """The engine's block ``number`` at ``timestamp`` on chain ``chain_id`` at ``prices``."""
    return BlockContext(
        number=number,
        timestamp=timestamp,
        sequencer_address=DEFAULT_SEQUENCER_ADDRESS,
        chain_id=chain_id,
        starknet_version=STARKNET_VERSION,
        l1_gas_price_wei=prices.l1_gas_wei,
        l1_gas_price_fri=prices.l1_gas_fri,
        l1_data_gas_price_wei=prices.l1_data_gas_wei,
        l1_data_gas_price_fri=prices.l1_data_gas_fri,
        l2_gas_price_wei=prices.l2_gas_wei,
        l2_gas_price_fri=prices.l2_gas_fri,
    )


@dataclass
class ChainRecord:
    """The archive (mined blocks, their transactions, history), the pre-confirmed block, genesis
    and clock.

    ``chain`` holds the live state: what the mined blocks left plus the pre-confirmed block's
    writes, which start at journal position ``pending_mark``. ``outbox`` holds the
    notifications of the request in progress: they go to listeners only once it succeeded.
    """

    chain_id: int
    prices: GasPrices
    genesis: Genesis
    chain: JournalingChain
    clock: Clock
    archive: Archive = field(default_factory=Archive)
    """The mined blocks, their transactions and the state's history (on disk)."""
    pending: list[Located] = field(default_factory=list)
    """The pre-confirmed block's transactions, in order."""
    pending_by_hash: dict[int, Located] = field(default_factory=dict)
    """The same, by transaction hash."""
    pending_mark: Mark = 0
    outbox: list[Notification] = field(default_factory=list)
    lite_mode: bool = False
    """``--lite-mode``: blocks are sealed without hashing (:func:`devnet.sealing.seal`)."""
    impersonated: frozenset[int] = frozenset()
    """Senders whose ``__validate*__`` is skipped (``devnet_impersonateAccount``)."""
    auto_impersonate: bool = False
    """Every sender is impersonated (``devnet_autoImpersonate``)."""

    @property
    def latest(self) -> Block:
        return self.archive.latest

    @property
    def history(self) -> History:
        return self.archive.history

    def transaction(self, tx_hash: int) -> Located | None:
        """A transaction by hash, pre-confirmed or mined."""
        located = self.pending_by_hash.get(tx_hash)
        return located if located is not None else self.archive.transaction(tx_hash)

    def knows(self, tx_hash: int) -> bool:
        """Whether a transaction of this hash was accepted (pre-confirmed or mined)."""
        return tx_hash in self.pending_by_hash or tx_hash in self.archive

    def pending_diff(self) -> StateDiff:
        """The pre-confirmed block's state diff so far."""
        return self.chain.diff(self.pending_mark)

    def block_context(self, number: int, timestamp: int) -> BlockContext:
        """The engine's block ``number`` at ``timestamp``, with this chain's id and prices."""
        return block_context(number, timestamp, self.chain_id, self.prices)

    def environment(self) -> Environment:
        """Where transactions pay their fees (STRK, to the sequencer) and at what prices."""
        return Environment(
            fee_token=STRK_ADDRESS,
            sequencer=DEFAULT_SEQUENCER_ADDRESS,
            prices=self.prices,
            impersonated=self.impersonated,
            auto_impersonate=self.auto_impersonate,
        )

    def refresh_pending_time(self) -> None:
        """The pre-confirmed block runs at the current (or pinned) time."""
        timestamp = self.clock.next_block_time()
        if timestamp != self.chain.block.timestamp:
            self.chain.set_block(timestamp=timestamp)
