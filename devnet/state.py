"""``Devnet``: the local chain behind the RPC, one facade over modules with one job each.

It holds the settings, the lock, the listeners and the chain's data
(:class:`~devnet.record.ChainRecord`); the work is done by :mod:`devnet.sealing` (blocks),
:mod:`devnet.reads`, :mod:`devnet.simulation` (calls and estimates), :mod:`devnet.cheats`
(``devnet_*`` cheats) and :mod:`devnet.dump`, each a set of functions over the record.

**Threading contract.** ``Devnet`` is synchronous and guarded by one re-entrant lock: every
public method takes it, so calls from many threads (``asyncio.to_thread`` from the server, a
block-time timer) are serialized and each sees a consistent chain. Execution is CPU-bound
Python; a server should run the methods off its event loop (``to_thread``) so that a 0.5 s
transaction does not stall other connections. Listeners (:meth:`Devnet.add_listener`) are called
synchronously, in the calling thread, with the lock held, once the request that mined a block,
left a transaction in the pre-confirmed block or aborted blocks has succeeded: they must be quick
and must not block on the event loop; hand the notification over with
``loop.call_soon_threadsafe``. They may read the devnet (the lock is re-entrant) but not change
it; a listener that raises is logged and skipped.

**All or nothing.** Every write (transactions, mint, time, blocks, aborts, predeploys, load,
restart) either succeeds whole or, on any error, spec rejection or bug alike, leaves the chain
exactly as it was (:mod:`devnet.rollback`): blocks, pre-confirmed transactions, history, nonces,
balances and clock.

**Blocks.** Block 0 holds the predeploys (:mod:`devnet.genesis`). By default every transaction
is mined into its own block at once; with ``block_time`` set (or ``mine_per_tx=False``),
transactions collect in the ``pre_confirmed`` block until :meth:`Devnet.create_block`, which the
server calls every ``block_time`` seconds and ``devnet_createBlock`` calls on demand.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from starknet_py.cairo.felt import encode_shortstring

from devnet import cheats, reads, rollback, sealing, simulation
from devnet import dump as dumping
from devnet.clock import Clock
from devnet.codec import BlockId, Broadcasted, parse_broadcasted
from devnet.errors import InvalidParamsError
from devnet.events import EventFilter
from devnet.genesis import ETH_ADDRESS, STRK_ADDRESS, UDC_ADDRESS, build_genesis
from devnet.journal import JournalingChain
from devnet.models import (
    Block,
    EmittedEvent,
    ExecutionResources,
    FeeEstimate,
    GasPrices,
    PredeployedAccount,
    Receipt,
    TransactionReceived,
    TransactionTrace,
)
from devnet.record import STARKNET_VERSION, ChainRecord, Located, Notification, block_context
from smainer.config import DevnetSettings
from smainer.engine.types import DEFAULT_SEQUENCER_ADDRESS

__all__ = ["STARKNET_VERSION", "Devnet", "Listener", "Located", "Notification"]

Listener = Callable[[Notification], None]

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("devnet.chain")


def _locked(method: Callable[P, R]) -> Callable[P, R]:
    """Run ``method`` under the devnet's lock (see the module docstring)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        devnet: Devnet = args[0]  # type: ignore[assignment]
        with devnet._lock:
            return method(*args, **kwargs)

    return wrapper


