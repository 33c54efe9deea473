"""The market history on a devnet of each test module's own, for the API's and the notifier's tests.

The devnet plays the history of ``tests/indexer/conftest.py`` (tasks Open, Assigned, Completed,
Cancelled and Expired; nodes in several states). Unlike tests/indexer's session-wide one, it is
built once per module (the history costs ~10 s of Cairo), because some tests add transactions
to their chain. A conftest takes the fixtures by importing them (``from ... import devnet as
devnet``), so each is written once here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.settings import IndexTarget
from tests.devnet.conftest import RunningServer
from tests.indexer.conftest import build_market, serve_history_devnet
from tests.indexer.market import Market


@pytest.fixture(scope="module")
def devnet() -> Iterator[RunningServer]:
    yield from serve_history_devnet()


@pytest.fixture(scope="module")
def market(devnet: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Market:
    return build_market(devnet, tmp_path_factory)


def target(market: Market) -> IndexTarget:
    """What the API indexes: the market's two contracts from its deployment block."""
    return IndexTarget(
        rpc_url=market.rpc_url,
        addresses={"Escrow": market.escrow, "Token": market.token},
        start_block=market.deploy_block,
    )
