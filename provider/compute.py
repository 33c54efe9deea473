"""Running an algorithm off the event loop, in a daemon thread.

JAX releases the GIL while it computes, so heartbeats and chain reads go on meanwhile. The thread
is a daemon: a worker told to stop does not wait for a long computation (the journal makes the
restart compute it again), where ``asyncio.to_thread``'s pool would keep the process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def in_daemon_thread(fn: Callable[..., T], *args: Any) -> T:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(value: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def target() -> None:
        try:
            value, error = fn(*args), None
        except BaseException as exc:
            value, error = None, exc
        # RuntimeError: the loop has closed, nobody waits for this result any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, value, error)

    threading.Thread(target=target, name="provider-compute", daemon=True).start()
    return await future
