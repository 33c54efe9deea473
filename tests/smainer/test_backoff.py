"""The one backoff formula: growing from the first wait, capped, never overflowing."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smainer.backoff import backoff_delay


def test_doubles_from_the_first_wait_up_to_the_cap():
    assert [backoff_delay(n, 0.25, 30.0) for n in range(1, 10)] == [
        0.25,
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        30.0,
        30.0,
    ]


def test_grows_by_the_given_factor():
    assert [backoff_delay(n, 1.0, 100.0, factor=3.0) for n in range(1, 6)] == [
        1.0,
        3.0,
        9.0,
        27.0,
        81.0,
    ]
    assert backoff_delay(6, 1.0, 100.0, factor=3.0) == 100.0


@pytest.mark.parametrize("attempt", [1_024, 1_025, 10_000, 10**30])
def test_huge_attempt_numbers_wait_the_cap_instead_of_overflowing(attempt):
    # From attempt 1025 on, ``first * 2 ** (attempt - 1)`` is beyond a float (OverflowError).
    assert backoff_delay(attempt, 0.25, 30.0) == 30.0
    assert backoff_delay(attempt, 0.5, 3600.0, factor=10.0) == 3600.0


def test_attempts_count_from_one():
    with pytest.raises(ValueError, match="from 1, got 0"):
        backoff_delay(0, 1.0, 30.0)
    with pytest.raises(ValueError, match="from 1, got -3"):
        backoff_delay(-3, 1.0, 30.0)


@given(
    attempt=st.integers(min_value=1, max_value=1_023),
    first=st.floats(min_value=0.001, max_value=100.0),
    cap=st.floats(min_value=0.001, max_value=1e6),
)
def test_equals_the_plain_formula_wherever_that_does_not_overflow(attempt, first, cap):
    # The callers used ``min(first * 2 ** (attempt - 1), cap)`` with an integer power; their
    # delays must not change.
    assert backoff_delay(attempt, first, cap) == min(first * 2 ** (attempt - 1), cap)
