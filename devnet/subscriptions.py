"""WebSocket subscriptions (spec ``starknet_ws_api.json``): new heads, events, reorgs.

A subscription is a cursor: the next block number it has not been told about. Whenever the chain
grows (a ``NewBlock`` from the devnet's listener hook) or a subscription starts, each cursor is
walked up to the latest block, reading headers and events back through the ordinary read methods
(``starknet_getBlockWithTxHashes``, ``starknet_getEvents``). So notifications carry exactly the
shapes those methods answer, nothing is sent twice or skipped, and a subscription that starts in
the past (``block_id``) is the same walk from an older block. A ``Reorg`` is told to every
subscription and moves cursors back to the first orphaned block.

Everything here runs on the server's worker (:class:`devnet.server.Worker`), the thread that runs
the chain, so no locking is needed; frames reach the socket through :class:`Connection`, which
hands them to the server's loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from devnet.dispatch import Dispatcher
from devnet.errors import (
    BlockNotFoundError,
    InvalidParamsError,
    InvalidSubscriptionIdError,
    TooManyBlocksBackError,
)

log = logging.getLogger("devnet.subscriptions")

MAX_BLOCKS_BACK = 1024
"""How far back a subscription may start (spec error 68, ``TOO_MANY_BLOCKS_BACK``)."""

EVENTS_PAGE = 100
"""Events read per ``starknet_getEvents`` page while catching a subscription up."""

SUBSCRIPTION_METHODS = (
    "starknet_subscribeNewHeads",
    "starknet_subscribeEvents",
    "starknet_unsubscribe",
)


class Connection:
    """One WebSocket's outgoing frames, in order, from any thread to the server's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._frames: asyncio.Queue[str | None] = asyncio.Queue()
        self.subscriptions: dict[str, Subscription] = {}
        self.closed = False

    def send_now(self, text: str) -> None:
        """Queue a frame; only from the server's loop (replies)."""
        self._frames.put_nowait(text)

    def send(self, message: dict[str, Any]) -> None:
        """Queue a notification; from any thread (the worker)."""
        if not self.closed:
            text = json.dumps(message, separators=(",", ":"))
            self._loop.call_soon_threadsafe(self._frames.put_nowait, text)

    def close(self) -> None:
        self.closed = True
        self._frames.put_nowait(None)

    async def next_frame(self) -> str | None:
        """The next frame to write, ``None`` once closed and drained."""
        return await self._frames.get()


@dataclass
class Subscription:
    """A stream on one connection: what it watches and the next block it has not seen."""

    id: str
    kind: str
    """``"newHeads"`` or ``"events"``."""
    connection: Connection
    next_block: int
    filter: dict[str, Any] = field(default_factory=dict)
    """For events: the ``starknet_getEvents`` filter's ``address`` and ``keys``."""
    active: bool = False
    """Set once the subscribe reply is queued: notifications never overtake it."""


