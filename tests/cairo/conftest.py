"""Fixtures for tests of the compiled contracts, run in the in-process engine.

The marketplace is deployed once per session; each test gets it restored to that fresh state
from a snapshot, which costs a dict copy instead of a redeploy.
"""

import pytest

from smainer.engine import Chain
from smainer.sandbox import ONE_TOKEN, Marketplace, deploy_sandbox

DEFAULT_REQUIREMENTS = {
    "min_tier": 1,
    "gpu_required": False,
    "cpu_threads": 2,
    "ram_gb": 4,
    "max_execution_time": 3600,
}
START_TIME = 1_700_000_000


@pytest.fixture(scope="session")
def _fresh_marketplace() -> tuple[Marketplace, object]:
    chain = Chain()
    chain.set_block(number=1, timestamp=START_TIME)
    market = deploy_sandbox(chain)
    return market, chain.snapshot()


@pytest.fixture
def market(_fresh_marketplace) -> Marketplace:
    """Token + Escrow as just deployed (see ``smainer.sandbox`` for roles and fee split)."""
    market, snapshot = _fresh_marketplace
    market.chain.restore(snapshot)
    return market


@pytest.fixture
def funded(market: Marketplace) -> Marketplace:
    """The marketplace with users 0xA11 and 0xB0B holding and approving 1000 tokens each."""
    for user in (0xA11, 0xB0B):
        market.fund(user, 1000 * ONE_TOKEN)
    return market
