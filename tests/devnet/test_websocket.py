"""WebSocket subscriptions (``starknet_ws_api.json``): replies and notifications in spec shape.

Most tests run the real server and subscription hub over a toy chain (fast, exact control of
blocks and events); ``test_starknet_py_websocket_client_on_the_devnet`` runs starknet-py's own
``WebsocketClient`` against the real devnet.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.devnet.conftest import RunningServer, ToyChain
from tests.devnet.spec import Spec

TIMEOUT = 10


class Socket:
    """A test WebSocket client: numbered requests, notifications kept in arrival order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, spec: Spec) -> None:
        self.ws = ws
        self.spec = spec
        self.next_id = 1
        self.notifications: list[dict[str, Any]] = []

    async def call(self, method: str, params: Any = None) -> dict[str, Any]:
        """Send one request; return its response, validated against the spec."""
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
            if method in self.spec.methods:
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


async def devnet_rpc(server: RunningServer, method: str, params: Any) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    async with aiohttp.ClientSession() as session, session.post(server.url, json=body) as response:
        answer = await response.json()
    assert "result" in answer, answer
    return answer["result"]
