"""WebSocket subscriptions (``starknet_ws_api.json``): replies and notifications in spec shape.

The first tests run the real server and subscription hub over a toy chain (fast, exact control of
blocks and events); the rest run against the real devnet: starknet-py's own ``WebsocketClient``,
the transaction subscriptions, the limits on a connection (subscriptions, unread frames) and the
``Origin`` check on the upgrade.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket as sockets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from devnet.connection import MAX_QUEUED_FRAMES
from devnet.subscriptions import MAX_SENDER_ADDRESSES, MAX_SUBSCRIPTIONS
from smainer.config import DevnetSettings
from tests.devnet.conftest import RunningServer, ToyChain, serve_real_devnet, start_in_thread
from tests.devnet.spec import Spec

TIMEOUT = 10


class Socket:
    """A test WebSocket client: numbered requests, notifications kept in arrival order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, spec: Spec) -> None:
        self.ws = ws
        self.spec = spec
        self.next_id = 1
        self.notifications: list[dict[str, Any]] = []

    async def call(
        self, method: str, params: Any = None, *, validate: bool = True
    ) -> dict[str, Any]:
        """Send one request; return its response, validated against the spec (unless told)."""
        request_id = self.next_id
        self.next_id += 1
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            body["params"] = params
        await self.ws.send_str(json.dumps(body))
        while True:
            message = await self._receive()
            if "method" in message:
                self.notifications.append(message)
                continue
            assert message["id"] == request_id
            if validate and method in self.spec.methods:
                self.spec.validate_response(method, message, request_id)
            return message

    async def notification(self) -> dict[str, Any]:
        """The next notification, validated against the spec."""
        message = self.notifications.pop(0) if self.notifications else await self._receive()
        assert "id" not in message, message
        self.spec.validate_notification(message)
        return message

    async def assert_quiet(self, seconds: float = 0.3) -> None:
        assert not self.notifications, self.notifications
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(self.ws.receive(), seconds)

    async def _receive(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.ws.receive(), TIMEOUT)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        parsed: dict[str, Any] = json.loads(message.data)
        return parsed


@pytest.fixture
async def socket(
    toy_chain_server: tuple[ToyChain, RunningServer], spec: Spec
) -> AsyncIterator[Socket]:
    _, server = toy_chain_server
    async with aiohttp.ClientSession() as session, session.ws_connect(server.ws_url) as ws:
        yield Socket(ws, spec)


@pytest.fixture
def chain(toy_chain_server: tuple[ToyChain, RunningServer]) -> ToyChain:
    return toy_chain_server[0]


async def mine(socket: Socket, *events: tuple[int, list[int], list[int]]) -> int:
    """Mine a block on the toy chain through the worker, as a transaction would."""
    answer = await socket.call("toy_mine", [[list(e) for e in events]])
    number: int = answer["result"]
    return number


async def test_new_heads_from_now_on(socket: Socket) -> None:
    subscription = (await socket.call("starknet_subscribeNewHeads", {"block_id": "latest"}))[
        "result"
    ]
    await socket.assert_quiet()
    number = await mine(socket)
    note = await socket.notification()
    assert note["method"] == "starknet_subscriptionNewHeads"
    assert note["params"]["subscription_id"] == subscription
    assert note["params"]["result"]["block_number"] == number


async def test_new_heads_replays_from_a_past_block(socket: Socket, chain: ToyChain) -> None:
    for _ in range(3):
        await mine(socket)
    answer = await socket.call("starknet_subscribeNewHeads", [{"block_number": 1}])
    assert isinstance(answer["result"], str)
    numbers = [(await socket.notification())["params"]["result"]["block_number"] for _ in range(3)]
    assert numbers == [1, 2, 3]
    first = chain.blocks[1]["block_hash"]
    by_hash = await socket.call("starknet_subscribeNewHeads", {"block_id": {"block_hash": first}})
    assert (await socket.notification())["params"]["subscription_id"] == by_hash["result"]
    await mine(socket)
    fresh = [await socket.notification() for _ in range(4)]  # 2, 3 for by_hash; 4 for both
    assert sorted(n["params"]["result"]["block_number"] for n in fresh) == [2, 3, 4, 4]


