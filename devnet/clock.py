"""The devnet's time: wall-clock seconds plus an offset, as starknet-devnet keeps it.

``devnet_setTime`` and ``devnet_increaseTime`` move the offset, so time keeps flowing from the
new value; ``devnet_setTime`` with ``generate_block: false`` also *pins* the next block to the
exact time asked for until that block is mined. Block timestamps are Starknet ``u64`` seconds
(cairo-lang's ``BlockInfo`` refuses anything larger), so a time outside that range is refused
here, before anything changes, with spec error -32602.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from devnet.errors import InvalidParamsError

__all__ = ["MAX_TIMESTAMP", "Clock"]

MAX_TIMESTAMP = 2**64 - 1
"""The largest block timestamp Starknet can carry (``u64``)."""


@dataclass
class Clock:
    """Wall clock + ``offset``, and the timestamp the next block is pinned to, if any.

    ``offset`` and ``pinned`` are chain data (dumped and loaded); ``wall`` is where seconds come
    from (``time.time``, or a test's hand-moved clock).
    """

    wall: Callable[[], float]
    offset: int = 0
    pinned: int | None = None

    def now(self) -> int:
        """The devnet's current Unix time."""
        return int(self.wall()) + self.offset

    def next_block_time(self) -> int:
        """The timestamp the pre-confirmed block runs at: pinned, else now."""
        return self.pinned if self.pinned is not None else self.now()

    def set(self, timestamp: int) -> None:
        """Time continues from ``timestamp``, and the next block gets exactly it."""
        _check(timestamp, "time")
        self.offset = timestamp - int(self.wall())
        self.pinned = timestamp

    def advance(self, seconds: int) -> None:
        """Move time forward for good (a pinned next block moves with it)."""
        if seconds < 0:
            raise InvalidParamsError("time only increases; use devnet_setTime to go back")
        _check(self.now() + seconds, "time after the increase")
        if self.pinned is not None:
            _check(self.pinned + seconds, "time after the increase")
            self.pinned += seconds
        self.offset += seconds

    def unpin(self) -> None:
        """The pinned block was mined: later blocks follow the clock again."""
        self.pinned = None


def _check(timestamp: int, name: str) -> None:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InvalidParamsError(f"{name} must be a Unix time in seconds within u64")