class SubscriptionHub:
    """Every subscription of one server, fed by the devnet's listener hook."""

    def __init__(self, dispatcher: Dispatcher, worker_loop: asyncio.AbstractEventLoop) -> None:
        self._dispatcher = dispatcher
        self._loop = worker_loop
        self._subscriptions: dict[str, Subscription] = {}
        self._walking = False
        self._walk_again = False
        self._pending_reorgs: deque[Any] = deque()

    # The devnet's listener hook: called on whatever thread changed the chain.

    def on_chain_event(self, event: Any) -> None:
        """``NewBlock`` or ``Reorg`` from ``Devnet.add_listener``; handled on the worker loop."""
        self._loop.call_soon_threadsafe(self._handle, event)

    def _handle(self, event: Any) -> None:
        if hasattr(event, "starting_block_number"):  # a Reorg
            self._tell_reorg(event)
        self._kick()

    def _tell_reorg(self, reorg: Any) -> None:
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
        start = await self._start_block(block_id)
        return self._add(connection, "newHeads", start, {})

    async def subscribe_events(
        self,
        connection: Connection,
        from_address: Any = None,
        keys: Any = None,
        block_id: Any = None,
        finality_status: Any = None,
    ) -> str:
        if finality_status not in (None, "ACCEPTED_ON_L2", "PRE_CONFIRMED"):
            raise InvalidParamsError("finality_status must be ACCEPTED_ON_L2 or PRE_CONFIRMED")
        start = await self._start_block(block_id, default_latest_inclusive=True)
        event_filter: dict[str, Any] = {}
        if from_address is not None:
            event_filter["address"] = from_address
        if keys is not None:
            event_filter["keys"] = keys
        # Let starknet_getEvents judge the filter now (bad felts, TOO_MANY_KEYS_IN_FILTER),
        # so a bad subscription fails at once rather than on its first block.
        await self._events_page(start, event_filter, None, chunk_size=1)
        return self._add(connection, "events", start, event_filter)

    async def unsubscribe(self, connection: Connection, subscription_id: Any) -> bool:
        subscription = connection.subscriptions.pop(str(subscription_id), None)
        if subscription is None:
            raise InvalidSubscriptionIdError()
        self._subscriptions.pop(subscription.id, None)
        return True

    async def activate(self, connection: Connection) -> None:
        """Start notifying the connection's new subscriptions (their reply has been queued)."""
        fresh = [s for s in connection.subscriptions.values() if not s.active]
        for subscription in fresh:
            subscription.active = True
        if fresh:
            self._kick()

    async def drop(self, connection: Connection) -> None:
        """Forget a closed connection's subscriptions."""
        for subscription_id in connection.subscriptions:
            self._subscriptions.pop(subscription_id, None)
        connection.subscriptions.clear()

    def _add(self, connection: Connection, kind: str, start: int, flt: dict[str, Any]) -> str:
        subscription_id = str(secrets.randbits(63))
        subscription = Subscription(subscription_id, kind, connection, start, flt)
        self._subscriptions[subscription_id] = subscription
        connection.subscriptions[subscription_id] = subscription
        return subscription_id

    async def _start_block(self, block_id: Any, *, default_latest_inclusive: bool = False) -> int:
        """The first block to notify: a past block (hash/number) is replayed from there on.

        For new heads the ``latest`` tag (the default) means "from the next block", as in
        starknet-devnet; events start at the latest block itself, replaying its events.
        """
        latest: int = await self._dispatcher.call("starknet_blockNumber")
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
                latest: int = await self._dispatcher.call("starknet_blockNumber")
                for subscription in list(self._subscriptions.values()):
                    if subscription.active:
                        await self._catch_up(subscription, latest)
                if not self._walk_again:
                    break
        except Exception:
            log.warning("subscription notifications failed", exc_info=True)
        finally:
            self._walking = False

    async def _catch_up(self, subscription: Subscription, latest: int) -> None:
        while subscription.next_block <= latest and subscription.id in self._subscriptions:
            number = subscription.next_block
            try:
                if subscription.kind == "newHeads":
                    await self._send_header(subscription, number)
                else:
                    await self._send_events(subscription, number)
            except BlockNotFoundError:  # aborted meanwhile: a Reorg notification follows
                return
            subscription.next_block = number + 1

    async def _send_header(self, subscription: Subscription, number: int) -> None:
        block = await self._dispatcher.call(
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

    async def _events_page(
        self,
        number: int,
        event_filter: dict[str, Any],
        token: str | None,
        chunk_size: int = EVENTS_PAGE,
    ) -> dict[str, Any]:
        block = {"block_number": number}
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


def _notify(subscription: Subscription, method: str, result: Any) -> None:
    subscription.connection.send(
        {
            "jsonrpc": "2.0",
            "method": method,
            "params": {"subscription_id": subscription.id, "result": result},
        }
    )


class ConnectionDispatcher(Dispatcher):
    """One WebSocket's method table: the subscription methods, then the server's own methods."""

    def __init__(
        self, main: Dispatcher, hub: SubscriptionHub | None, connection: Connection
    ) -> None:
        super().__init__()
        self._main = main
        self._own: frozenset[str] = frozenset()
        if hub is not None:
            self.add("starknet_subscribeNewHeads", partial(hub.subscribe_new_heads, connection))
            self.add("starknet_subscribeEvents", partial(hub.subscribe_events, connection))
            self.add("starknet_unsubscribe", partial(hub.unsubscribe, connection))
            self._own = frozenset(SUBSCRIPTION_METHODS)

    async def call(self, name: str, params: Any = None) -> Any:
        if name in self._own:
            return await super().call(name, params)
        return await self._main.call(name, params)
