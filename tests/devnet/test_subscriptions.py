"""The subscription hub (:mod:`devnet.subscriptions`) over a real devnet, on an event loop that
refuses timers.

The hub learns of transactions waiting in the pre-confirmed block from the devnet's
``TransactionReceived`` notification, not from a poll. To show it without measuring time, the
hub, the devnet and the connection run here on one loop (as on the server's worker) whose
``call_at``/``call_later`` fail: a frame told after a write was caused by that write. Requests go
through :class:`~devnet.subscriptions.ConnectionDispatcher` and replies are queued before
:meth:`~devnet.subscriptions.SubscriptionHub.activate`, as the server does, and every frame is
checked against the spec. Over real sockets: ``test_websocket.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

from devnet import subscriptions
from devnet.app import build_dispatcher
from devnet.codec import parse_broadcasted
from devnet.connection import Connection
from devnet.state import Devnet
from devnet.subscriptions import ConnectionDispatcher, SubscriptionHub
from tests.devnet.spec import Spec
from tests.devnet.test_node_helpers import make_devnet, signed_invoke, transfer_call

RECEIVER = "0x1234"
"""Where the tests mint."""

BOTH = ["PRE_CONFIRMED", "ACCEPTED_ON_L2"]


class NoTimersLoop(asyncio.SelectorEventLoop):
    """An event loop on which scheduling anything for later fails, and is remembered (a task
    that fails is not the test's: :func:`run` checks the record)."""

    def __init__(self) -> None:
        super().__init__()
        self.timers: list[str] = []

    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., object], *args: Any, **kwargs: Any
    ) -> asyncio.TimerHandle:
        self.timers.append(repr(callback))
        raise AssertionError(f"a timer was scheduled: {callback!r}")


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    loop = NoTimersLoop()
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert loop.timers == []


class Client:
    """One WebSocket connection as the server handles it, without the socket."""

    def __init__(self, devnet: Devnet, spec: Spec) -> None:
        self.spec = spec
        self.main = build_dispatcher(devnet)
        self.hub = SubscriptionHub(self.main, asyncio.get_running_loop())
        devnet.add_listener(self.hub.on_chain_event)
        self.connection = Connection(asyncio.get_running_loop())
        self.dispatcher = ConnectionDispatcher(self.main, self.hub, self.connection)
        self.next_id = 1
        self.held: list[dict[str, Any]] = []

    async def call(self, method: str, params: Any) -> Any:
        """A request on the connection (devnet writes too): its reply's ``result``."""
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        self.next_id += 1
        answer = await self.dispatcher.handle(json.dumps(request))
        assert answer is not None
        self.connection.send_now(answer.decode())
        await self.hub.activate(self.connection)
        notes = await self.frames()
        (reply,) = [frame for frame in notes if "id" in frame]
        self.held += [frame for frame in notes if "id" not in frame]  # for told()
        assert "result" in reply, reply
        if method in self.spec.methods:
            self.spec.validate_response(method, reply, request["id"])
        return reply["result"]

    async def subscribe(self, method: str, params: Any) -> str:
        subscription: str = await self.call(method, params)
        return subscription

    async def frames(self) -> list[dict[str, Any]]:
        """Every frame the hub queued once the loop has nothing left to do (no time passes)."""
        for _ in range(20):
            await asyncio.sleep(0)
        written = []
        while self.connection.queued_frames:
            text = await self.connection.next_frame()
            assert text is not None
            self.connection.sent(text)
            written.append(json.loads(text))
        return written

    async def told(self) -> list[tuple[str, str, str]]:
        """The notifications so far, spec-checked, as (subscription, tx hash, finality)."""
        notes, self.held = [*self.held, *await self.frames()], []
        return [self._summary(note) for note in notes]

    def _summary(self, note: dict[str, Any]) -> tuple[str, str, str]:
        assert "id" not in note, note
        self.spec.validate_notification(note)
        result = note["params"]["result"]
        finality = result["status"]["finality_status"] if "status" in result else None
        return (
            note["params"]["subscription_id"],
            result["transaction_hash"],
            finality or result["finality_status"],
        )


