"""One WebSocket's outgoing frames: a bounded queue from any thread to the server's loop.

Replies are queued on the server's loop, notifications on the worker (the chain's thread); the
server writes them to the socket in that order. A client that stops reading must cost a bounded
amount of memory and no more work on the chain's thread, so the queue has limits in frames and
bytes: one frame more marks the connection overflowed, nothing more is queued, and the server
closes the socket with :data:`SLOW_CONSUMER_CLOSE_CODE` (:mod:`devnet.server`).

What the connection is subscribed to is no business of this module:
:class:`devnet.subscriptions.SubscriptionHub` keeps that, keyed by connection.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

__all__ = ["MAX_QUEUED_BYTES", "MAX_QUEUED_FRAMES", "SLOW_CONSUMER_CLOSE_CODE", "Connection"]

MAX_QUEUED_FRAMES = 4096
"""Frames (replies and notifications) waiting for one slow socket before it is closed: four full
1024-block replays of new heads."""

MAX_QUEUED_BYTES = 8 * 1024 * 1024
"""Bytes waiting for one slow socket before it is closed (a block's receipts can be large)."""

SLOW_CONSUMER_CLOSE_CODE = 1008
"""RFC 6455 "policy violation": the close code sent to a client whose send queue overflowed."""


class Connection:
    """One WebSocket's outgoing frames, in order, from any thread to the server's loop.

    At most ``max_frames`` frames or ``max_bytes`` bytes wait for the socket; one more marks the
    connection overflowed: nothing more is queued, and :attr:`overflow` (an event on the server's
    loop) tells the server to close the socket. A client that stops reading thus costs a bounded
    amount of memory and no more work on the chain's thread.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        max_frames: int = MAX_QUEUED_FRAMES,
        max_bytes: int = MAX_QUEUED_BYTES,
    ) -> None:
        self._loop = loop
        self._frames: asyncio.Queue[str | None] = asyncio.Queue()
        self._lock = threading.Lock()
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self.queued_frames = 0
        self.queued_bytes = 0
        self.closed = False
        self.overflowed = False
        self.overflow = asyncio.Event()
        """Set (on the server's loop) once the queue overflowed."""

    @property
    def open(self) -> bool:
        return not (self.closed or self.overflowed)

    def _reserve(self, size: int) -> bool | None:
        """Count a frame in; ``None`` if it made the queue overflow just now."""
        with self._lock:
            if not self.open:
                return False
            if self.queued_frames >= self.max_frames or self.queued_bytes + size > self.max_bytes:
                self.overflowed = True
                return None
            self.queued_frames += 1
            self.queued_bytes += size
            return True

    def send_now(self, text: str) -> None:
        """Queue a frame; only from the server's loop (replies)."""
        reserved = self._reserve(len(text))
        if reserved:
            self._frames.put_nowait(text)
        elif reserved is None:
            self.overflow.set()

    def send(self, message: dict[str, Any]) -> None:
        """Queue a notification; from any thread (the worker)."""
        if not self.open:
            return
        text = json.dumps(message, separators=(",", ":"))
        reserved = self._reserve(len(text))
        if reserved:
            self._loop.call_soon_threadsafe(self._frames.put_nowait, text)
        elif reserved is None:
            self._loop.call_soon_threadsafe(self.overflow.set)

    def sent(self, text: str) -> None:
        """A frame left the queue (written, or dropped because the socket closed)."""
        with self._lock:
            self.queued_frames -= 1
            self.queued_bytes -= len(text)

    def close(self) -> None:
        self.closed = True
        self._frames.put_nowait(None)

    async def next_frame(self) -> str | None:
        """The next frame to write, ``None`` once closed and drained."""
        return await self._frames.get()
