"""``Devnet``: the local chain behind the RPC: blocks, transactions, history, time, reorgs.

**Threading contract.** ``Devnet`` is synchronous and guarded by one re-entrant lock: every
public method takes it, so calls from many threads (``asyncio.to_thread`` from the server, a
block-time timer) are serialized and each sees a consistent chain. Execution is CPU-bound
Python; a server should run the methods off its event loop (``to_thread``) so that a 0.5 s
transaction does not stall other connections. Listeners (:meth:`Devnet.add_listener`) are called
synchronously, in the calling thread, with the lock held, right after the change: they must be
quick and must not block on the event loop; hand the notification over with
``loop.call_soon_threadsafe``. They may read the devnet (the lock is re-entrant) but not change it.

**Blocks.** Block 0 holds the predeploys (:mod:`devnet.genesis`). By default every transaction
is mined into its own block at once; with ``block_time`` set (or ``mine_per_tx=False``),
transactions collect in the ``pre_confirmed`` block until :meth:`Devnet.create_block`, which the
server calls every ``block_time`` seconds and ``devnet_createBlock`` calls on demand.

**Decisions** (documented here once):

* Block hash: ``poseidon(["SMAINER_DEVNET_BLOCK", number, parent hash, timestamp, sequencer,
  new root, tx count, event count, tx commitment, event commitment, receipt commitment,
  state-diff commitment, l1 gas, l1 data gas, l2 gas prices (FRI)])``; each commitment is a
  Poseidon hash over the block's items, not a Patricia trie root.
* State roots: ``new_root = poseidon([old_root, state-diff commitment])`` (genesis from 0): a
  deterministic fingerprint of the state history, not a Patricia root; no storage proofs.
* ``l1_accepted``: a devnet has no L1, so the tag names the latest block (what a tool waiting
  for settlement wants to see). Statuses stay ``ACCEPTED_ON_L2``.
* Aborted blocks and their transactions are forgotten: unknown by number, hash or tx hash.
* Time: block timestamps are wall-clock seconds plus an offset (``devnet_setTime``,
  ``devnet_increaseTime``, as starknet-devnet); the pre-confirmed block takes the current time
  before each transaction, and a time pinned with ``generate_block: false`` until it is mined.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from poseidon_py.poseidon_hash import poseidon_hash_many
from starknet_py.cairo.felt import encode_shortstring
from starknet_py.hash.selector import get_selector_from_name

from devnet import dump as dumping
from devnet import fees
from devnet.codec import BlockId, Broadcasted, parse_broadcasted
from devnet.errors import (
    BlockNotFoundError,
    ClassHashNotFoundError,
    ContractError,
    DuplicateTransactionError,
    InvalidContinuationTokenError,
    InvalidParamsError,
    InvalidTransactionIndexError,
    RpcError,
    TransactionExecutionError,
    TransactionHashNotFoundError,
    UnsupportedTransactionVersionError,
)
from devnet.errors import (
    ContractNotFoundError as RpcContractNotFoundError,
)
from devnet.errors import (
    EntrypointNotFoundError as RpcEntrypointNotFoundError,
)
from devnet.events import EventFilter, Position, check_chunk_size, decode_token, take_page
from devnet.genesis import (
    ETH_ADDRESS,
    MINTER_ADDRESS,
    STRK_ADDRESS,
    UDC_ADDRESS,
    Genesis,
    build_genesis,
)
from devnet.history import History
from devnet.journal import JournalingChain
from devnet.models import (
    Block,
    EmittedEvent,
    ExecutionResources,
    FeeEstimate,
    GasPrices,
    NewBlock,
    PredeployedAccount,
    Receipt,
    Reorg,
    StateDiff,
    Transaction,
    TransactionTrace,
    TransactionType,
)
from devnet.rejections import reject
from devnet.transactions import Environment, Mode, balance_of, balance_slot, execute, invocation
from smainer.config import DevnetSettings
from smainer.engine import (
    BlockContext,
    ContractNotFoundError,
    EntryPointNotFoundError,
    EntryPointType,
    ExecutionRevertedError,
    Snapshot,
)
from smainer.engine.types import DEFAULT_SEQUENCER_ADDRESS

__all__ = ["STARKNET_VERSION", "Devnet", "Listener", "Located", "Notification"]

STARKNET_VERSION = "0.14.1"
"""Reported by blocks: starknet.js only uses Blake2s compiled class hashes from 0.14.1 on."""

Notification = NewBlock | Reorg
Listener = Callable[[Notification], None]

P = ParamSpec("P")
R = TypeVar("R")

_BLOCK_PREFIX = encode_shortstring("SMAINER_DEVNET_BLOCK")
_MINT_SELECTOR = get_selector_from_name("mint")


def _locked(method: Callable[P, R]) -> Callable[P, R]:
    """Run ``method`` under the devnet's lock (see the module docstring)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        devnet: Devnet = args[0]  # type: ignore[assignment]
        with devnet._lock:
            return method(*args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class Located:
    """A transaction with its receipt and trace, and where it lies."""

    transaction: Transaction
    receipt: Receipt
    trace: TransactionTrace
    block_number: int
    index: int


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
        self.prices = prices or GasPrices()
        self.chain_id = encode_shortstring(self.settings.chain_id)
        self.mine_per_tx = self.settings.block_time is None if mine_per_tx is None else mine_per_tx
        self._lock = threading.RLock()
        self._clock = clock
        self._listeners: list[Listener] = []
        self._reset()
        if self.settings.load_path is not None and self.settings.load_path.exists():
            self.load(self.settings.load_path)

    def _reset(self) -> None:
        self._time_offset = 0
        self._pinned_timestamp: int | None = None
        self._blocks: list[Block] = []
        self._block_numbers: dict[int, int] = {}
        self._located: dict[int, Located] = {}
        self._pending: list[Located] = []
        self._history = History()
        self._chain = JournalingChain(self._block_context(0, self._now()))
        self._genesis: Genesis = build_genesis(
            self._chain,
            seed=self.settings.seed,
            accounts=self.settings.accounts,
            initial_balance=self.settings.initial_balance,
        )
        self._mine()

    @_locked
    def restart(self) -> None:
        """``devnet_restart``: back to a fresh genesis (same settings, listeners kept)."""
        self._reset()

    # Listeners.

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` with a :class:`NewBlock` per mined block and a :class:`Reorg` per
        abort (see the threading contract in the module docstring)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.remove(listener)

    def _notify(self, notification: Notification) -> None:
        for listener in list(self._listeners):
            listener(notification)

    # Configuration.

    @property
    def predeployed_accounts(self) -> tuple[PredeployedAccount, ...]:
        return self._genesis.accounts

    @property
    def account_class_hash(self) -> int:
        return self._genesis.account_class_hash

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
        return UDC_ADDRESS if self._genesis.udc_class_hash is not None else None

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
            "lite_mode": False,
            "state_archive": "full",
            "fork_config": {"url": None, "block_number": None},
            "server_config": {
                "host": settings.host,
                "port": settings.port,
                "timeout": 120,
                "request_body_size_limit": 2_000_000,
                "restricted_methods": None,
            },
            "eth_erc20_class_hash": hex(self._genesis.token_class_hash),
            "strk_erc20_class_hash": hex(self._genesis.token_class_hash),
        }

    # Time.

    def _now(self) -> int:
        return int(self._clock()) + self._time_offset

    def _block_context(self, number: int, timestamp: int) -> BlockContext:
        prices = self.prices
        return BlockContext(
            number=number,
            timestamp=timestamp,
            sequencer_address=DEFAULT_SEQUENCER_ADDRESS,
            chain_id=self.chain_id,
            starknet_version=STARKNET_VERSION,
            l1_gas_price_wei=prices.l1_gas_wei,
            l1_gas_price_fri=prices.l1_gas_fri,
            l1_data_gas_price_wei=prices.l1_data_gas_wei,
            l1_data_gas_price_fri=prices.l1_data_gas_fri,
            l2_gas_price_wei=prices.l2_gas_wei,
            l2_gas_price_fri=prices.l2_gas_fri,
        )

    def _refresh_pending_time(self) -> None:
        """The pre-confirmed block runs at the current (or pinned) time."""
        timestamp = self._pinned_timestamp if self._pinned_timestamp is not None else self._now()
        if timestamp != self._chain.block.timestamp:
            self._chain.set_block(timestamp=timestamp)

    @_locked
    def set_time(self, timestamp: int, *, generate_block: bool = True) -> Block | None:
        """``devnet_setTime``: time continues from ``timestamp``; mines a block at it unless told
        not to, in which case the next block (and what runs before it) gets that time."""
        if timestamp < 0:
            raise InvalidParamsError("time must be a non-negative Unix time")
        self._time_offset = timestamp - int(self._clock())
        self._pinned_timestamp = timestamp
        if generate_block:
            return self._mine()
        self._chain.set_block(timestamp=timestamp)
        return None

    @_locked
    def increase_time(self, seconds: int) -> Block:
        """``devnet_increaseTime``: move time forward for good and mine a block."""
        if seconds < 0:
            raise InvalidParamsError("time only increases; use devnet_setTime to go back")
        self._time_offset += seconds
        if self._pinned_timestamp is not None:
            self._pinned_timestamp += seconds
        return self._mine()

    # Blocks.

    def _env(self) -> Environment:
        return Environment(
            fee_token=STRK_ADDRESS, sequencer=DEFAULT_SEQUENCER_ADDRESS, prices=self.prices
        )

    def _pending_block(self) -> Block:
        latest = self._blocks[-1] if self._blocks else None
        block = self._chain.block
        return Block(
            number=block.number,
            parent_hash=latest.block_hash or 0 if latest else 0,
            timestamp=block.timestamp,
            sequencer_address=block.sequencer_address,
            prices=self.prices,
            starknet_version=STARKNET_VERSION,
            transactions=tuple(located.transaction.transaction_hash for located in self._pending),
            state_diff=self._chain.diff(),
            old_root=latest.new_root if latest else 0,
            event_count=sum(len(located.receipt.events) for located in self._pending),
        )

    def _mine(self) -> Block:
        """Seal the pre-confirmed block, record its diff in the history, open the next one."""
        self._refresh_pending_time()
        pending = self._pending_block()
        receipts = [located.receipt for located in self._pending]
        events = [event for receipt in receipts for event in receipt.events]
        diff = pending.state_diff
        state_diff_commitment = _poseidon(_diff_felts(diff))
        commitments = {
            "transaction_commitment": _poseidon(pending.transactions),
            "event_commitment": _poseidon(
                [
                    _poseidon([e.from_address, len(e.keys), *e.keys, len(e.data), *e.data])
                    for e in events
                ]
            ),
            "receipt_commitment": _poseidon(
                [
                    _poseidon(
                        [
                            r.transaction_hash,
                            r.actual_fee,
                            int(not r.succeeded),
                            r.execution_resources.l1_gas,
                            r.execution_resources.l1_data_gas,
                            r.execution_resources.l2_gas,
                        ]
                    )
                    for r in receipts
                ]
            ),
            "state_diff_commitment": state_diff_commitment,
        }
        new_root = (
            _poseidon([pending.old_root, state_diff_commitment])
            if diff.length
            else (pending.old_root)
        )
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
                commitments["transaction_commitment"],
                commitments["event_commitment"],
                commitments["receipt_commitment"],
                state_diff_commitment,
                self.prices.l1_gas_fri,
                self.prices.l1_data_gas_fri,
                self.prices.l2_gas_fri,
            ]
        )
        block = replace(
            pending,
            block_hash=block_hash,
            new_root=new_root,
            event_count=len(events),
            transaction_commitment=commitments["transaction_commitment"],
            event_commitment=commitments["event_commitment"],
            receipt_commitment=commitments["receipt_commitment"],
            state_diff_commitment=state_diff_commitment,
        )
        self._history.record(block.number, diff, self._chain.state.classes)
        self._chain.forget()
        self._blocks.append(block)
        self._block_numbers[block_hash] = block.number
        self._pending = []
        self._pinned_timestamp = None
        self._chain.set_block(self._block_context(block.number + 1, self._now()))
        self._notify(NewBlock(block))
        return block

    @_locked
    def create_block(self) -> Block:
        """``devnet_createBlock``: mine the pre-confirmed block (empty or not)."""
        return self._mine()

    @property
    def latest_block(self) -> Block:
        with self._lock:
            return self._blocks[-1]

    @_locked
    def get_block(self, block_id: BlockId) -> Block:
        """A mined block, or the pre-confirmed one for ``pre_confirmed`` (``block_hash`` None)."""
        if block_id.tag == "pre_confirmed":
            self._refresh_pending_time()
            return self._pending_block()
        return self._blocks[self._resolve(block_id)]

    def _resolve(self, block_id: BlockId) -> int:
        """The number of a mined block (``pre_confirmed`` is not one: callers handle it)."""
        if block_id.tag in ("latest", "l1_accepted"):
            return len(self._blocks) - 1
        if block_id.tag == "pre_confirmed":
            return len(self._blocks)
        if block_id.number is not None:
            if block_id.number >= len(self._blocks):
                raise BlockNotFoundError()
            return block_id.number
        number = self._block_numbers.get(block_id.hash or 0)
        if number is None:
            raise BlockNotFoundError()
        return number

    @_locked
    def block_transactions(self, block: Block) -> list[Located]:
        """The transactions of ``block`` (a mined block or the pre-confirmed one), in order."""
        if block.is_pre_confirmed:
            return list(self._pending)
        return [self._located[tx_hash] for tx_hash in block.transactions]

    @_locked
    def get_transaction_by_index(self, block_id: BlockId, index: int) -> Located:
        transactions = self.block_transactions(self.get_block(block_id))
        if not 0 <= index < len(transactions):
            raise InvalidTransactionIndexError()
        return transactions[index]

    # Transactions.

    @_locked
    def get_transaction(self, tx_hash: int) -> Located:
        located = self._located.get(tx_hash)
        if located is None:
            raise TransactionHashNotFoundError()
        return located

    @_locked
    def is_pre_confirmed(self, tx_hash: int) -> bool:
        return self.get_transaction(tx_hash).block_number >= len(self._blocks)

    @_locked
    def block_of(self, located: Located) -> Block:
        if located.block_number >= len(self._blocks):
            return self._pending_block()
        return self._blocks[located.block_number]

    def _record(self, located: Located) -> None:
        self._located[located.transaction.transaction_hash] = located
        self._pending.append(located)
        if self.mine_per_tx:
            self._mine()

    @_locked
    def add_transaction(self, item: Broadcasted) -> Located:
        """Execute a tx into the pre-confirmed block (mined at once by default).

        Raises the spec's write-API error when the tx is rejected; a tx that reverts after
        validation is included, with a REVERTED receipt.
        """
        tx = item.tx
        if tx.is_query:
            raise reject(
                UnsupportedTransactionVersionError,
                "query versions (2**128 + 3) are for estimateFee and simulateTransactions only",
            )
        if tx.transaction_hash in self._located:
            raise reject(DuplicateTransactionError, f"{tx.transaction_hash:#x}")
        self._refresh_pending_time()
        executed = execute(self._chain, item, self._env())
        located = Located(
            transaction=tx,
            receipt=executed.receipt,
            trace=executed.trace,
            block_number=self._chain.block.number,
            index=len(self._pending),
        )
        self._record(located)
        return located

    def add_transaction_json(self, transaction: dict[str, Any]) -> Located:
        """Parse (with this devnet's chain id) and add a ``BROADCASTED_TXN``."""
        return self.add_transaction(parse_broadcasted(transaction, self.chain_id))

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
        results: list[tuple[TransactionTrace, FeeEstimate, Receipt]] = []
        mode = Mode(validate=validate, charge_fee=charge_fee, strict_nonce=False)
        with self._scratch(block_id) as chain:
            env = self._env()
            for index, item in enumerate(items):
                try:
                    executed = execute(chain, item, env, mode)
                except (InvalidParamsError, UnsupportedTransactionVersionError):
                    raise
                except RpcError as err:
                    raise TransactionExecutionError(
                        {"transaction_index": index, "execution_error": _error_text(err)}
                    ) from None
                results.append((executed.trace, executed.estimate, executed.receipt))
        return results

    def estimate_fee(
        self, items: Sequence[Broadcasted], block_id: BlockId, *, validate: bool = True
    ) -> list[FeeEstimate]:
        """``starknet_estimateFee``: a reverted tx is spec error 41, as on Starknet."""
        results = self.simulate(items, block_id, validate=validate, charge_fee=False)
        for index, (_, _, receipt) in enumerate(results):
            if receipt.revert_reason is not None:
                raise TransactionExecutionError(
                    {"transaction_index": index, "execution_error": receipt.revert_reason}
                )
        return [estimate for _, estimate, _ in results]

    def _scratch(self, block_id: BlockId) -> _Scratch:
        """A chain in the state of ``block_id`` whose changes are thrown away afterwards."""
        if block_id.tag == "pre_confirmed" or (
            not self._pending and self._resolve(block_id) == len(self._blocks) - 1
        ):
            self._refresh_pending_time()
            return _Scratch(self._chain)
        number = self._resolve(block_id)
        block = self._blocks[number]
        chain = JournalingChain(self._block_context(number + 1, block.timestamp))
        chain.restore(Snapshot(data=self._history.state_at(number), block=chain.block))
        return _Scratch(chain)

    @_locked
    def call(
        self, address: int, selector: int, calldata: Sequence[int], block_id: BlockId
    ) -> list[int]:
        """``starknet_call``: run a view (or anything) and keep nothing."""
        with self._scratch(block_id) as chain:
            try:
                return chain.call(address, selector, calldata).retdata
            except ContractNotFoundError:
                raise RpcContractNotFoundError() from None
            except EntryPointNotFoundError:
                raise RpcEntrypointNotFoundError() from None
            except ExecutionRevertedError as err:
                raise ContractError({"revert_error": err.reason}) from None

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
        with self._scratch(block_id) as chain:
            mark = chain.mark()
            try:
                result = chain.invoke(
                    to_address,
                    selector,
                    [from_address, *payload],
                    entry_point_type=EntryPointType.L1_HANDLER,
                )
            except ContractNotFoundError:
                raise RpcContractNotFoundError() from None
            except EntryPointNotFoundError as err:
                raise ContractError({"revert_error": str(err)}) from None
            except ExecutionRevertedError as err:
                raise ContractError({"revert_error": err.reason}) from None
            return fees.resources_of(
                fees.Usage(
                    type=TransactionType.INVOKE,
                    steps=result.steps,
                    builtins=result.builtins,
                    data_felts=len(payload) + 1,
                    events=tuple(result.events),
                    messages=tuple(result.l2_to_l1_messages),
                    state_diff_felts=fees.state_diff_felts(chain.diff(mark)),
                )
            )

    # State reads.

    def _live(self, block_id: BlockId) -> bool:
        return block_id.tag == "pre_confirmed"

    @_locked
    def get_class_hash_at(self, address: int, block_id: BlockId) -> int:
        if self._live(block_id):
            class_hash = self._chain.state.contracts.get(address, 0)
        else:
            class_hash = self._history.class_hash_at(address, self._resolve(block_id))
        if not class_hash:
            raise RpcContractNotFoundError()
        return class_hash

    @_locked
    def get_nonce(self, address: int, block_id: BlockId) -> int:
        self.get_class_hash_at(address, block_id)
        if self._live(block_id):
            return self._chain.get_nonce(address)
        return self._history.nonce_at(address, self._resolve(block_id))

    @_locked
    def get_storage_at(self, address: int, key: int, block_id: BlockId) -> tuple[int, int]:
        """``(value, number of the last block that changed it)``; spec error 20 if no contract."""
        self.get_class_hash_at(address, block_id)
        if self._live(block_id):
            value = self._chain.get_storage(address, key)
            if (address, key) in self._chain.diff().storage:
                return value, len(self._blocks)
            return value, self._history.storage_at(address, key, len(self._blocks) - 1)[1]
        return self._history.storage_at(address, key, self._resolve(block_id))

    @_locked
    def get_class(self, class_hash: int, block_id: BlockId) -> dict[str, Any]:
        """The Sierra class (``CONTRACT_CLASS``) declared by ``block_id``."""
        if self._live(block_id):
            declared = self._chain.state.classes.get(class_hash)
        else:
            declared = self._history.declared_class(class_hash, self._resolve(block_id))
        if declared is None or declared.sierra is None:
            raise ClassHashNotFoundError()
        return dict(declared.sierra)

    @_locked
    def get_compiled_casm(self, class_hash: int) -> dict[str, Any]:
        """The CASM of a class declared so far (pre-confirmed included)."""
        declared = self._chain.state.classes.get(class_hash)
        if declared is None:
            raise ClassHashNotFoundError()
        return dict(declared.casm)

    @_locked
    def get_state_update(self, block_id: BlockId) -> Block:
        """The block whose ``state_diff``, ``old_root`` and ``new_root`` make the state update."""
        return self.get_block(block_id)

    @_locked
    def balance(self, address: int, unit: str = "FRI", block_id: BlockId | None = None) -> int:
        """A STRK (``FRI``) or ETH (``WEI``) balance."""
        token = STRK_ADDRESS if unit == "FRI" else ETH_ADDRESS
        block_id = block_id or BlockId(tag="pre_confirmed")
        if self._live(block_id):
            return balance_of(self._chain, token, address)
        number = self._resolve(block_id)
        slot = self._history.storage_at
        low = balance_slot(address)
        return slot(token, low, number)[0] + (slot(token, low + 1, number)[0] << 128)

    # Events.

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
        check_chunk_size(chunk_size)
        first = 0 if from_block is None else self._resolve(from_block)
        last = len(self._blocks) - 1 if to_block is None else self._resolve(to_block)
        start: Position = (first, 0, 0)
        if continuation_token is not None:
            start = decode_token(continuation_token)
            if not first <= start[0] <= max(last, first):
                raise reject(InvalidContinuationTokenError, continuation_token)
        return take_page(self._events_from(start, last), event_filter, chunk_size)

    def _events_from(self, start: Position, last: int) -> Iterator[tuple[Position, EmittedEvent]]:
        for number in range(start[0], last + 1):
            if number < len(self._blocks):
                block: Block | None = self._blocks[number]
                transactions = [self._located[h] for h in self._blocks[number].transactions]
            else:
                block = None
                transactions = list(self._pending)
            block_hash = block.block_hash if block is not None else None
            for tx_index, located in enumerate(transactions):
                if (number, tx_index) < start[:2]:
                    continue
                for event_index, event in enumerate(located.receipt.events):
                    position = (number, tx_index, event_index)
                    if position < start:
                        continue
                    yield (
                        position,
                        EmittedEvent(
                            event=event,
                            transaction_hash=located.transaction.transaction_hash,
                            transaction_index=tx_index,
                            event_index=event_index,
                            block_number=number,
                            block_hash=block_hash,
                        ),
                    )

    # Devnet cheats.

    @_locked
    def mint(self, address: int, amount: int, unit: str = "FRI") -> tuple[int, Located]:
        """``devnet_mint``: the token's ``mint`` as a recorded INVOKE from the minter.

        Returns the new balance and the transaction (fee 0, a ``Transfer`` event from 0).
        """
        if unit not in ("FRI", "WEI"):
            raise InvalidParamsError(f"unit must be FRI or WEI, got {unit!r}")
        if amount < 0 or amount >= 2**256:
            raise InvalidParamsError("amount must be a u256")
        token = STRK_ADDRESS if unit == "FRI" else ETH_ADDRESS
        nonce = self._chain.get_nonce(MINTER_ADDRESS)
        inner = [address, amount % 2**128, amount >> 128]
        calldata = [1, token, _MINT_SELECTOR, len(inner), *inner]
        tx = parse_broadcasted(
            {
                "type": "INVOKE",
                "version": "0x3",
                "sender_address": hex(MINTER_ADDRESS),
                "calldata": [hex(value) for value in calldata],
                "signature": [],
                "nonce": hex(nonce),
                "resource_bounds": {},
                "tip": "0x0",
                "paymaster_data": [],
                "account_deployment_data": [],
                "nonce_data_availability_mode": "L1",
                "fee_data_availability_mode": "L1",
            },
            self.chain_id,
        ).tx
        self._refresh_pending_time()
        mark = self._chain.mark()
        try:
            result = self._chain.invoke(token, "mint", inner, caller=MINTER_ADDRESS)
        except ExecutionRevertedError as err:
            raise ContractError({"revert_error": err.reason}) from None
        self._chain.set_nonce(MINTER_ADDRESS, nonce + 1)
        receipt = Receipt(
            transaction_hash=tx.transaction_hash,
            type=TransactionType.INVOKE,
            actual_fee=0,
            execution_resources=ExecutionResources(),
            events=tuple(result.events),
        )
        trace = TransactionTrace(
            type=TransactionType.INVOKE,
            execution_resources=ExecutionResources(),
            state_diff=self._chain.diff(mark),
            execute=invocation(self._chain, token, "mint", inner, result, caller=MINTER_ADDRESS),
        )
        located = Located(tx, receipt, trace, self._chain.block.number, len(self._pending))
        new_balance = balance_of(self._chain, token, address)
        self._record(located)
        return new_balance, located

    @_locked
    def abort_blocks(self, starting_block_id: BlockId) -> list[Block]:
        """``devnet_abortBlocks``: undo blocks from ``starting_block_id`` to the latest.

        A pre-confirmed block with transactions is mined first and aborted with the rest (as
        starknet-devnet does). The genesis block cannot be aborted. Listeners get a :class:`Reorg`.
        """
        if self._pending:
            self._mine()
        first = self._resolve(starting_block_id)
        if first >= len(self._blocks):
            raise BlockNotFoundError()
        if first == 0:
            raise InvalidParamsError("the genesis block cannot be aborted")
        aborted = self._blocks[first:]
        for block in reversed(aborted):
            self._history.truncate(block.number, block.state_diff)
            for tx_hash in block.transactions:
                del self._located[tx_hash]
            del self._block_numbers[block.block_hash or 0]
        del self._blocks[first:]
        latest = self._blocks[-1]
        context = self._block_context(latest.number + 1, self._now())
        self._chain.restore(Snapshot(data=self._history.state_at(latest.number), block=context))
        self._chain.forget()
        self._notify(
            Reorg(
                starting_block_number=aborted[0].number,
                starting_block_hash=aborted[0].block_hash or 0,
                ending_block_number=aborted[-1].number,
                ending_block_hash=aborted[-1].block_hash or 0,
            )
        )
        return aborted

    @_locked
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
        self._refresh_pending_time()
        mark = self._chain.mark()
        try:
            if casm is not None:
                self._chain.declare(
                    class_hash, casm, sierra, compiled_class_hash=compiled_class_hash
                )
            deployed = self._chain.deploy(
                class_hash, constructor_calldata, salt=salt, address=address
            )
        except ExecutionRevertedError as err:
            self._chain.rollback(mark)
            raise ContractError({"revert_error": err.reason}) from None
        except Exception:
            self._chain.rollback(mark)
            raise
        if self.mine_per_tx:
            self._mine()
        return deployed.address

    # Dump and load.

    @_locked
    def dump(self, path: Path | None = None) -> dict[str, Any]:
        """The whole devnet as JSON-able data; written to ``path`` when given."""
        data = dumping.dump_state(self)
        if path is not None:
            path.write_text(json.dumps(data))
        return data

    @_locked
    def load(self, path: Path) -> None:
        """Replace the whole state with a dump (:meth:`dump`); listeners stay."""
        dumping.load_state(self, json.loads(path.read_text()))


class _Scratch:
    """A chain to run throwaway work on; the live chain is rolled back on exit."""

    def __init__(self, chain: JournalingChain) -> None:
        self.chain = chain
        self._mark = chain.mark()

    def __enter__(self) -> JournalingChain:
        return self.chain

    def __exit__(self, *exc: object) -> None:
        self.chain.rollback(self._mark)


def _error_text(err: RpcError) -> str:
    return f"{err.message}: {err.data}" if err.data is not None else err.message