async def test_events_are_filtered_by_address_and_keys(socket: Socket) -> None:
    subscription = (
        await socket.call(
            "starknet_subscribeEvents", {"from_address": "0xaa", "keys": [["0x1", "0x2"], []]}
        )
    )["result"]
    await mine(socket, (0xAA, [1, 9], [5]), (0xBB, [1], [6]), (0xAA, [3], [7]), (0xAA, [2], [8]))
    first, second = await socket.notification(), await socket.notification()
    for note in (first, second):
        assert note["method"] == "starknet_subscriptionEvents"
        assert note["params"]["subscription_id"] == subscription
        assert note["params"]["result"]["finality_status"] == "ACCEPTED_ON_L2"
    assert [first["params"]["result"]["data"], second["params"]["result"]["data"]] == [
        ["0x5"],
        ["0x8"],
    ]
    await socket.assert_quiet()


async def test_events_from_a_past_block_and_a_list_of_addresses(socket: Socket) -> None:
    await mine(socket, (0xAA, [1], [1]))
    await mine(socket, (0xBB, [1], [2]), (0xCC, [1], [3]))
    await socket.call(
        "starknet_subscribeEvents",
        {"from_address": ["0xaa", "0xcc"], "block_id": {"block_number": 0}},
    )
    data = [(await socket.notification())["params"]["result"]["data"] for _ in range(2)]
    assert data == [["0x1"], ["0x3"]]


async def test_reorg_is_notified_and_the_new_chain_follows(socket: Socket) -> None:
    heads = (await socket.call("starknet_subscribeNewHeads"))["result"]
    events = (await socket.call("starknet_subscribeEvents", {"from_address": "0xaa"}))["result"]
    first = await mine(socket, (0xAA, [1], [1]))
    await mine(socket)
    received = [await socket.notification() for _ in range(3)]
    assert sorted(n["method"] for n in received) == [
        "starknet_subscriptionEvents",
        "starknet_subscriptionNewHeads",
        "starknet_subscriptionNewHeads",
    ]
    await socket.call("toy_abort", [first])
    reorgs = [await socket.notification() for _ in range(2)]
    assert {n["params"]["subscription_id"] for n in reorgs} == {heads, events}
    for note in reorgs:
        assert note["method"] == "starknet_subscriptionReorg"
        assert note["params"]["result"]["starting_block_number"] == first
        assert note["params"]["result"]["ending_block_number"] == first + 1
    replacement = await mine(socket)
    note = await socket.notification()
    assert note["params"]["result"]["block_number"] == replacement == first
    await socket.assert_quiet()


async def test_unsubscribe(socket: Socket) -> None:
    subscription = (await socket.call("starknet_subscribeNewHeads"))["result"]
    assert (await socket.call("starknet_unsubscribe", [subscription]))["result"] is True
    await mine(socket)
    await socket.assert_quiet()
    again = await socket.call("starknet_unsubscribe", {"subscription_id": subscription})
    assert again["error"] == {"code": 66, "message": "Invalid subscription id"}


async def test_subscription_ids_belong_to_their_connection(
    socket: Socket, toy_chain_server: tuple[ToyChain, RunningServer], spec: Spec
) -> None:
    subscription = (await socket.call("starknet_subscribeNewHeads"))["result"]
    _, server = toy_chain_server
    async with aiohttp.ClientSession() as session, session.ws_connect(server.ws_url) as ws:
        other = Socket(ws, spec)
        answer = await other.call("starknet_unsubscribe", [subscription])
        assert answer["error"]["code"] == 66