def _transfer(devnet: Devnet) -> tuple[dict[str, Any], str, str]:
    """A signed transfer from the first account to the second: the wire, its hash, the receiver
    (the one key the event subscriptions filter on, so the fee's ``Transfer`` is left out)."""
    alice, bob = devnet.predeployed_accounts
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3))
    return wire, hex(parse_broadcasted(wire, devnet.chain_id).tx.transaction_hash), hex(bob.address)


async def _subscribe_all(client: Client, tx_hash: str, receiver: str) -> dict[str, str]:
    """One subscription of each kind that may hear of a pre-confirmed transaction."""
    return {
        "transactions": await client.subscribe(
            "starknet_subscribeNewTransactions", {"finality_status": BOTH}
        ),
        "receipts": await client.subscribe(
            "starknet_subscribeNewTransactionReceipts", {"finality_status": ["PRE_CONFIRMED"]}
        ),
        "events": await client.subscribe(
            "starknet_subscribeEvents",
            {"keys": [[], [], [receiver]], "finality_status": "PRE_CONFIRMED"},
        ),
        "status": await client.subscribe(
            "starknet_subscribeTransactionStatus", {"transaction_hash": tx_hash}
        ),
    }


def test_the_poll_is_gone() -> None:
    assert not hasattr(subscriptions, "PRE_CONFIRMED_POLL_SECONDS")
    assert not hasattr(SubscriptionHub, "_poll")


def test_a_waiting_transaction_is_told_at_once_and_before_its_block(spec: Spec) -> None:
    devnet = make_devnet(mine_per_tx=False)
    wire, tx_hash, receiver = _transfer(devnet)

    async def scenario() -> None:
        client = Client(devnet, spec)
        ids = await _subscribe_all(client, tx_hash, receiver)
        assert await client.told() == []  # the hash is unknown yet
        added = await client.call("starknet_addInvokeTransaction", [wire])
        assert added["transaction_hash"] == tx_hash
        assert sorted(await client.told()) == sorted(
            (ids[kind], tx_hash, "PRE_CONFIRMED") for kind in ids
        )
        block = await client.call("devnet_createBlock", [])
        assert sorted(await client.told()) == sorted(
            (ids[kind], tx_hash, "ACCEPTED_ON_L2") for kind in ("transactions", "events", "status")
        )
        mined = await client.call("starknet_getTransactionReceipt", [tx_hash])
        assert mined["block_hash"] == block["block_hash"]

    run(scenario)


def test_nothing_is_told_twice(spec: Spec) -> None:
    devnet = make_devnet(mine_per_tx=False)

    async def scenario() -> None:
        client = Client(devnet, spec)
        watch = await client.subscribe("starknet_subscribeNewTransactions", [BOTH])
        first = await client.call("devnet_mint", {"address": RECEIVER, "amount": 5})
        assert await client.told() == [(watch, first["tx_hash"], "PRE_CONFIRMED")]
        second = await client.call("devnet_mint", {"address": RECEIVER, "amount": 6})
        assert await client.told() == [(watch, second["tx_hash"], "PRE_CONFIRMED")]
        late = await client.subscribe("starknet_subscribeNewTransactions", [BOTH])
        assert await client.told() == [  # a new subscription hears of what already waits
            (late, first["tx_hash"], "PRE_CONFIRMED"),
            (late, second["tx_hash"], "PRE_CONFIRMED"),
        ]
        await client.call("devnet_createBlock", [])
        accepted = [
            (sub, tx["tx_hash"], "ACCEPTED_ON_L2")
            for sub in (watch, late)
            for tx in (first, second)
        ]
        assert await client.told() == accepted
        await client.call("devnet_createBlock", [])  # an empty block
        assert await client.told() == []

    run(scenario)


