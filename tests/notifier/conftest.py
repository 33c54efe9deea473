"""A real API for the notifier to follow, and real receivers for it to call.

The API is the app of ``api.create_app`` under a real uvicorn in a thread, indexing (in its own
lifespan) a devnet on which the marketplace history of ``tests/indexer/conftest.py`` was played
(``tests/market_fixtures.py``, shared with the API's tests): tasks completed, expired and
cancelled, others still open or assigned. Receivers are aiohttp
servers on localhost in the test's own event loop, recording every request they get.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiohttp import web

from api.app import create_app
from api.settings import ApiSettings
from tests.indexer.market import Market
from tests.market_fixtures import devnet as devnet
from tests.market_fixtures import market as market
from tests.market_fixtures import target

SYNC_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def wait_for_head(base: str, head: int, timeout: float = SYNC_TIMEOUT) -> None:
    """Until the API's ``/health`` is 200 with the index at ``head`` or later."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (get_json(f"{base}/api/v1/health")["indexed_block"] or 0) >= head:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the API did not index up to block {head}")


@pytest.fixture(scope="module")
def api(market: Market, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API's base URL, once it has indexed the devnet's history."""
    db = tmp_path_factory.mktemp("notifier-api") / "index.duckdb"
    settings = ApiSettings(db=db, target=target(market), rate_limit=0, stream_poll=0.1)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=free_port(), log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{config.port}"
    wait_for_head(base, asyncio.run(market.head()))
    yield base
    server.should_exit = True
    thread.join(timeout=30)


@dataclass
class Received:
    """One request a receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A callback receiver on localhost: answers each request with ``answer(n)`` (n counts the
    requests to that path from 1) and records it."""

    base: str = ""
    requests: list[Received] = field(default_factory=list)
    answer: Callable[[str, int], int] = lambda _path, _n: 200

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} of {count} requests came"
            await asyncio.sleep(0.05)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        found.requests.append(Received(request.path, dict(request.headers), body, time.time()))
        status = found.answer(request.path, len(found.on(request.path)))
        return web.Response(status=status, text="ok" if status < 300 else "no")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    found.base = f"http://127.0.0.1:{port}"
    yield found
    await runner.cleanup()


def finished_tasks(api: str) -> dict[int, dict[str, Any]]:
    """Every completed, expired or cancelled task, by id, as the API lists them."""
    tasks: dict[int, dict[str, Any]] = {}
    for status in ("completed", "expired", "cancelled"):
        page = get_json(f"{api}/api/v1/tasks?status={status}&limit=500")
        tasks.update({t["id"]: t for t in page["items"]})
    return tasks


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "notifier" / "store.sqlite3"
