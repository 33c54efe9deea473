"""WebSocket subscriptions (spec ``starknet_ws_api.json``): heads, events, transactions, reorgs.

A subscription is a cursor: the next block number it has not been told about. Whenever the chain
grows (a ``NewBlock`` from the devnet's listener hook) or a subscription starts, each cursor is
walked up to the latest block, reading blocks, receipts and events back through the ordinary read
methods (``starknet_getBlockWithTxHashes``, ``starknet_getBlockWithReceipts``,
``starknet_getEvents``, ``starknet_getTransactionStatus``). So notifications carry exactly the
shapes those methods answer, nothing is sent twice or skipped, and a subscription that starts in
the past (``block_id``) is the same walk from an older block. A ``Reorg`` is told to every
subscription that saw an orphaned block and moves cursors back to the first one.

Transactions that wait in the pre-confirmed block (``--block-time``) change no block: the devnet
tells of each with a ``TransactionReceived``, which starts a walk too when some subscription asks
for ``PRE_CONFIRMED`` updates (or follows a transaction's status). After the mined blocks, every
walk reads the pre-confirmed block and tells what is new in it. A walk reads the latest block
number before catching up and the pre-confirmed block after, so a transaction found waiting is in
no block told yet: its pre-confirmed notification never follows its block's, and one mined before
a walk sees it waiting is told as accepted only (as with a block per transaction, the default).

Everything here runs on the server's worker (:class:`devnet.server.Worker`), the thread that runs
the chain, so no locking is needed; frames reach the socket through
:class:`~devnet.connection.Connection`, which bounds what may wait there: a client that stops
reading is cut off, never buffered without end.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from devnet.connection import Connection
from devnet.dispatch import Dispatcher
from devnet.errors import (
    BlockNotFoundError,
    InvalidParamsError,
    InvalidSubscriptionIdError,
    TooManyAddressesInFilterError,
    TooManyBlocksBackError,
    TooManySubscriptionsError,
    TransactionHashNotFoundError,
)
from devnet.models import Reorg, TransactionReceived

log = logging.getLogger("devnet.subscriptions")

MAX_BLOCKS_BACK = 1024
"""How far back a subscription may start (spec error 68, ``TOO_MANY_BLOCKS_BACK``)."""

EVENTS_PAGE = 100
"""Events read per ``starknet_getEvents`` page while catching a subscription up."""

MAX_SUBSCRIPTIONS = 64
"""Subscriptions one connection may hold: each costs reads on the chain's thread per block."""

MAX_SENDER_ADDRESSES = 1024
"""``sender_address`` entries one transaction subscription may filter on (spec error 67)."""

SUBSCRIPTION_METHODS = (
    "starknet_subscribeNewHeads",
    "starknet_subscribeEvents",
    "starknet_subscribeTransactionStatus",
    "starknet_subscribeNewTransactions",
    "starknet_subscribeNewTransactionReceipts",
    "starknet_unsubscribe",
)

_FELT = re.compile(r"^0x(0|[a-fA-F1-9][a-fA-F0-9]{0,62})$")
_TRANSACTION_STATUSES = frozenset({"RECEIVED", "CANDIDATE", "PRE_CONFIRMED", "ACCEPTED_ON_L2"})
"""``TXN_STATUS_WITHOUT_L1``. The devnet executes a transaction as it receives it, so only
``PRE_CONFIRMED`` and ``ACCEPTED_ON_L2`` are ever told; the others are accepted and stay quiet."""
_RECEIPT_STATUSES = frozenset({"PRE_CONFIRMED", "ACCEPTED_ON_L2"})
_TAGS = frozenset({"INCLUDE_PROOF_FACTS"})


