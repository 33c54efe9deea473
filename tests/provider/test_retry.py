"""The provider's RPC retry schedule: tries count from 0 here, so the first wait is the base."""

from provider.retry import Backoff


def test_waits_double_from_the_base_after_try_zero_up_to_the_cap():
    backoff = Backoff(attempts=6, base_delay=0.2, max_delay=10.0)
    assert [backoff.delay(n) for n in range(8)] == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0]
    assert backoff.delay(100_000) == 10.0
