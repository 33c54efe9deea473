"""Stopping asyncio tasks for sure.

``task.cancel()`` followed by one ``await`` is not enough on Python 3.11: ``asyncio.wait_for``
can swallow a cancellation that arrives just as the awaitable it guards completes
(CPython gh-86296, fixed in 3.12), and the task then goes on to its next ``await``, which may
never end (a WebSocket's "wait until closed", say). Every service stops its background tasks
through :func:`cancel_and_wait`, which cancels again until each task is done, and runs
concurrent reads through :func:`gather_or_cancel`, which stops the others when one fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")

NUDGE = 0.5
"""Seconds between repeated cancellations of a task that is still running."""


async def cancel_and_wait(*tasks: asyncio.Future[Any], nudge: float = NUDGE) -> None:
    """Cancel ``tasks`` and return once every one is done; their exceptions are retrieved
    (read them from the tasks afterwards if they matter)."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=nudge)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" warning


async def gather_or_cancel(*awaitables: Awaitable[T]) -> list[T]:
    """``asyncio.gather``, except that the first failure cancels the others (and waits until
    they are done) before it propagates: no read left running into the next round, and no
    "exception was never retrieved" from a sibling that failed too."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        await cancel_and_wait(*tasks)
        raise
