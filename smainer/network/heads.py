"""New heads and reorgs from the node's WebSocket: a wake-up and a reorg hint, never data.

A service that follows the chain (the indexer's runner once synced, the scheduler between
rounds) would otherwise look at the head every poll interval. With a
``starknet_subscribeNewHeads`` subscription (starknet-py's ``WebsocketClient``; its reorg
handler receives the spec's ``starknet_subscriptionReorg``) it looks as soon as a block is
announced. Nothing is read from the notifications but "something changed" and, for a reorg, its
first block: callers always read the chain over JSON-RPC, so a lost notification, a dropped
socket or a node without a WebSocket only costs latency (polling goes on regardless).
It lives in the core because several services use it and services never import each other.

The socket is kept by one background task: a failed connect is logged once and then retried
silently with backoff (the node may simply have no WebSocket), a dropped socket is logged once
and reconnected the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from starknet_py.net.websockets.models import NewHeadsNotification, ReorgNotification
from starknet_py.net.websockets.websocket_client import WebsocketClient

from smainer.aio import cancel_and_wait
from smainer.backoff import backoff_delay

Log = Callable[[str], None]

RECONNECT_FIRST = 0.5
"""Seconds before the first reconnect; each further wait doubles (:func:`backoff_delay`)."""
RECONNECT_CAP = 30.0
"""The longest wait between connection attempts: a node without a WebSocket is asked again at
most every 30 s, which costs nothing and picks up a WebSocket that comes back."""


def derive_ws_url(rpc_url: str) -> str:
    """``http://host:port/rpc`` -> ``ws://host:port/ws`` (``https`` -> ``wss``): where this
    project's devnet and starknet-devnet serve subscriptions. Other nodes put it elsewhere, in
    which case the connect fails and the caller polls (pass the URL explicitly)."""
    parts = urlsplit(rpc_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, "/ws", "", ""))


def redact(url: str) -> str:
    """Scheme, host and port only: provider URLs carry API keys in their path or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


class HeadWatcher:
    """One WebSocket subscription to new heads, kept open in the background."""

    def __init__(
        self,
        url: str,
        *,
        log: Log,
        timeout: float = 10.0,
        reconnect_first: float = RECONNECT_FIRST,
        reconnect_cap: float = RECONNECT_CAP,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.reconnect_first = reconnect_first
        self.reconnect_cap = reconnect_cap
        self._log = log
        self._news = asyncio.Event()
        self._reorged_from: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        """Whether a subscription is open now (notifications can arrive)."""
        self.notifications = 0
        """Heads and reorgs received so far (what the tests check the wake-ups with)."""

    def start(self) -> None:
        """Start keeping the socket open (from inside the event loop); idempotent."""
        if self._task is None:
            self._task = asyncio.create_task(self._keep_open(), name=f"ws {redact(self.url)}")

    async def wait(self, timeout: float) -> None:
        """Return once a head or a reorg was announced since the last return, or after
        ``timeout`` seconds."""
        self.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._news.wait(), timeout)
        self._news.clear()

    def take_reorg(self) -> int | None:
        """The lowest first block of the reorgs announced since the last call, then forgotten."""
        first, self._reorged_from = self._reorged_from, None
        return first

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)

    # -- the background task ---------------------------------------------------------------

    def _on_head(self, _notification: NewHeadsNotification) -> None:
        self.notifications += 1
        self._news.set()

    def _on_reorg(self, notification: ReorgNotification) -> None:
        self.notifications += 1
        first = int(notification.result.starting_block_number)
        known = self._reorged_from
        self._reorged_from = first if known is None else min(known, first)
        self._news.set()

    async def _keep_open(self) -> None:
        attempt = 0
        told_down = False
        where = redact(self.url)
        while True:
            client = WebsocketClient(self.url)
            try:
                await asyncio.wait_for(client.connect(), self.timeout)
                client.on_chain_reorg = self._on_reorg
                await asyncio.wait_for(
                    client.subscribe_new_heads(handler=self._on_head), self.timeout
                )
            except Exception as exc:  # refused, no /ws (HTTP 404), a bad handshake, a timeout
                await _disconnect(client)
                if not told_down:
                    told_down = True
                    self._log(
                        f"no WebSocket subscriptions at {where}/… ({_why(exc)}); following the "
                        "head by polling"
                    )
                attempt += 1
                await asyncio.sleep(
                    backoff_delay(attempt, self.reconnect_first, self.reconnect_cap)
                )
                continue
            attempt = 0
            self.connected = True
            if told_down:
                self._log(f"WebSocket subscriptions at {where}/… open again")
            told_down = False
            self._news.set()  # blocks may have come while it was down: look now
            try:
                await client.wait_closed_or_failed()
                failure = "closed by the node"
            except Exception as exc:
                failure = _why(exc)
            finally:
                self.connected = False
                await _disconnect(client)
            told_down = True
            self._log(f"WebSocket subscriptions at {where}/… dropped ({failure}); polling while "
                      "reconnecting")  # fmt: skip


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _disconnect(client: WebsocketClient) -> None:
    if client.connection is not None:
        with contextlib.suppress(Exception):
            await client.disconnect()