@dataclass
class Subscription:
    """A stream on one connection: what it watches and the next block it has not seen."""

    id: str
    kind: str
    """``newHeads``, ``events``, ``transactionStatus``, ``newTransactions`` or
    ``newTransactionReceipts``."""
    connection: Connection
    next_block: int
    filter: dict[str, Any] = field(default_factory=dict)
    """For events: the ``starknet_getEvents`` filter's ``address`` and ``keys``."""
    senders: frozenset[int] = frozenset()
    """For transactions and receipts: the wanted senders; empty means any."""
    statuses: frozenset[str] = frozenset({"ACCEPTED_ON_L2"})
    """For events, transactions and receipts: the finality statuses to tell."""
    proof_facts: bool = False
    """For transactions: the ``INCLUDE_PROOF_FACTS`` tag."""
    transaction_hash: str | None = None
    """For a transaction's status: the hash followed, and the last status told (below)."""
    last_status: dict[str, Any] | None = None
    seen_pre_confirmed: set[str] = field(default_factory=set)
    """Pre-confirmed transactions (or events) already told; only those still pre-confirmed are
    kept."""
    active: bool = False
    """Set once the subscribe reply is queued: notifications never overtake it."""

    @property
    def wants_pre_confirmed(self) -> bool:
        """Whether a transaction entering the pre-confirmed block may concern it."""
        return self.kind == "transactionStatus" or (
            self.kind != "newHeads" and "PRE_CONFIRMED" in self.statuses
        )


