"""Fixtures for the devnet's tests: the spec, servers in background threads, a toy chain.

Servers run in a thread with their own event loop, as the real ``smainer devnet`` runs its own:
tests then talk to them over real sockets with starknet-py or aiohttp, from any loop, and the
session-scoped devnet is started once for the whole session (genesis runs Cairo; it is not free).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from devnet.dispatch import Dispatcher
from devnet.errors import (
    BlockNotFoundError,
    ContractNotFoundError,
    InvalidContinuationTokenError,
    NoBlocksError,
)
from devnet.models import Reorg
from devnet.server import RpcServer, Worker, serve_devnet, serve_rpc
from devnet.subscriptions import SubscriptionHub
from smainer.config import DevnetSettings
from tests.devnet.spec import Spec, load_spec

ServeFn = Callable[[asyncio.Event, Callable[[int], None]], Coroutine[Any, Any, None]]


@pytest.fixture(scope="session")
def spec() -> Spec:
    return load_spec()


@dataclass
class RunningServer:
    """A server on ``127.0.0.1:port`` served by a background thread until :meth:`stop`."""

    port: int
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop
    stop_event: asyncio.Event
    failure: list[BaseException] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
            self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "server did not stop"
        if self.failure:
            raise self.failure[0]


def start_in_thread(serve: ServeFn, timeout: float = 120) -> RunningServer:
    """Run ``serve(stop_event, on_ready)`` in a new thread; return once it reports its port."""
    ready = threading.Event()
    port: list[int] = []
    state: dict[str, Any] = {}
    failure: list[BaseException] = []

    def on_ready(bound: int) -> None:
        port.append(bound)
        ready.set()

    async def main() -> None:
        state["loop"] = asyncio.get_running_loop()
        state["stop"] = asyncio.Event()
        await serve(state["stop"], on_ready)

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            failure.append(exc)
        finally:
            ready.set()

    thread = threading.Thread(target=run, name="test-server", daemon=True)
    thread.start()
    ready.wait(timeout)
    if failure:
        raise failure[0]
    assert port, f"server did not start within {timeout} s"
    return RunningServer(port[0], thread, state["loop"], state["stop"], failure)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# A toy dispatcher and a toy chain: transport and subscription tests without the Cairo VM.


def toy_dispatcher() -> Dispatcher:
    """Methods that exercise the transport: echo, errors, a bug, and blocking work."""
    dispatcher = Dispatcher()

    @dispatcher.method("echo")
    def echo(value: Any) -> Any:
        return value

    @dispatcher.method("add")
    async def add(a: int, b: int = 0) -> int:
        return a + b

    @dispatcher.method("fail")
    def fail() -> None:
        raise ContractNotFoundError()

    @dispatcher.method("boom")
    def boom() -> None:
        raise RuntimeError("private key 0x5ecre7 must never reach a client")

    @dispatcher.method("block")
    def block(seconds: float) -> float:
        time.sleep(seconds)  # stands for a transaction running Cairo: the worker is busy
        return seconds

    return dispatcher


class ToyChain:
    """Blocks and events with the spec's shapes, and the devnet's listener hook."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.events: list[list[dict[str, Any]]] = []
        self.listeners: list[Callable[[Any], None]] = []
        self._hash_seed = 0x1000
        self.mine([])  # genesis

    def add_listener(self, listener: Callable[[Any], None]) -> None:
        self.listeners.append(listener)

    def mine(self, events: list[tuple[int, list[int], list[int]]]) -> dict[str, Any]:
        """A block whose only transaction emitted ``(from_address, keys, data)`` events."""
        number = len(self.blocks)
        self._hash_seed += 1
        block_hash = hex(self._hash_seed * 0x10001)
        price = {"price_in_fri": "0x3b9aca00", "price_in_wei": "0x3b9aca00"}
        tx_hash = hex(0xABC000 + self._hash_seed)
        header = {
            "block_hash": block_hash,
            "parent_hash": self.blocks[-1]["block_hash"] if self.blocks else "0x0",
            "block_number": number,
            "new_root": "0x0",
            "timestamp": 1_700_000_000 + number,
            "sequencer_address": "0x1000",
            "l1_gas_price": price,
            "l2_gas_price": price,
            "l1_data_gas_price": price,
            "l1_da_mode": "BLOB",
            "starknet_version": "0.14.1",
            "event_commitment": "0x0",
            "transaction_commitment": "0x0",
            "receipt_commitment": "0x0",
            "state_diff_commitment": "0x0",
            "event_count": len(events),
            "transaction_count": 1 if events else 0,
            "state_diff_length": 0,
        }
        emitted = [
            {
                "from_address": hex(address),
                "keys": [hex(k) for k in keys],
                "data": [hex(d) for d in data],
                "block_hash": block_hash,
                "block_number": number,
                "transaction_hash": tx_hash,
                "transaction_index": 0,
                "event_index": index,
            }
            for index, (address, keys, data) in enumerate(events)
        ]
        self.blocks.append(header)
        self.events.append(emitted)
        self._tell(("new_block", number))
        return header

    def abort_from(self, number: int) -> Reorg:
        """``devnet_abortBlocks``: drop ``number`` and later, telling listeners."""
        reorg = Reorg(
            starting_block_number=number,
            starting_block_hash=int(self.blocks[number]["block_hash"], 16),
            ending_block_number=len(self.blocks) - 1,
            ending_block_hash=int(self.blocks[-1]["block_hash"], 16),
        )
        del self.blocks[number:]
        del self.events[number:]
        self._tell(reorg)
        return reorg

    def _tell(self, event: Any) -> None:
        for listener in self.listeners:
            listener(event)

    def dispatcher(self) -> Dispatcher:
        dispatcher = Dispatcher()
        dispatcher.add("starknet_blockNumber", self._block_number)
        dispatcher.add("starknet_getBlockWithTxHashes", self._get_block)
        dispatcher.add("starknet_getEvents", self._get_events)
        dispatcher.add("toy_mine", self._mine_rpc)
        dispatcher.add("toy_abort", self._abort_rpc)
        return dispatcher

    def _block_number(self) -> int:
        if not self.blocks:
            raise NoBlocksError()
        return len(self.blocks) - 1

    def _number(self, block_id: Any) -> int:
        if block_id == "latest":
            return self._block_number()
        if isinstance(block_id, dict) and "block_number" in block_id:
            number = block_id["block_number"]
            if isinstance(number, int) and 0 <= number < len(self.blocks):
                return number
        if isinstance(block_id, dict) and "block_hash" in block_id:
            for number, block in enumerate(self.blocks):
                if int(block["block_hash"], 16) == int(block_id["block_hash"], 16):
                    return number
        raise BlockNotFoundError()

    def _get_block(self, block_id: Any) -> dict[str, Any]:
        number = self._number(block_id)
        transactions = [self.events[number][0]["transaction_hash"]] if self.events[number] else []
        return {"status": "ACCEPTED_ON_L2", **self.blocks[number], "transactions": transactions}

    def _get_events(self, filter: dict[str, Any]) -> dict[str, Any]:
        start = self._number(filter.get("from_block", {"block_number": 0}))
        end = self._number(filter.get("to_block", "latest"))
        addresses = filter.get("address")
        if isinstance(addresses, str):
            addresses = [addresses]
        wanted = {int(a, 16) for a in addresses} if addresses else None
        keys = filter.get("keys") or []
        matched = [
            event
            for number in range(start, end + 1)
            for event in self.events[number]
            if (wanted is None or int(event["from_address"], 16) in wanted)
            and all(
                not options or (i < len(event["keys"]) and event["keys"][i] in options)
                for i, options in enumerate(keys)
            )
        ]
        try:
            offset = int(filter.get("continuation_token") or 0)
        except ValueError:
            raise InvalidContinuationTokenError() from None
        size = filter["chunk_size"]
        page: dict[str, Any] = {"events": matched[offset : offset + size]}
        if offset + size < len(matched):
            page["continuation_token"] = str(offset + size)
        return page

    def _mine_rpc(self, events: list[list[Any]]) -> int:
        return int(self.mine([(a, k, d) for a, k, d in events])["block_number"])

    def _abort_rpc(self, starting_block_number: int) -> int:
        return self.abort_from(starting_block_number).ending_block_number