async def test_too_many_blocks_back(socket: Socket, chain: ToyChain) -> None:
    for _ in range(1026):
        chain.blocks.append(dict(chain.blocks[-1], block_number=len(chain.blocks)))
        chain.events.append([])
    answer = await socket.call("starknet_subscribeNewHeads", [{"block_number": 0}])
    assert answer["error"] == {"code": 68, "message": "Cannot go back more than 1024 blocks"}
    answer = await socket.call("starknet_subscribeEvents", {"block_id": {"block_number": 1}})
    assert answer["error"]["code"] == 68
    ok = await socket.call("starknet_subscribeNewHeads", [{"block_number": 2}])
    assert "result" in ok


@pytest.mark.parametrize(
    ("block_id", "code"),
    [({"block_number": 99}, 24), ({"block_hash": "0x123"}, 24), ("pre_confirmed", -32602)],
)
async def test_bad_start_block(socket: Socket, block_id: Any, code: int) -> None:
    for method in ("starknet_subscribeNewHeads", "starknet_subscribeEvents"):
        answer = await socket.call(method, {"block_id": block_id})
        assert answer["error"]["code"] == code


async def test_plain_requests_and_bad_frames_share_the_socket(socket: Socket) -> None:
    assert (await socket.call("starknet_blockNumber"))["result"] == 0
    await socket.ws.send_str("{not json")
    answer = await socket._receive()
    assert answer["error"]["code"] == -32700
    await socket.ws.send_bytes(json.dumps({"jsonrpc": "2.0", "id": 5, "method": "x"}).encode())
    assert (await socket._receive())["error"]["code"] == -32601
    assert (await socket.call("starknet_blockNumber"))["result"] == 0


async def test_subscriptions_are_websocket_only(
    toy_chain_server: tuple[ToyChain, RunningServer],
) -> None:
    _, server = toy_chain_server
    body = {"jsonrpc": "2.0", "id": 1, "method": "starknet_subscribeNewHeads"}
    async with aiohttp.ClientSession() as session, session.post(server.url, json=body) as response:
        assert (await response.json())["error"]["code"] == -32601


async def test_websocket_upgrade_on_rpc_path(
    toy_chain_server: tuple[ToyChain, RunningServer], spec: Spec
) -> None:
    _, server = toy_chain_server
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{server.url}/rpc") as ws,
    ):
        socket = Socket(ws, spec)
        assert "result" in await socket.call("starknet_subscribeNewHeads")
        await mine(socket)
        assert (await socket.notification())["params"]["result"]["block_number"] == 1


async def test_starknet_py_websocket_client_on_the_devnet(devnet_server: RunningServer) -> None:
    """starknet-py's own WebsocketClient: heads, events and a reorg from the real devnet."""
    from starknet_py.net.websockets.websocket_client import WebsocketClient

    strk = 0x04718F5A0FC34CC1AF16A1CDEE98FFB20C31F5CD61D6AB07201858F4287C938D
    heads: asyncio.Queue[Any] = asyncio.Queue()
    events: asyncio.Queue[Any] = asyncio.Queue()
    reorgs: asyncio.Queue[Any] = asyncio.Queue()
    client = WebsocketClient(devnet_server.ws_url)
    await client.connect()
    try:
        client.on_chain_reorg = reorgs.put_nowait
        latest = await devnet_rpc(devnet_server, "starknet_blockNumber", [])
        await client.subscribe_new_heads(handler=heads.put_nowait)
        await client.subscribe_events(handler=events.put_nowait, from_address=strk)
        minted = await devnet_rpc(devnet_server, "devnet_mint", {"address": "0x1234", "amount": 5})
        head = await asyncio.wait_for(heads.get(), TIMEOUT)
        event = await asyncio.wait_for(events.get(), TIMEOUT)
        while event.result.block_number <= latest:  # the latest block's events come first
            event = await asyncio.wait_for(events.get(), TIMEOUT)
        assert event.result.transaction_hash == int(minted["tx_hash"], 16)
        assert event.result.from_address == strk
        assert head.result.block_number == event.result.block_number
        await devnet_rpc(
            devnet_server,
            "devnet_abortBlocks",
            {"starting_block_id": {"block_number": head.result.block_number}},
        )
        reorg = await asyncio.wait_for(reorgs.get(), TIMEOUT)
        assert reorg.result.starting_block_number == head.result.block_number
        assert reorg.result.starting_block_hash == head.result.block_hash
    finally:
        await client.disconnect()


