"""What the user sees during the initial sync: blocks, events, rates, percent, time left."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


def duration(seconds: float) -> str:
    """``75.2`` -> ``1m15s``; ``4000`` -> ``1h06m``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


@dataclass
class SyncProgress:
    """Counts of the backfill from ``first`` to ``target``, and the line that reports them."""

    first: int
    target: int
    started: float = field(default_factory=time.monotonic)
    blocks: int = 0
    events: int = 0

    def add(self, blocks: int, events: int) -> None:
        self.blocks += blocks
        self.events += events

    def line(self, at_block: int, now: float | None = None) -> str:
        elapsed = max(1e-9, (time.monotonic() if now is None else now) - self.started)
        total = max(1, self.target - self.first + 1)
        done = min(total, at_block - self.first + 1)
        block_rate = self.blocks / elapsed
        remaining = (total - done) / block_rate if block_rate > 0 else float("inf")
        left = "unknown" if remaining == float("inf") else duration(remaining)
        return (
            f"backfill: block {at_block:,} of {self.target:,} ({100 * done / total:.1f}%), "
            f"{self.events:,} events, {block_rate:,.0f} blocks/s, "
            f"{self.events / elapsed:,.0f} events/s, {left} remaining"
        )
