"""A real index for the API: a devnet in-process, the marketplace deployed, a protocol history
played (``tests/market_fixtures.py``), and the app started over it, indexing the chain itself
in its lifespan until ``/health`` says 200.

Built once per module (the devnet history costs ~10 s of Cairo); tests compare the answers with
the contracts' own views read from the same devnet (``tests/indexer/market.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.settings import ApiSettings
from tests.indexer.market import Market
from tests.market_fixtures import devnet as devnet
from tests.market_fixtures import market as market
from tests.market_fixtures import target as target

READY_TIMEOUT = 60.0


def wait_synced(client: TestClient, head: int, timeout: float = READY_TIMEOUT) -> dict:
    """Poll /health until it is 200 and the index has reached ``head``."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        answer = client.get("/api/v1/health")
        body = answer.json()
        if answer.status_code == 200 and (body["indexed_block"] or 0) >= head:
            return body
        time.sleep(0.1)
    raise AssertionError(f"the API did not sync to block {head}: {body}")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("index") / "api.duckdb"


@pytest.fixture(scope="module")
def client(market: Market, db: Path) -> Iterator[TestClient]:
    """The app indexing the devnet in its lifespan, synced to the head."""
    app = create_app(ApiSettings(db=db, target=target(market), rate_limit=0, stream_poll=0.1))
    with TestClient(app=app, timeout=30) as test_client:
        wait_synced(test_client, asyncio.run(market.head()))
        yield test_client
