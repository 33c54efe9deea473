"""Exponential backoff arithmetic, one formula for every service that retries.

Restarts in ``smainer up``, the notifier's deliveries and reconnects, the provider's RPC retries
and the indexer's node retries all wait ``first * factor**(attempt-1)`` seconds, at most
``cap``. It is kept pure (Ponder's ``getLogFilterRetryRanges`` habit) so the schedule is tested
on its own, apart from the asyncio waits in :mod:`smainer.aio` and the callers' loops.
"""

from __future__ import annotations


def backoff_delay(attempt: int, first: float, cap: float, factor: float = 2.0) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first): ``first`` growing by
    ``factor`` each time, at most ``cap``.

    Attempts count from 1 so that an off-by-one in a caller fails loudly instead of halving its
    first wait. A service that retries forever reaches attempt numbers whose power no float
    holds (``2.0**1024`` raises ``OverflowError``); such a delay is far past any cap, so it is
    the cap.
    """
    if attempt < 1:
        raise ValueError(f"attempts count from 1, got {attempt}")
    try:
        grown = first * float(factor) ** (attempt - 1)
    except OverflowError:
        return float(cap)
    return float(min(grown, cap))