def test_a_transaction_mined_before_the_hub_looks_is_told_as_accepted_only(spec: Spec) -> None:
    """Received and mined before the hub handles either notification: its block is told, and no
    pre-confirmed notification after it."""
    devnet = make_devnet(mine_per_tx=False)
    wire, tx_hash, receiver = _transfer(devnet)

    async def scenario() -> None:
        client = Client(devnet, spec)
        ids = await _subscribe_all(client, tx_hash, receiver)
        for method, params in (
            ("starknet_addInvokeTransaction", [wire]),
            ("devnet_createBlock", []),
        ):
            answer = await client.dispatcher.handle(
                json.dumps({"jsonrpc": "2.0", "id": 0, "method": method, "params": params})
            )
            assert answer is not None
            assert "result" in json.loads(answer)
        assert sorted(await client.told()) == sorted(
            (ids[kind], tx_hash, "ACCEPTED_ON_L2") for kind in ("transactions", "events", "status")
        )

    run(scenario)


def test_one_block_per_transaction_tells_accepted_only(spec: Spec) -> None:
    """Without ``--block-time`` (the default) nothing waits: only ``ACCEPTED_ON_L2`` is told, as
    before the ``TransactionReceived`` notification existed."""
    devnet = make_devnet()
    wire, tx_hash, receiver = _transfer(devnet)

    async def scenario() -> None:
        client = Client(devnet, spec)
        ids = await _subscribe_all(client, tx_hash, receiver)
        await client.call("starknet_addInvokeTransaction", [wire])
        assert sorted(await client.told()) == sorted(
            (ids[kind], tx_hash, "ACCEPTED_ON_L2") for kind in ("transactions", "events", "status")
        )

    run(scenario)


def test_a_rejected_transaction_tells_nothing(spec: Spec) -> None:
    devnet = make_devnet(mine_per_tx=False)
    alice, bob = devnet.predeployed_accounts
    stale = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3), nonce=7)

    async def scenario() -> None:
        client = Client(devnet, spec)
        watch = await client.subscribe("starknet_subscribeNewTransactions", [BOTH])
        receipts = await client.subscribe("starknet_subscribeNewTransactionReceipts", [BOTH])
        request = {"jsonrpc": "2.0", "id": 9, "method": "starknet_addInvokeTransaction"}
        answer = await client.dispatcher.handle(json.dumps({**request, "params": [stale]}))
        assert answer is not None
        assert json.loads(answer)["error"]["code"] == 52  # INVALID_TRANSACTION_NONCE
        assert await client.told() == []
        assert watch != receipts  # both were listening

    run(scenario)


def test_after_an_abort_a_transaction_received_again_is_told_again(spec: Spec) -> None:
    """``devnet_abortBlocks`` mines the waiting transaction and aborts it: it is forgotten, so
    the same mint (same hash) received again is a new pre-confirmed transaction."""
    devnet = make_devnet(mine_per_tx=False)

    async def scenario() -> None:
        client = Client(devnet, spec)
        watch = await client.subscribe("starknet_subscribeNewTransactions", [BOTH])
        minted = await client.call("devnet_mint", {"address": RECEIVER, "amount": 5})
        assert await client.told() == [(watch, minted["tx_hash"], "PRE_CONFIRMED")]
        pending = await client.call("starknet_getBlockWithTxHashes", ["pre_confirmed"])
        start = {"block_number": pending["block_number"]}
        await client.call("devnet_abortBlocks", {"starting_block_id": start})
        assert await client.told() == []  # never accepted: its block is gone
        again = await client.call("devnet_mint", {"address": RECEIVER, "amount": 5})
        assert again["tx_hash"] == minted["tx_hash"]
        assert await client.told() == [(watch, again["tx_hash"], "PRE_CONFIRMED")]

    run(scenario)


def test_no_walk_for_a_waiting_transaction_nobody_cares_about(spec: Spec) -> None:
    """Only new heads followed: a transaction entering the pre-confirmed block reads nothing."""
    devnet = make_devnet(mine_per_tx=False)

    async def scenario() -> None:
        client = Client(devnet, spec)
        await client.subscribe("starknet_subscribeNewHeads", {})
        reads: list[str] = []
        original = client.main.call

        async def counted(name: str, params: Any = None) -> Any:
            reads.append(name)
            return await original(name, params)

        client.main.call = counted  # type: ignore[method-assign]
        await client.call("devnet_mint", {"address": RECEIVER, "amount": 5})
        assert reads == ["devnet_mint"]
        assert await client.told() == []

    run(scenario)