def serve_toy(dispatcher: Dispatcher, chain: ToyChain | None = None, **options: Any) -> ServeFn:
    """A ``serve`` function for :func:`start_in_thread` around a toy dispatcher."""

    async def serve(stop: asyncio.Event, on_ready: Callable[[int], None]) -> None:
        worker = Worker()
        worker.start()
        hub = SubscriptionHub(dispatcher, worker.loop)
        if chain is not None:
            chain.add_listener(hub.on_chain_event)
        server = RpcServer(dispatcher, worker=worker, hub=hub, **options)
        try:
            await serve_rpc(server, "127.0.0.1", 0, on_ready=on_ready, stop=stop)
        finally:
            worker.stop()

    return serve


@pytest.fixture(scope="module")
def toy_server() -> Iterator[RunningServer]:
    server = start_in_thread(serve_toy(toy_dispatcher(), max_body_bytes=64 * 1024))
    yield server
    server.stop()


@pytest.fixture
def toy_chain_server() -> Iterator[tuple[ToyChain, RunningServer]]:
    chain = ToyChain()
    server = start_in_thread(serve_toy(chain.dispatcher(), chain))
    yield chain, server
    server.stop()


# The real devnet, served exactly as ``smainer devnet`` serves it.

DEVNET_ACCOUNTS = 4


def serve_real_devnet(settings: DevnetSettings) -> ServeFn:
    async def serve(stop: asyncio.Event, on_ready: Callable[[int], None]) -> None:
        await serve_devnet(settings, stop=stop, on_ready=on_ready, out=lambda _banner: None)

    return serve


@pytest.fixture(scope="session")
def devnet_server() -> Iterator[RunningServer]:
    """One devnet for the session (on a free port); tests build what they need on it."""
    settings = DevnetSettings(port=0, seed=7, accounts=DEVNET_ACCOUNTS, allow_any_dump_path=True)
    server = start_in_thread(serve_real_devnet(settings))
    yield server
    server.stop()