async def test_starknet_py_reads_the_transaction_subscriptions(
    devnet_server: RunningServer,
) -> None:
    """starknet-py's own schemas parse the new transaction, receipt and status notifications."""
    from starknet_py.net.websockets.websocket_client import WebsocketClient

    transactions: asyncio.Queue[Any] = asyncio.Queue()
    receipts: asyncio.Queue[Any] = asyncio.Queue()
    statuses: asyncio.Queue[Any] = asyncio.Queue()
    client = WebsocketClient(devnet_server.ws_url)
    await client.connect()
    try:
        subscriptions = [
            await client.subscribe_new_transactions(handler=transactions.put_nowait),
            await client.subscribe_new_transaction_receipts(handler=receipts.put_nowait),
        ]
        minted = await devnet_rpc(devnet_server, "devnet_mint", {"address": "0x1234", "amount": 5})
        tx_hash = int(minted["tx_hash"], 16)
        subscriptions.append(
            await client.subscribe_transaction_status(
                handler=statuses.put_nowait, transaction_hash=tx_hash
            )
        )
        transaction = await asyncio.wait_for(transactions.get(), TIMEOUT)
        receipt = await asyncio.wait_for(receipts.get(), TIMEOUT)
        status = await asyncio.wait_for(statuses.get(), TIMEOUT)
        assert transaction.result.transaction.hash == tx_hash
        assert transaction.result.finality_status.value == "ACCEPTED_ON_L2"
        assert receipt.result.transaction_hash == tx_hash
        assert receipt.result.block_number is not None
        assert status.result.transaction_hash == tx_hash
        assert status.result.status.finality_status.value == "ACCEPTED_ON_L2"
        for subscription in subscriptions:
            assert await client.unsubscribe(subscription) is True
    finally:
        await client.disconnect()


async def devnet_rpc(server: RunningServer, method: str, params: Any) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    async with aiohttp.ClientSession() as session, session.post(server.url, json=body) as response:
        answer = await response.json()
    assert "result" in answer, answer
    return answer["result"]


# The transaction subscriptions, on the real devnet (one block per transaction).


@pytest.fixture
async def devnet_socket(devnet_server: RunningServer, spec: Spec) -> AsyncIterator[Socket]:
    async with aiohttp.ClientSession() as session, session.ws_connect(devnet_server.ws_url) as ws:
        yield Socket(ws, spec)


async def subscribe(socket: Socket, method: str, params: Any = None) -> str:
    answer = await socket.call(method, params)
    assert "result" in answer, answer
    subscription: str = answer["result"]
    return subscription


