"""Block-range arithmetic for the backfill: pure functions, tested on their own."""

from __future__ import annotations


def split_range(first: int, last: int, size: int) -> list[tuple[int, int]]:
    """``first..last`` (inclusive) cut into consecutive ranges of at most ``size`` blocks."""
    if size < 1:
        raise ValueError("range size must be positive")
    return [(start, min(start + size - 1, last)) for start in range(first, last + 1, size)]


def header_numbers(
    first: int, last: int, head: int, window: int, event_blocks: set[int]
) -> list[int]:
    """The blocks of ``first..last`` whose headers a batch stores.

    Both ends (the first's parent hash links the batch to the cursor; the last's hash becomes
    the cursor), every block holding an event (its hash is checked against the event's), and
    every block within ``window`` of the head, where reorgs happen: there the stored hashes form
    an unbroken parent chain, so a fork point can always be found.
    """
    numbers = {first, last} | {n for n in event_blocks if first <= n <= last}
    numbers.update(range(max(first, head - window + 1), last + 1))
    return sorted(numbers)