class SubscriptionHub:
    """Every subscription of one server, fed by the devnet's listener hook."""

    def __init__(self, dispatcher: Dispatcher, worker_loop: asyncio.AbstractEventLoop) -> None:
        self._dispatcher = dispatcher
        self._loop = worker_loop
        self._subscriptions: dict[str, Subscription] = {}
        self._held: dict[Connection, dict[str, Subscription]] = {}
        """Each connection's subscriptions, by id (an id belongs to its connection)."""
        self._walking = False
        self._walk_again = False
        self._reads: dict[str, Any] = {}
        """Blocks read during one walk, shared by all subscriptions (cleared on every change)."""

    # The devnet's listener hook: called on whatever thread changed the chain.

    def on_chain_event(self, event: Any) -> None:
        """``NewBlock``, ``TransactionReceived`` or ``Reorg`` from ``Devnet.add_listener``;
        handled on the worker loop."""
        self._loop.call_soon_threadsafe(self._handle, event)

    def _handle(self, event: Any) -> None:
        """A ``Reorg`` is told first; then a walk tells the rest (any other event, a
        ``NewBlock`` say, just starts one). A ``TransactionReceived`` starts one only when some
        subscription may care about the pre-confirmed block: a busy ``--block-time`` devnet
        followed only by new heads costs no walk per transaction."""
        self._reads.clear()
        if isinstance(event, TransactionReceived) and not any(
            s.wants_pre_confirmed for s in self._subscriptions.values()
        ):
            return
        if isinstance(event, Reorg):
            self._tell_reorg(event)
        self._kick()

    def _tell_reorg(self, reorg: Reorg) -> None:
        result = {
            "starting_block_hash": hex(reorg.starting_block_hash),
            "starting_block_number": reorg.starting_block_number,
            "ending_block_hash": hex(reorg.ending_block_hash),
            "ending_block_number": reorg.ending_block_number,
        }
        for subscription in self._subscriptions.values():
            if subscription.next_block > reorg.starting_block_number:
                subscription.next_block = reorg.starting_block_number
                if subscription.active:
                    _notify(subscription, "starknet_subscriptionReorg", result)

    # Subscribe / unsubscribe, bound to a connection by ConnectionDispatcher.

    async def subscribe_new_heads(self, connection: Connection, block_id: Any = None) -> str:
        self._check_room(connection)
        start = await self._start_block(block_id)
        return self._add(Subscription("", "newHeads", connection, start))

    async def subscribe_events(
        self,
        connection: Connection,
        from_address: Any = None,
        keys: Any = None,
        block_id: Any = None,
        finality_status: Any = None,
    ) -> str:
        self._check_room(connection)
        if finality_status not in (None, "ACCEPTED_ON_L2", "PRE_CONFIRMED"):
            raise InvalidParamsError("finality_status must be ACCEPTED_ON_L2 or PRE_CONFIRMED")
        start = await self._start_block(block_id, default_latest_inclusive=True)
        statuses = frozenset({"ACCEPTED_ON_L2"})
        if finality_status == "PRE_CONFIRMED":  # told when pre-confirmed, again when accepted
            statuses = _RECEIPT_STATUSES
        event_filter: dict[str, Any] = {}
        if from_address is not None:
            event_filter["address"] = from_address
        if keys is not None:
            event_filter["keys"] = keys
        # Let starknet_getEvents judge the filter now (bad felts, TOO_MANY_KEYS_IN_FILTER),
        # so a bad subscription fails at once rather than on its first block.
        await self._events_page(start, event_filter, None, chunk_size=1)
        subscription = Subscription("", "events", connection, start, event_filter)
        subscription.statuses = statuses
        return self._add(subscription)

    async def subscribe_transaction_status(
        self, connection: Connection, transaction_hash: Any
    ) -> str:
        """Tell the transaction's status now if it is known, then each time it changes."""
        self._check_room(connection)
        tx_hash = hex(_felt(transaction_hash, "transaction_hash"))
        latest = await self._latest()
        subscription = Subscription("", "transactionStatus", connection, latest + 1)
        subscription.transaction_hash = tx_hash
        return self._add(subscription)

    async def subscribe_new_transactions(
        self,
        connection: Connection,
        finality_status: Any = None,
        sender_address: Any = None,
        tags: Any = None,
    ) -> str:
        self._check_room(connection)
        subscription = Subscription("", "newTransactions", connection, await self._latest() + 1)
        subscription.statuses = _statuses(finality_status, _TRANSACTION_STATUSES)
        subscription.senders = _senders(sender_address)
        subscription.proof_facts = "INCLUDE_PROOF_FACTS" in _strings(tags, "tags", _TAGS)
        return self._add(subscription)

    async def subscribe_new_transaction_receipts(
        self, connection: Connection, finality_status: Any = None, sender_address: Any = None
    ) -> str:
        self._check_room(connection)
        latest = await self._latest()
        subscription = Subscription("", "newTransactionReceipts", connection, latest + 1)
        subscription.statuses = _statuses(finality_status, _RECEIPT_STATUSES)
        subscription.senders = _senders(sender_address)
        return self._add(subscription)

    async def unsubscribe(self, connection: Connection, subscription_id: Any) -> bool:
        subscription = self._held.get(connection, {}).pop(str(subscription_id), None)
        if subscription is None:
            raise InvalidSubscriptionIdError()
        self._subscriptions.pop(subscription.id, None)
        return True

    async def activate(self, connection: Connection) -> None:
        """Start notifying the connection's new subscriptions (their reply has been queued)."""
        fresh = [s for s in self._held.get(connection, {}).values() if not s.active]
        for subscription in fresh:
            subscription.active = True
        if fresh:
            self._kick()

    async def drop(self, connection: Connection) -> None:
        """Forget a closed connection's subscriptions."""
        for subscription_id in self._held.pop(connection, {}):
            self._subscriptions.pop(subscription_id, None)

    def _add(self, subscription: Subscription) -> str:
        subscription.id = str(secrets.randbits(63))
        self._subscriptions[subscription.id] = subscription
        self._held.setdefault(subscription.connection, {})[subscription.id] = subscription
        return subscription.id

    def _check_room(self, connection: Connection) -> None:
        if len(self._held.get(connection, {})) >= MAX_SUBSCRIPTIONS:
            raise TooManySubscriptionsError(
                f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection; unsubscribe first"
            )

    async def _latest(self) -> int:
        latest: int = await self._dispatcher.call("starknet_blockNumber")
        return latest

    async def _start_block(self, block_id: Any, *, default_latest_inclusive: bool = False) -> int:
        """The first block to notify: a past block (hash/number) is replayed from there on.

        For new heads the ``latest`` tag (the default) means "from the next block", as in
        starknet-devnet; events start at the latest block itself, replaying its events.
        """
        latest = await self._latest()
        if block_id is None or block_id == "latest":
            return latest if default_latest_inclusive else latest + 1
        if isinstance(block_id, str):
            raise InvalidParamsError(f"block_id {block_id!r} is not allowed for a subscription")
        block = await self._dispatcher.call("starknet_getBlockWithTxHashes", {"block_id": block_id})
        number = block.get("block_number")
        if "block_hash" not in block or not isinstance(number, int):
            raise BlockNotFoundError()
        if latest - number > MAX_BLOCKS_BACK:
            raise TooManyBlocksBackError()
        return number

    # Catching up.

    def _kick(self) -> None:
        if self._walking:
            self._walk_again = True
            return
        self._walking = True
        self._loop.create_task(self._walk())

    async def _walk(self) -> None:
        try:
            while True:
                self._walk_again = False
                self._reads.clear()
                latest = await self._latest()
                for subscription in list(self._subscriptions.values()):
                    if subscription.active and subscription.connection.open:
                        await self._catch_up(subscription, latest)
                await self._tell_pre_confirmed()
                if not self._walk_again:
                    break
        except Exception:
            log.warning("subscription notifications failed", exc_info=True)
        finally:
            self._walking = False

    def _live(self, subscription: Subscription) -> bool:
        return subscription.id in self._subscriptions and subscription.connection.open

    async def _catch_up(self, subscription: Subscription, latest: int) -> None:
        if subscription.kind == "transactionStatus":
            await self._tell_status(subscription)
            subscription.next_block = latest + 1
            return
        while subscription.next_block <= latest and self._live(subscription):
            number = subscription.next_block
            try:
                if subscription.kind == "newHeads":
                    await self._send_header(subscription, number)
                elif subscription.kind == "events":
                    await self._send_events(subscription, number)
                else:
                    await self._send_transactions(subscription, number)
            except BlockNotFoundError:  # aborted meanwhile: a Reorg notification follows
                return
            subscription.next_block = number + 1

    async def _read(self, method: str, params: dict[str, Any]) -> Any:
        """A read shared by every subscription during one walk."""
        key = f"{method}{json.dumps(params, sort_keys=True)}"
        if key not in self._reads:
            self._reads[key] = await self._dispatcher.call(method, params)
        return self._reads[key]

    async def _send_header(self, subscription: Subscription, number: int) -> None:
        block = await self._read(
            "starknet_getBlockWithTxHashes", {"block_id": {"block_number": number}}
        )
        header = {k: v for k, v in block.items() if k not in ("status", "transactions")}
        _notify(subscription, "starknet_subscriptionNewHeads", header)

    async def _send_events(self, subscription: Subscription, number: int) -> None:
        token = None
        while True:
            page = await self._events_page(number, subscription.filter, token)
            for event in page["events"]:
                _notify(
                    subscription,
                    "starknet_subscriptionEvents",
                    {**event, "finality_status": "ACCEPTED_ON_L2"},
                )
            token = page.get("continuation_token")
            if not token:
                return

    async def _block_with_receipts(self, block_id: Any) -> dict[str, Any]:
        block: dict[str, Any] = await self._read(
            "starknet_getBlockWithReceipts",
            {"block_id": block_id, "response_flags": ["INCLUDE_PROOF_FACTS"]},
        )
        return block

    async def _send_transactions(self, subscription: Subscription, number: int) -> None:
        if "ACCEPTED_ON_L2" not in subscription.statuses:
            return
        block = await self._block_with_receipts({"block_number": number})
        for item in block["transactions"]:
            _tell_transaction(subscription, block, item)

    async def _tell_status(self, subscription: Subscription) -> None:
        try:
            status = await self._read(
                "starknet_getTransactionStatus",
                {"transaction_hash": subscription.transaction_hash},
            )
        except TransactionHashNotFoundError:  # not received yet, or aborted
            subscription.last_status = None
            return
        if status != subscription.last_status:
            subscription.last_status = status
            _notify(
                subscription,
                "starknet_subscriptionTransactionStatus",
                {"transaction_hash": subscription.transaction_hash, "status": status},
            )

    async def _tell_pre_confirmed(self) -> None:
        """Tell transactions waiting in the pre-confirmed block to those who asked for them."""
        wanted = [
            s
            for s in self._subscriptions.values()
            if s.active
            and s.connection.open
            and s.kind in ("events", "newTransactions", "newTransactionReceipts")
            and "PRE_CONFIRMED" in s.statuses
        ]
        if not wanted:
            return
        block = await self._block_with_receipts("pre_confirmed")
        waiting = {item["receipt"]["transaction_hash"] for item in block["transactions"]}
        for subscription in wanted:
            if subscription.kind == "events":
                await self._tell_pre_confirmed_events(subscription)
                continue
            for item in block["transactions"]:
                tx_hash = item["receipt"]["transaction_hash"]
                if tx_hash not in subscription.seen_pre_confirmed:
                    subscription.seen_pre_confirmed.add(tx_hash)
                    _tell_transaction(subscription, block, item)
            subscription.seen_pre_confirmed &= waiting

    async def _tell_pre_confirmed_events(self, subscription: Subscription) -> None:
        token = None
        waiting: set[str] = set()
        while True:
            page = await self._events_page("pre_confirmed", subscription.filter, token)
            for event in page["events"]:
                key = f"{event['transaction_hash']}:{event['event_index']}"
                waiting.add(key)
                if key not in subscription.seen_pre_confirmed:
                    subscription.seen_pre_confirmed.add(key)
                    _notify(
                        subscription,
                        "starknet_subscriptionEvents",
                        {**event, "finality_status": "PRE_CONFIRMED"},
                    )
            token = page.get("continuation_token")
            if not token:
                break
        subscription.seen_pre_confirmed &= waiting

    async def _events_page(
        self,
        number: int | str,
        event_filter: dict[str, Any],
        token: str | None,
        chunk_size: int = EVENTS_PAGE,
    ) -> dict[str, Any]:
        block: Any = number if isinstance(number, str) else {"block_number": number}
        request: dict[str, Any] = {
            "from_block": block,
            "to_block": block,
            **event_filter,
            "chunk_size": chunk_size,
        }
        if token:
            request["continuation_token"] = token
        page: dict[str, Any] = await self._dispatcher.call(
            "starknet_getEvents", {"filter": request}
        )
        return page


