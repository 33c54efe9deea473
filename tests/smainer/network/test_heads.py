"""Following new heads over the node's WebSocket: a real devnet's notifications end a wait at once,
and a node with no WebSocket costs one log line and the wait's timeout, nothing more."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import aiohttp
import pytest

from smainer.config import DevnetSettings
from smainer.network.heads import HeadWatcher, derive_ws_url, redact
from tests.devnet.conftest import RunningServer, free_port, serve_real_devnet, start_in_thread

LONG = 600.0
"""A wait no test sits out: only a notification can end it in time."""


@pytest.fixture(scope="module")
def devnet() -> Iterator[RunningServer]:
    server = start_in_thread(serve_real_devnet(DevnetSettings(port=0, seed=3, accounts=1)))
    try:
        yield server
    finally:
        server.stop()


async def create_block(server: RunningServer, after: float = 0.0) -> None:
    await asyncio.sleep(after)
    body = {"jsonrpc": "2.0", "id": 1, "method": "devnet_createBlock", "params": {}}
    async with aiohttp.ClientSession() as s, s.post(f"{server.url}/rpc", json=body) as response:
        assert "result" in await response.json()


def test_ws_url_is_derived_from_the_rpc_url() -> None:
    assert derive_ws_url("http://127.0.0.1:5050/rpc") == "ws://127.0.0.1:5050/ws"
    assert derive_ws_url("https://node.example/v0_10/KEY?x=1") == "wss://node.example/ws"


def test_redact_keeps_scheme_host_and_port_only() -> None:
    assert redact("wss://u:p@node.example:8443/ws/KEY?token=1") == "wss://node.example:8443"
    assert redact("ws://127.0.0.1/ws") == "ws://127.0.0.1"


async def test_a_new_block_ends_the_wait_at_once(devnet: RunningServer) -> None:
    lines: list[str] = []
    heads = HeadWatcher(devnet.ws_url, log=lines.append)
    try:
        heads.start()
        async with asyncio.timeout(30):
            while not heads.connected:
                await asyncio.sleep(0.02)
        await heads.wait(0)  # takes the "look now" of the connection itself
        for _ in range(2):
            before = heads.notifications
            creating = asyncio.create_task(create_block(devnet, after=0.2))
            started = time.monotonic()
            async with asyncio.timeout(30):  # fails here, not in 600 s, without notifications
                await heads.wait(LONG)
            await creating
            assert time.monotonic() - started < 30
            assert heads.notifications > before
        # Taken: with no new block the next wait lasts its whole timeout.
        started = time.monotonic()
        await heads.wait(0.3)
        assert time.monotonic() - started >= 0.3
        assert heads.take_reorg() is None
    finally:
        await heads.close()
    assert lines == []


async def test_no_websocket_costs_one_line_and_the_timeout() -> None:
    lines: list[str] = []
    port = free_port()  # nothing listens there
    heads = HeadWatcher(
        f"ws://127.0.0.1:{port}/ws", log=lines.append, reconnect_first=0.01, reconnect_cap=0.05
    )
    try:
        started = time.monotonic()
        await heads.wait(0.5)  # several refused connects meanwhile, retried with backoff
        assert time.monotonic() - started >= 0.5
        await heads.wait(0.3)
    finally:
        await heads.close()
    assert not heads.connected
    assert heads.notifications == 0
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"no WebSocket subscriptions at ws://127.0.0.1:{port}/… (")
    assert lines[0].endswith("following the head by polling")
