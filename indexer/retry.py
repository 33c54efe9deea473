"""Backoff arithmetic and interruptible waits: node errors are retried, never fatal.

Kept pure and small (Ponder's ``getLogFilterRetryRanges`` habit) so the schedule is tested on
its own: 0.25 s, 0.5 s, 1 s ... capped at 30 s, forever, until the indexer is stopped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from smainer.backoff import backoff_delay


@dataclass(frozen=True)
class Backoff:
    first: float = 0.25
    factor: float = 2.0
    cap: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        return backoff_delay(attempt, self.first, self.cap, self.factor)


async def wait_or_stop(stopping: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stopping`` is set first; returns whether it was."""
    if stopping.is_set():
        return True
    try:
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