def _tell_transaction(
    subscription: Subscription, block: dict[str, Any], item: dict[str, Any]
) -> None:
    """One transaction of ``block`` (a ``BLOCK_WITH_RECEIPTS`` item) to a transaction or receipt
    subscription, if its sender passes the filter."""
    transaction, receipt = item["transaction"], item["receipt"]
    sender = transaction.get("sender_address") or receipt.get("contract_address")
    if subscription.senders and sender is not None and int(sender, 16) not in subscription.senders:
        return
    if subscription.kind == "newTransactionReceipts":
        located = {"block_number": block["block_number"]}
        if "block_hash" in block:  # absent while pre-confirmed (TXN_RECEIPT_WITH_BLOCK_INFO)
            located["block_hash"] = block["block_hash"]
        _notify(subscription, "starknet_subscriptionNewTransactionReceipts", {**receipt, **located})
        return
    shown = dict(transaction)
    if not subscription.proof_facts:
        shown.pop("proof_facts", None)
    shown["transaction_hash"] = receipt["transaction_hash"]
    shown["finality_status"] = receipt["finality_status"]
    _notify(subscription, "starknet_subscriptionNewTransaction", shown)


def _notify(subscription: Subscription, method: str, result: Any) -> None:
    subscription.connection.send(
        {
            "jsonrpc": "2.0",
            "method": method,
            "params": {"subscription_id": subscription.id, "result": result},
        }
    )


