"""Range, backoff and progress arithmetic: the small pure parts of the backfill."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.progress import SyncProgress, duration
from indexer.ranges import header_numbers, split_range
from indexer.retry import Backoff


@given(st.integers(0, 10**6), st.integers(0, 5000), st.integers(1, 700))
def test_split_range_covers_each_block_once_in_order(first, length, size):
    last = first + length - 1
    ranges = split_range(first, last, size)
    blocks = [b for start, end in ranges for b in range(start, end + 1)]
    assert blocks == list(range(first, last + 1))
    assert all(end - start + 1 <= size for start, end in ranges)


def test_split_range_refuses_empty_sizes():
    with pytest.raises(ValueError, match="positive"):
        split_range(0, 10, 0)


def test_header_numbers_keep_ends_event_blocks_and_the_window():
    assert header_numbers(0, 99, head=1000, window=64, event_blocks={5, 50, 200}) == [0, 5, 50, 99]
    assert header_numbers(990, 1000, head=1000, window=5, event_blocks={991}) == [
        990,
        991,
        996,
        997,
        998,
        999,
        1000,
    ]


def test_backoff_doubles_up_to_its_cap():
    backoff = Backoff(first=0.25, factor=2, cap=30)
    assert [backoff.delay(n) for n in range(1, 10)] == [0.25, 0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(10_000) == 30
    with pytest.raises(ValueError, match="from 1"):
        backoff.delay(0)


def test_progress_line_says_percent_rates_and_time_left():
    progress = SyncProgress(first=100, target=1099, started=0.0)
    progress.add(blocks=250, events=1000)
    line = progress.line(at_block=349, now=10.0)
    assert line == (
        "backfill: block 349 of 1,099 (25.0%), 1,000 events, 25 blocks/s, 100 events/s, "
        "30s remaining"
    )
    assert duration(75.2) == "1m15s"
    assert duration(4000) == "1h06m"