async def notes_by_subscription(socket: Socket, count: int) -> dict[str, list[dict[str, Any]]]:
    """The next ``count`` notifications (spec-validated), grouped by subscription id."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for _ in range(count):
        note = await socket.notification()
        grouped.setdefault(note["params"]["subscription_id"], []).append(note)
    return grouped


async def test_new_transactions_and_receipts(
    devnet_socket: Socket, devnet_server: RunningServer
) -> None:
    socket = devnet_socket
    plain = await subscribe(socket, "starknet_subscribeNewTransactions")
    tagged = await subscribe(
        socket, "starknet_subscribeNewTransactions", {"tags": ["INCLUDE_PROOF_FACTS"]}
    )
    receipts = await subscribe(socket, "starknet_subscribeNewTransactionReceipts", {})
    stranger = ["0x123456789"]
    elsewhere = [
        await subscribe(socket, "starknet_subscribeNewTransactions", {"sender_address": stranger}),
        await subscribe(
            socket, "starknet_subscribeNewTransactionReceipts", {"sender_address": stranger}
        ),
    ]
    await socket.assert_quiet()
    minted = await devnet_rpc(devnet_server, "devnet_mint", {"address": "0x1234", "amount": 5})
    tx_hash = minted["tx_hash"]
    notes = await notes_by_subscription(socket, 3)
    await socket.assert_quiet()  # nothing for the sender filters that name someone else
    assert sorted(notes) == sorted([plain, tagged, receipts])
    transaction = await devnet_rpc(
        devnet_server, "starknet_getTransactionByHash", {"transaction_hash": tx_hash}
    )
    receipt = await devnet_rpc(
        devnet_server, "starknet_getTransactionReceipt", {"transaction_hash": tx_hash}
    )
    (told,) = notes[plain]
    assert told["method"] == "starknet_subscriptionNewTransaction"
    assert told["params"]["result"] == {**transaction, "finality_status": "ACCEPTED_ON_L2"}
    assert "proof_facts" not in told["params"]["result"]
    assert notes[tagged][0]["params"]["result"]["proof_facts"] == []
    (told,) = notes[receipts]
    assert told["method"] == "starknet_subscriptionNewTransactionReceipts"
    assert told["params"]["result"] == receipt
    assert receipt["block_hash"].startswith("0x")
    assert receipt["transaction_hash"] == tx_hash

    # A sender filter naming the minter passes; unsubscribing stops every kind.
    sender = [transaction["sender_address"]]
    mine_only = await subscribe(
        socket, "starknet_subscribeNewTransactions", {"sender_address": sender}
    )
    for subscription in (plain, tagged, receipts, *elsewhere):
        assert (await socket.call("starknet_unsubscribe", [subscription]))["result"] is True
    again = await devnet_rpc(devnet_server, "devnet_mint", {"address": "0x1234", "amount": 5})
    note = await socket.notification()
    assert note["params"]["subscription_id"] == mine_only
    assert note["params"]["result"]["transaction_hash"] == again["tx_hash"]
    await socket.assert_quiet()


async def test_transaction_status(devnet_socket: Socket, devnet_server: RunningServer) -> None:
    socket = devnet_socket
    minted = await devnet_rpc(devnet_server, "devnet_mint", {"address": "0x1234", "amount": 5})
    known = await subscribe(
        socket, "starknet_subscribeTransactionStatus", {"transaction_hash": minted["tx_hash"]}
    )
    note = await socket.notification()  # a known transaction's status is told at once
    assert note["method"] == "starknet_subscriptionTransactionStatus"
    assert note["params"] == {
        "subscription_id": known,
        "result": {
            "transaction_hash": minted["tx_hash"],
            "status": {"finality_status": "ACCEPTED_ON_L2", "execution_status": "SUCCEEDED"},
        },
    }
    unknown = await subscribe(socket, "starknet_subscribeTransactionStatus", ["0xabc"])
    await devnet_rpc(devnet_server, "devnet_createBlock", [])
    await socket.assert_quiet()  # no change for the first, nothing yet for the unknown one
    for subscription in (known, unknown):
        assert (await socket.call("starknet_unsubscribe", [subscription]))["result"] is True
        gone = await socket.call("starknet_unsubscribe", [subscription])
        assert gone["error"]["code"] == 66


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        ("starknet_subscribeNewTransactions", {"finality_status": ["ACCEPTED_ON_L1"]}, -32602),
        ("starknet_subscribeNewTransactionReceipts", {"finality_status": ["RECEIVED"]}, -32602),
        ("starknet_subscribeNewTransactions", {"tags": ["INCLUDE_EVERYTHING"]}, -32602),
        ("starknet_subscribeNewTransactions", {"sender_address": ["0x01"]}, -32602),
        ("starknet_subscribeNewTransactionReceipts", {"sender_address": "0x1"}, -32602),
        ("starknet_subscribeTransactionStatus", {"transaction_hash": "12"}, -32602),
        (
            "starknet_subscribeNewTransactions",
            {"sender_address": ["0x1"] * (MAX_SENDER_ADDRESSES + 1)},
            67,
        ),
        (
            "starknet_subscribeNewTransactionReceipts",
            {"sender_address": ["0x1"] * (MAX_SENDER_ADDRESSES + 1)},
            67,
        ),
    ],
)
async def test_bad_transaction_subscriptions(
    devnet_socket: Socket, method: str, params: Any, code: int
) -> None:
    answer = await devnet_socket.call(method, params)
    assert answer["error"]["code"] == code


@pytest.fixture(scope="module")
def block_time_devnet() -> Iterator[RunningServer]:
    """A devnet whose transactions wait in the pre-confirmed block (blocks only on demand)."""
    settings = DevnetSettings(port=0, seed=7, accounts=1, block_time=3600)
    server = start_in_thread(serve_real_devnet(settings))
    yield server
    server.stop()


async def test_pre_confirmed_then_accepted(block_time_devnet: RunningServer, spec: Spec) -> None:
    server = block_time_devnet
    async with aiohttp.ClientSession() as session, session.ws_connect(server.ws_url) as ws:
        socket = Socket(ws, spec)
        both = ["PRE_CONFIRMED", "ACCEPTED_ON_L2"]
        transactions = await subscribe(
            socket, "starknet_subscribeNewTransactions", {"finality_status": both}
        )
        receipts = await subscribe(
            socket, "starknet_subscribeNewTransactionReceipts", [["PRE_CONFIRMED"]]
        )
        transfers_to = {"keys": [[], [], ["0x1234"]], "finality_status": "PRE_CONFIRMED"}
        events = await subscribe(socket, "starknet_subscribeEvents", transfers_to)
        minted = await devnet_rpc(server, "devnet_mint", {"address": "0x1234", "amount": 5})
        tx_hash = minted["tx_hash"]
        status = await subscribe(socket, "starknet_subscribeTransactionStatus", [tx_hash])
        notes = await notes_by_subscription(socket, 4)
        event = notes[events][0]["params"]["result"]
        assert (event["transaction_hash"], event["finality_status"]) == (tx_hash, "PRE_CONFIRMED")
        assert "block_hash" not in event
        assert notes[transactions][0]["params"]["result"]["finality_status"] == "PRE_CONFIRMED"
        receipt = notes[receipts][0]["params"]["result"]
        assert receipt["finality_status"] == "PRE_CONFIRMED"
        assert "block_hash" not in receipt
        assert receipt["transaction_hash"] == tx_hash
        told = notes[status][0]["params"]["result"]
        assert told["status"]["finality_status"] == "PRE_CONFIRMED"
        await socket.assert_quiet()  # told once

        block = await devnet_rpc(server, "devnet_createBlock", [])
        notes = await notes_by_subscription(socket, 3)
        assert sorted(notes) == sorted([transactions, status, events])
        event = notes[events][0]["params"]["result"]
        assert (event["block_hash"], event["finality_status"]) == (
            block["block_hash"],
            "ACCEPTED_ON_L2",
        )
        accepted = notes[transactions][0]["params"]["result"]
        assert (accepted["transaction_hash"], accepted["finality_status"]) == (
            tx_hash,
            "ACCEPTED_ON_L2",
        )
        assert notes[status][0]["params"]["result"]["status"]["finality_status"] == (
            "ACCEPTED_ON_L2"
        )
        mined = await devnet_rpc(
            server, "starknet_getTransactionReceipt", {"transaction_hash": tx_hash}
        )
        assert mined["block_hash"] == block["block_hash"]
        await socket.assert_quiet()


# Limits: subscriptions per connection, unread frames, origins.


async def test_subscriptions_per_connection_are_limited(devnet_socket: Socket) -> None:
    socket = devnet_socket
    held = [await subscribe(socket, "starknet_subscribeNewHeads") for _ in range(MAX_SUBSCRIPTIONS)]
    for method in ("starknet_subscribeNewHeads", "starknet_subscribeNewTransactions"):
        refused = await socket.call(method, validate=False)
        assert refused["error"]["code"] == -32005, refused
        assert refused["error"]["message"] == "Limit exceeded"
        assert str(MAX_SUBSCRIPTIONS) in refused["error"]["data"]
    assert (await socket.call("starknet_unsubscribe", [held[0]]))["result"] is True
    await subscribe(socket, "starknet_subscribeNewHeads")


class SilentClient:
    """A real WebSocket client that sends but never reads, with a small receive buffer."""

    def __init__(self, port: int) -> None:
        self.sock = sockets.socket()
        self.sock.setsockopt(sockets.SOL_SOCKET, sockets.SO_RCVBUF, 4096)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, request: dict[str, Any]) -> None:
        """One masked text frame (RFC 6455 section 5.2; clients must mask)."""
        payload = json.dumps(request).encode()
        assert len(payload) < 65536
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        size = (
            bytes([0x80 | len(payload)])
            if len(payload) < 126
            else b"\xfe" + len(payload).to_bytes(2, "big")
        )
        self.sock.sendall(b"\x81" + size + mask + masked)

    def read_until_closed(self) -> int:
        """Drain what the server sent before it hung up; the bytes read."""
        total = 0
        try:
            while chunk := self.sock.recv(65536):
                total += len(chunk)
        except ConnectionResetError:
            pass
        return total


async def test_a_client_that_stops_reading_is_closed(
    devnet_server: RunningServer, devnet_socket: Socket, caplog: pytest.LogCaptureFixture
) -> None:
    """150 replaying subscriptions from a client that never reads: the server queues at most
    its limit, closes that client, and keeps serving everyone else."""
    caplog.set_level(logging.WARNING, logger="devnet.server")
    blocks = 100  # x 64 subscriptions: well over the queue limit plus what the kernel holds
    assert blocks * MAX_SUBSCRIPTIONS > 1.5 * MAX_QUEUED_FRAMES
    latest = await devnet_rpc(devnet_server, "starknet_blockNumber", [])
    for _ in range(blocks - latest):
        await devnet_rpc(devnet_server, "devnet_createBlock", [])
    latest = max(latest, blocks)
    watcher = await subscribe(devnet_socket, "starknet_subscribeNewHeads")

    silent = SilentClient(devnet_server.port)
    try:
        for request_id in range(150):
            silent.send(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "method": "starknet_subscribeNewHeads",
                    "params": {"block_id": {"block_number": latest - blocks + 1}},
                }
            )
        deadline = time.monotonic() + TIMEOUT
        while not any("slow websocket consumer" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the silent client was never closed"
            await asyncio.sleep(0.05)

        # Everyone else is still served: a new block reaches the watcher, HTTP answers.
        block = await devnet_rpc(devnet_server, "devnet_createBlock", [])
        note = await devnet_socket.notification()
        assert note["params"]["subscription_id"] == watcher
        assert note["params"]["result"]["block_hash"] == block["block_hash"]
        received = await asyncio.to_thread(silent.read_until_closed)
        assert received < 2 * 1024 * 1024  # what was in flight, not thousands of queued frames
    finally:
        silent.sock.close()


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://evil.example", False), ("null", False), ("http://localhost:3000", True)],
)
async def test_websocket_upgrade_checks_the_origin(
    devnet_server: RunningServer, origin: str, allowed: bool
) -> None:
    """A web page may not open the devnet's WebSocket (browsers send ``Origin``); local ones may."""
    async with aiohttp.ClientSession() as session:
        if allowed:
            async with session.ws_connect(devnet_server.ws_url, origin=origin) as ws:
                await ws.send_json({"jsonrpc": "2.0", "id": 1, "method": "starknet_blockNumber"})
                assert "result" in await ws.receive_json(timeout=TIMEOUT)
        else:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                async with session.ws_connect(devnet_server.ws_url, origin=origin):
                    pass
            assert refused.value.status == 403