def _felt(value: Any, name: str) -> int:
    if not isinstance(value, str) or not _FELT.match(value):
        raise InvalidParamsError(f"{name} must be a felt (0x-prefixed hex)")
    return int(value, 16)


def _strings(value: Any, name: str, allowed: frozenset[str]) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed for v in value):
        raise InvalidParamsError(f"{name} must be a list of {sorted(allowed)}")
    return frozenset(value)


def _statuses(value: Any, allowed: frozenset[str]) -> frozenset[str]:
    """``finality_status``: the statuses to tell, ``[ACCEPTED_ON_L2]`` when absent."""
    if value is None:
        return frozenset({"ACCEPTED_ON_L2"})
    return _strings(value, "finality_status", allowed)


def _senders(value: Any) -> frozenset[int]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise InvalidParamsError("sender_address must be a list of addresses")
    if len(value) > MAX_SENDER_ADDRESSES:
        raise TooManyAddressesInFilterError()
    return frozenset(_felt(address, "sender_address") for address in value)


class ConnectionDispatcher(Dispatcher):
    """One WebSocket's method table: the subscription methods, then the server's own methods."""

    def __init__(
        self, main: Dispatcher, hub: SubscriptionHub | None, connection: Connection
    ) -> None:
        super().__init__(main.limits)
        self._main = main
        self._own: frozenset[str] = frozenset()
        if hub is not None:
            for name, handler in (
                ("starknet_subscribeNewHeads", hub.subscribe_new_heads),
                ("starknet_subscribeEvents", hub.subscribe_events),
                ("starknet_subscribeTransactionStatus", hub.subscribe_transaction_status),
                ("starknet_subscribeNewTransactions", hub.subscribe_new_transactions),
                (
                    "starknet_subscribeNewTransactionReceipts",
                    hub.subscribe_new_transaction_receipts,
                ),
                ("starknet_unsubscribe", hub.unsubscribe),
            ):
                self.add(name, partial(handler, connection))
            self._own = frozenset(SUBSCRIPTION_METHODS)

    async def call(self, name: str, params: Any = None) -> Any:
        if name in self._own:
            return await super().call(name, params)
        return await self._main.call(name, params)