def _write(method: Callable[P, R]) -> Callable[P, R]:
    """Run ``method`` under the lock, all or nothing; notify listeners once it succeeded.

    A write calling another write makes one request: only the outermost checkpoints, commits
    and notifies.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        devnet: Devnet = args[0]  # type: ignore[assignment]
        with devnet._lock:
            if devnet._writing:
                return method(*args, **kwargs)
            record = devnet._record
            saved = rollback.checkpoint(record)
            devnet._writing = True
            try:
                result = method(*args, **kwargs)
                rollback.commit(devnet._record, saved)
            except BaseException:
                if devnet._record is not record:
                    rollback.discard(devnet._record)
                rollback.restore(record, saved)
                devnet._record = record
                raise
            finally:
                devnet._writing = False
            devnet._flush()
            return result

    return wrapper


class Devnet:
    """A local Starknet: predeployed accounts, blocks, JSON-RPC-shaped reads and writes.

    Methods take and return :mod:`devnet.models` records and raise
    :class:`~devnet.errors.RpcError` subclasses; :mod:`devnet.methods` turns them into JSON-RPC.
    """

    def __init__(
        self,
        settings: DevnetSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        prices: GasPrices | None = None,
        mine_per_tx: bool | None = None,
    ) -> None:
        self.settings = settings or DevnetSettings()
        self.chain_id = encode_shortstring(self.settings.chain_id)
        self.mine_per_tx = self.settings.block_time is None if mine_per_tx is None else mine_per_tx
        self._lock = threading.RLock()
        self._writing = False
        self._clock = clock
        self._listeners: list[Listener] = []
        self._record = self._fresh(prices or GasPrices())
        self._record.outbox.clear()  # nobody listens yet; after a restart, listeners hear block 0
        if self.settings.load_path is not None and self.settings.load_path.exists():
            self.load(self.settings.load_path)

    def _fresh(self, prices: GasPrices) -> ChainRecord:
        """A new chain: genesis in block 0, an empty pre-confirmed block 1."""
        clock = Clock(self._clock)
        chain = JournalingChain(block_context(0, clock.now(), self.chain_id, prices))
        genesis = build_genesis(
            chain,
            seed=self.settings.seed,
            accounts=self.settings.accounts,
            initial_balance=self.settings.initial_balance,
        )
        record = ChainRecord(
            chain_id=self.chain_id,
            prices=prices,
            genesis=genesis,
            chain=chain,
            clock=clock,
            lite_mode=self.settings.lite_mode,
        )
        sealing.seal(record)
        rollback.commit(record)
        return record

    @_write
    def restart(self) -> None:
        """``devnet_restart``: back to a fresh genesis (same settings, listeners kept)."""
        self._record = self._fresh(self.prices)

    @property
    def prices(self) -> GasPrices:
        """The gas prices of the blocks to come."""
        return self._record.prices

    @prices.setter
    def prices(self, prices: GasPrices) -> None:
        with self._lock:
            self._record.prices = prices

    @property
    def _chain(self) -> JournalingChain:
        """The live chain (tests read raw storage through it)."""
        return self._record.chain

    # Listeners.

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` with a :class:`NewBlock` per mined block, a
        :class:`TransactionReceived` per transaction left waiting in the pre-confirmed block and
        a :class:`Reorg` per abort (see the threading contract in the module docstring)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.remove(listener)

    def _tell_received(self, located: Located) -> None:
        """Queue a :class:`TransactionReceived` if ``located`` waits in the pre-confirmed block.

        Queued in the outbox like a block, so listeners hear of it only once the request
        succeeded, and before the block that later mines it. A transaction mined at once
        (the default) gets none: its :class:`NewBlock` follows in the same request.
        """
        if located.block_number > self._record.latest.number:
            received = TransactionReceived(
                located.transaction.transaction_hash, located.block_number
            )
            self._record.outbox.append(received)

    def _flush(self) -> None:
        """Hand the succeeded request's notifications to the listeners, in order."""
        outbox, self._record.outbox = self._record.outbox, []
        for notification in outbox:
            for listener in list(self._listeners):
                try:
                    listener(notification)
                except Exception:
                    log.exception("a devnet listener failed on %s", type(notification).__name__)

    # Configuration.

    @property
    def predeployed_accounts(self) -> tuple[PredeployedAccount, ...]:
        return self._record.genesis.accounts

    @property
    def account_class_hash(self) -> int:
        return self._record.genesis.account_class_hash

    @property
    def fee_token_address(self) -> int:
        """The STRK token, in which every v3 fee is paid."""
        return STRK_ADDRESS

    @property
    def eth_token_address(self) -> int:
        return ETH_ADDRESS

    @property
    def udc_address(self) -> int | None:
        """The Universal Deployer, or ``None`` while its artifact is not built."""
        return UDC_ADDRESS if self._record.genesis.udc_class_hash is not None else None

    @property
    def sequencer_address(self) -> int:
        return DEFAULT_SEQUENCER_ADDRESS

    def config(self) -> dict[str, Any]:
        """``devnet_getConfig``: starknet-devnet's keys (its ``StarknetConfig`` + server config).

        starknet-py 0.30's ``DevnetClient.get_config`` expects an older layout (``*_strk``
        prices, ``disable_account_impersonation``) and fails on starknet-devnet's answer too.
        """
        settings = self.settings
        prices = self.prices
        return {
            "seed": settings.seed,
            "total_accounts": settings.accounts,
            "account_contract_class_hash": hex(self.account_class_hash),
            "predeployed_accounts_initial_balance": str(settings.initial_balance),
            "start_time": None,
            "gas_price_wei": prices.l1_gas_wei,
            "gas_price_fri": prices.l1_gas_fri,
            "data_gas_price_wei": prices.l1_data_gas_wei,
            "data_gas_price_fri": prices.l1_data_gas_fri,
            "l2_gas_price_wei": prices.l2_gas_wei,
            "l2_gas_price_fri": prices.l2_gas_fri,
            "chain_id": settings.chain_id,
            "dump_on": None,
            "dump_path": None if settings.dump_path is None else str(settings.dump_path),
            "block_generation_on": (
                "transaction" if self.mine_per_tx else (settings.block_time or "demand")
            ),
            "lite_mode": settings.lite_mode,
            "state_archive": "full",
            "fork_config": {"url": None, "block_number": None},
            "server_config": {
                "host": settings.host,
                "port": settings.port,
                "timeout": 120,
                "request_body_size_limit": 2_000_000,
                "restricted_methods": None,
            },
            "eth_erc20_class_hash": hex(self._record.genesis.token_class_hash),
            "strk_erc20_class_hash": hex(self._record.genesis.token_class_hash),
        }

    @_locked
    def status(self) -> dict[str, Any]:
        """``devnet_getStatus`` (not in starknet-devnet): what a client may want to know at a
        glance about this devnet's chain, block production and cheats."""
        record = self._record
        return {
            "starknet_version": STARKNET_VERSION,
            "chain_id": self.settings.chain_id,
            "block_number": record.latest.number,
            "pre_confirmed_transactions": len(record.pending),
            "block_generation_on": (
                "transaction" if self.mine_per_tx else (self.settings.block_time or "demand")
            ),
            "block_time": self.settings.block_time,
            "lite_mode": record.lite_mode,
            "auto_impersonate": record.auto_impersonate,
            "impersonated_accounts": [hex(a) for a in sorted(record.impersonated)],
        }

    # Impersonation and gas prices.

    @_write
    def impersonate_account(self, address: int) -> None:
        """``devnet_impersonateAccount``: ``address``'s transactions skip ``__validate*__``
        (:func:`devnet.cheats.impersonate`)."""
        cheats.impersonate(self._record, address, on=True)

    @_write
    def stop_impersonating_account(self, address: int) -> None:
        """``devnet_stopImpersonateAccount``: ``address`` is validated again."""
        cheats.impersonate(self._record, address, on=False)

    @_write
    def set_auto_impersonate(self, on: bool) -> None:
        """``devnet_autoImpersonate`` / ``devnet_stopAutoImpersonate``: every sender, or none
        but those impersonated one by one."""
        cheats.set_auto_impersonate(self._record, on=on)

    @_write
    def set_gas_price(self, changes: Mapping[str, int], *, generate_block: bool) -> GasPrices:
        """``devnet_setGasPrice``: ``changes`` are :class:`GasPrices` fields; returns the prices
        now in force (:func:`devnet.cheats.set_gas_price`)."""
        return cheats.set_gas_price(self._record, changes, generate_block=generate_block)

    # Time and blocks.

    @_write
    def set_time(self, timestamp: int, *, generate_block: bool = True) -> Block | None:
        """``devnet_setTime``: time continues from ``timestamp`` (u64 seconds); mines a block at
        it unless told not to, in which case the next block (and what runs before it) gets it."""
        return cheats.set_time(self._record, timestamp, generate_block=generate_block)

    @_write
    def increase_time(self, seconds: int) -> Block:
        """``devnet_increaseTime``: move time forward for good and mine a block."""
        return cheats.increase_time(self._record, seconds)

    @_write
    def create_block(self) -> Block:
        """``devnet_createBlock``: mine the pre-confirmed block (empty or not)."""
        return sealing.seal(self._record)

    @_write
    def abort_blocks(self, starting_block_id: BlockId) -> list[Block]:
        """``devnet_abortBlocks``: undo blocks from ``starting_block_id`` to the latest
        (:func:`devnet.cheats.abort_blocks`); listeners get a :class:`Reorg`."""
        return cheats.abort_blocks(self._record, starting_block_id)

    @property
    def latest_block(self) -> Block:
        with self._lock:
            return self._record.latest

    @_locked
    def get_block(self, block_id: BlockId) -> Block:
        """A mined block, or the pre-confirmed one for ``pre_confirmed`` (``block_hash`` None)."""
        return reads.get_block(self._record, block_id)

    @_locked
    def block_transactions(self, block: Block) -> list[Located]:
        """The transactions of ``block`` (a mined block or the pre-confirmed one), in order."""
        return reads.block_transactions(self._record, block)

    @_locked
    def get_transaction_by_index(self, block_id: BlockId, index: int) -> Located:
        return reads.transaction_by_index(self._record, block_id, index)

    @_locked
    def get_state_update(self, block_id: BlockId) -> Block:
        """The block whose ``state_diff``, ``old_root`` and ``new_root`` make the state update."""
        return reads.get_block(self._record, block_id)

    # Transactions.

    @_locked
    def get_transaction(self, tx_hash: int) -> Located:
        return reads.get_transaction(self._record, tx_hash)

    @_locked
    def is_pre_confirmed(self, tx_hash: int) -> bool:
        located = reads.get_transaction(self._record, tx_hash)  # not found: spec error 29
        return located.block_number >= len(self._record.archive)

    @_locked
    def block_of(self, located: Located) -> Block:
        return reads.block_of(self._record, located)

    @_write
    def add_transaction(self, item: Broadcasted) -> Located:
        """Execute a tx into the pre-confirmed block (mined at once by default).

        Raises the spec's write-API error when the tx is rejected; a tx that reverts after
        validation is included, with a REVERTED receipt.
        """
        located = sealing.add_transaction(self._record, item, mine=self.mine_per_tx)
        self._tell_received(located)
        return located

    def add_transaction_json(self, transaction: dict[str, Any]) -> Located:
        """Parse (with this devnet's chain id) and add a ``BROADCASTED_TXN``."""
        return self.add_transaction(parse_broadcasted(transaction, self.chain_id))

    # Calls, estimates and simulations (nothing kept).

    @_locked
    def simulate(
        self,
        items: Sequence[Broadcasted],
        block_id: BlockId,
        *,
        validate: bool = True,
        charge_fee: bool = True,
    ) -> list[tuple[TransactionTrace, FeeEstimate, Receipt]]:
        """Run txs one after the other on the state of ``block_id`` and keep nothing.

        A tx rejected on the way is spec error 41 with its index (``TRANSACTION_EXECUTION_ERROR``).
        """
        return simulation.simulate(
            self._record, items, block_id, validate=validate, charge_fee=charge_fee
        )

    @_locked
    def estimate_fee(
        self, items: Sequence[Broadcasted], block_id: BlockId, *, validate: bool = True
    ) -> list[FeeEstimate]:
        """``starknet_estimateFee``: a reverted tx is spec error 41, as on Starknet."""
        return simulation.estimate_fee(self._record, items, block_id, validate=validate)

    @_locked
    def call(
        self, address: int, selector: int, calldata: Sequence[int], block_id: BlockId
    ) -> list[int]:
        """``starknet_call``: run a view (or anything) and keep nothing."""
        return simulation.call(self._record, address, selector, calldata, block_id)

    @_locked
    def estimate_message(
        self,
        *,
        from_address: int,
        to_address: int,
        selector: int,
        payload: Sequence[int],
        block_id: BlockId,
    ) -> ExecutionResources:
        """``starknet_estimateMessageFee``: run the ``#[l1_handler]`` and keep nothing."""
        return simulation.estimate_message(
            self._record,
            from_address=from_address,
            to_address=to_address,
            selector=selector,
            payload=payload,
            block_id=block_id,
        )

    # State reads.

    @_locked
    def get_class_hash_at(self, address: int, block_id: BlockId) -> int:
        return reads.get_class_hash_at(self._record, address, block_id)

    @_locked
    def get_nonce(self, address: int, block_id: BlockId) -> int:
        return reads.get_nonce(self._record, address, block_id)

    @_locked
    def get_storage_at(self, address: int, key: int, block_id: BlockId) -> tuple[int, int]:
        """``(value, number of the last block that changed it)``; spec error 20 if no contract."""
        return reads.get_storage_at(self._record, address, key, block_id)

    @_locked
    def get_class(self, class_hash: int, block_id: BlockId) -> dict[str, Any]:
        """The Sierra class (``CONTRACT_CLASS``) declared by ``block_id``."""
        return reads.get_class(self._record, class_hash, block_id)

    @_locked
    def get_compiled_casm(self, class_hash: int) -> dict[str, Any]:
        """The CASM of a class declared so far (pre-confirmed included)."""
        return reads.get_compiled_casm(self._record, class_hash)

    @_locked
    def balance(self, address: int, unit: str = "FRI", block_id: BlockId | None = None) -> int:
        """A STRK (``FRI``) or ETH (``WEI``) balance."""
        return reads.balance(self._record, address, unit, block_id or BlockId(tag="pre_confirmed"))

    @_locked
    def get_events(
        self,
        event_filter: EventFilter,
        *,
        from_block: BlockId | None,
        to_block: BlockId | None,
        chunk_size: int,
        continuation_token: str | None = None,
    ) -> tuple[list[EmittedEvent], str | None]:
        """``starknet_getEvents``: matches in chain order, at most ``chunk_size``, next token."""
        return reads.get_events(
            self._record,
            event_filter,
            from_block=from_block,
            to_block=to_block,
            chunk_size=chunk_size,
            continuation_token=continuation_token,
        )

    # Cheats.

    @_write
    def mint(self, address: int, amount: int, unit: str = "FRI") -> tuple[int, Located]:
        """``devnet_mint``: the token's ``mint`` as a recorded INVOKE from the minter.

        Returns the new balance and the transaction (fee 0, a ``Transfer`` event from 0).
        """
        new_balance, located = cheats.mint(
            self._record, address, amount, unit, mine=self.mine_per_tx
        )
        self._tell_received(located)
        return new_balance, located

    @_write
    def predeploy(
        self,
        class_hash: int,
        constructor_calldata: Sequence[int] = (),
        *,
        sierra: dict[str, Any] | None = None,
        casm: dict[str, Any] | None = None,
        compiled_class_hash: int | None = None,
        salt: int = 0,
        address: int | None = None,
    ) -> int:
        """Declare (if ``casm`` is given) and deploy a contract without a transaction.

        A cheat for banners, demos and tests (the marketplace's Token and Escrow): the changes
        go into the pre-confirmed block's state diff, which is mined at once by default.
        Returns the address (Starknet's, from deployer 0, unless ``address`` is given).
        """
        return cheats.predeploy(
            self._record,
            class_hash,
            constructor_calldata,
            sierra=sierra,
            casm=casm,
            compiled_class_hash=compiled_class_hash,
            salt=salt,
            address=address,
            mine=self.mine_per_tx,
        )

    # Dump and load.

    @_locked
    def dump(self, path: Path | None = None) -> dict[str, Any]:
        """The whole devnet as JSON-able data; written to ``path`` when given."""
        data = dumping.dump_record(self._record, self.settings.chain_id)
        if path is not None:
            try:
                path.write_text(json.dumps(data))
            except OSError as exc:
                raise InvalidParamsError(f"cannot write the dump: {exc.strerror}") from None
        return data

    @_write
    def load(self, path: Path) -> None:
        """Replace the whole state with a dump (:meth:`dump`); listeners stay."""
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise InvalidParamsError(f"cannot read the dump: {exc.strerror}") from None
        except ValueError:
            data = None  # not JSON (or not UTF-8): load_record says it is not a dump
        self._record = dumping.load_record(
            data,
            chain_name=self.settings.chain_id,
            chain_id=self.chain_id,
            prices=self.prices,
            wall=self._clock,
        )
        self._record.lite_mode = self.settings.lite_mode
