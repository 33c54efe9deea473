"""The notifier end to end: a real API over a real devnet history, real receivers on localhost.

Every expectation is read from the API itself (which tasks finished, their creators, details
and timelines), never written down here; every delivery is checked with
``smainer.webhooks.verify_headers`` and the secret its registration was given.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from notifier.callbacks import FINISHING_EVENTS
from notifier.manage import register
from notifier.service import Notifier
from notifier.store import NotifierStore, Position, Registration, open_store
from smainer.config import NotifierSettings
from smainer.webhooks import DELIVERY_HEADER, verify_headers
from tests.indexer.market import Market, call
from tests.notifier.conftest import Receiver, finished_tasks, get_json

QUIET = 1.0
"""Seconds to keep listening after the expected deliveries, for any extra one to show."""


def settings(api: str, store: Path, **changes: Any) -> NotifierSettings:
    base: dict[str, Any] = {"backoff": 0.05, "backoff_cap": 0.2, "max_attempts": 5, "timeout": 5.0}
    return NotifierSettings(api_url=api, store=store, **{**base, **changes})


class Running:
    """A notifier running in the test's loop, its log kept; ``async with`` stops it."""

    def __init__(self, notifier_settings: NotifierSettings, store: NotifierStore, **kw: Any):
        self.log: list[dict[str, Any]] = []
        self.stop = asyncio.Event()
        self.notifier = Notifier(
            notifier_settings, store, log=self.log.append, reconnect_base=0.1, **kw
        )

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.notifier.run(self.stop))
        await self.following()
        return self

    async def following(self, timeout: float = 30.0) -> None:
        """Until the notifier has its position and reads the stream."""
        for _ in range(int(timeout / 0.05)):
            if any(r["msg"] == "following the event stream" for r in self.log):
                return
            assert not self.task.done(), self.task.exception()
            await asyncio.sleep(0.05)
        raise AssertionError(f"the notifier did not start: {self.log}")

    async def __aexit__(self, *_exc: object) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)


def check_delivery(
    received: Any, secret: str, api: str, finished: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """A delivery is signed with ``secret`` and says what the API says of its task."""
    assert verify_headers(secret, received.headers, received.body)
    assert received.headers["Content-Type"] == "application/json"
    body = json.loads(received.body)
    task = finished[body["task_id"]]
    detail = get_json(f"{api}/api/v1/tasks/{body['task_id']}")
    assert body["status"] == task["status"]
    assert body["event"] == f"task.{task['status']}"
    assert body["creator"] == task["creator"]
    assert body["task"] == detail
    ending = {v: k for k, v in FINISHING_EVENTS.items()}[body["event"]]
    (step,) = [e for e in detail["timeline"] if e["event"] == ending]
    assert (body["block_number"], body["transaction_hash"]) == (
        step["block_number"],
        step["transaction_hash"],
    )
    return body


async def test_each_finished_task_is_delivered_once_signed_even_across_restarts(
    api: str, market: Market, receiver: Receiver, store_path: Path
):
    finished = finished_tasks(api)
    creators = Counter(t["creator"] for t in finished.values())
    assert len(finished) >= 3
    assert len(creators) >= 1
    one_task = min(finished)
    store = open_store(store_path)
    try:
        by_creator: dict[str, tuple[Registration, str]] = {
            creator: register(store, f"{receiver.base}/creator/{creator}", creator=creator)
            for creator in creators
        }
        # A creator with no finished task (an account that only runs a node) gets nothing.
        node_address = hex(market.accounts[3][0])
        assert node_address not in creators
        register(store, f"{receiver.base}/idle", creator=node_address)
        task_reg, task_secret = register(store, f"{receiver.base}/task", task_id=one_task)
        expected = len(finished) + 1

        async with Running(settings(api, store_path), store, from_block=0):
            await receiver.wait_for(expected)
            await asyncio.sleep(QUIET)
        assert len(receiver.requests) == expected
        assert not receiver.on("/idle")

        for creator, (registration, secret) in by_creator.items():
            got = receiver.on(f"/creator/{creator}")
            bodies = [check_delivery(r, secret, api, finished) for r in got]
            assert sorted(b["task_id"] for b in bodies) == sorted(
                i for i, t in finished.items() if t["creator"] == creator
            ), registration
            assert not any(verify_headers(task_secret, r.headers, r.body) for r in got)
        (only,) = receiver.on("/task")
        assert check_delivery(only, task_secret, api, finished)["task_id"] == one_task
        uids = [r.headers[DELIVERY_HEADER] for r in receiver.requests]
        assert len(set(uids)) == len(uids)
        log = store.log()
        assert len(log) == expected
        assert {(d.status, d.attempts, d.response_code) for d in log} == {("delivered", 1, 200)}
        assert {d.uid for d in log} == set(uids)
        assert task_reg.id in {d.registration_id for d in log}

        # A restart resumes from its position: nothing new, nothing twice.
        async with Running(settings(api, store_path), store, from_block=0):
            await asyncio.sleep(QUIET)
        # Even a replay of the whole history (position lost) sends nothing twice.
        store.set_position(Position.before_block(0))
        async with Running(settings(api, store_path), store) as again:
            await asyncio.sleep(QUIET * 2)
        assert len(receiver.requests) == expected
        assert not [r for r in again.log if r["msg"] == "delivery"]
        position = store.position()
        assert position is not None
        assert position > Position.before_block(market.deploy_block)
    finally:
        store.close()


async def test_a_receiver_failing_twice_gets_it_on_the_third_try(
    api: str, receiver: Receiver, store_path: Path
):
    finished = finished_tasks(api)
    task_id = max(finished)
    receiver.answer = lambda _path, n: 500 if n <= 2 else 200
    store = open_store(store_path)
    try:
        registration, secret = register(store, f"{receiver.base}/flaky", task_id=task_id)
        async with Running(settings(api, store_path), store, from_block=0) as running:
            await receiver.wait_for(3)
            await asyncio.sleep(QUIET)
        got = receiver.on("/flaky")
        assert len(got) == 3
        for r in got:
            check_delivery(r, secret, api, finished)
        assert len({r.headers[DELIVERY_HEADER] for r in got}) == 1
        assert len({r.body for r in got}) == 1
        # Backoff: 0.05 s after the first failure, 0.1 s after the second.
        assert got[1].at - got[0].at >= 0.05
        assert got[2].at - got[1].at >= 0.1

        (delivery,) = store.log()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
        assert [a[2] for a in store.attempts(delivery.id)] == [500, 500, 200]
        outcomes = [r["outcome"] for r in running.log if r["msg"] == "delivery"]
        assert outcomes == ["retrying", "retrying", "delivered"]
        assert registration.id == delivery.registration_id
        assert not [line for line in map(json.dumps, running.log) if secret in line]
    finally:
        store.close()


async def test_a_receiver_that_never_answers_well_is_recorded_as_failed(
    api: str, receiver: Receiver, store_path: Path
):
    task_id = min(finished_tasks(api))
    receiver.answer = lambda _path, _n: 503
    store = open_store(store_path)
    try:
        register(store, f"{receiver.base}/down", task_id=task_id)
        async with Running(settings(api, store_path, max_attempts=3), store, from_block=0):
            await receiver.wait_for(3)
            await asyncio.sleep(QUIET)
        assert len(receiver.requests) == 3
        (delivery,) = store.log()
        assert (delivery.status, delivery.attempts, delivery.last_error) == (
            "failed",
            3,
            "HTTP 503",
        )
    finally:
        store.close()


async def test_by_default_only_tasks_finishing_from_now_on_are_announced(
    api: str, market: Market, receiver: Receiver, store_path: Path
):
    """Started at the API's head, the notifier ignores the history, then announces a task
    cancelled on the devnet while it runs (this test changes the chain: it runs last)."""
    open_tasks = get_json(f"{api}/api/v1/tasks?status=open&limit=500")["items"]
    task = open_tasks[0]
    owner = next(
        i for i, (address, _key) in enumerate(market.accounts) if hex(address) == task["creator"]
    )
    store = open_store(store_path)
    try:
        for creator in {t["creator"] for t in finished_tasks(api).values()} | {task["creator"]}:
            register(store, f"{receiver.base}/c/{creator}", creator=creator)
        secret = register(store, f"{receiver.base}/mine", task_id=task["id"])[1]
        async with Running(settings(api, store_path), store):
            await market.send(owner, call(market.escrow, "cancel_task", task["id"]))
            await receiver.wait_for(2)
            await asyncio.sleep(QUIET)
        assert {r.path for r in receiver.requests} == {f"/c/{task['creator']}", "/mine"}
        (mine,) = receiver.on("/mine")
        body = check_delivery(mine, secret, api, finished_tasks(api))
        assert (body["task_id"], body["event"]) == (task["id"], "task.cancelled")
    finally:
        store.close()


async def test_smainer_notify_with_a_config_file_stops_on_sigterm(
    api: str, receiver: Receiver, tmp_path: Path
):
    finished = finished_tasks(api)
    creator = next(iter(finished.values()))["creator"]
    expected = sum(1 for t in finished.values() if t["creator"] == creator)
    secret = os.urandom(16).hex()
    config = tmp_path / "callbacks.toml"
    config.write_text(
        f'[[callback]]\nurl = "{receiver.base}/hook?token=abc"\n'
        f'creator = "{creator}"\nsecret_env = "TEST_HOOK_SECRET"\n'
    )
    store = tmp_path / "store.sqlite3"
    env = {**os.environ, "TEST_HOOK_SECRET": secret, "SMAINER_NOTIFY_BACKOFF": "0.05"}
    command = [sys.executable, "-m", "smainer.cli", "notify", "--api", api, "--store", str(store)]
    process = await asyncio.create_subprocess_exec(
        *command,
        "--config",
        str(config),
        "--from-block",
        "0",
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    await receiver.wait_for(expected)
    await asyncio.sleep(QUIET)
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert len(receiver.requests) == expected
    for r in receiver.requests:
        assert check_delivery(r, secret, api, finished)["creator"] == creator
    lines = [json.loads(line) for line in stderr.decode().splitlines()]
    assert [r["outcome"] for r in lines if r["msg"] == "delivery"] == ["delivered"] * expected
    assert lines[-1]["msg"] == "stopped"
    assert secret not in stderr.decode()
    assert "token=abc" not in stderr.decode()

    listing = await asyncio.create_subprocess_exec(
        *command[:4], "list", "--store", str(store), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await listing.communicate()
    assert "$TEST_HOOK_SECRET" in out.decode()
    assert secret not in out.decode()
    log = await asyncio.create_subprocess_exec(
        *command[:4], "log", "--store", str(store), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await log.communicate()
    assert out.decode().count("delivered") == expected


class CuttingProxy:
    """A TCP proxy to the API that cuts each of its first ``cuts`` connections after ``budget``
    bytes of answer: lost streams and failed requests, as a flaky network gives them."""

    def __init__(self, upstream: str, *, budget: int, cuts: int) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.budget, self.cuts, self.cut = budget, cuts, 0

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _serve(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter):
        api_in, api_out = await asyncio.open_connection(*self.upstream)
        limit = self.budget if self.cut < self.cuts else None
        if limit is not None:
            self.cut += 1

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, cap: int | None):
            sent = 0
            try:
                while chunk := await src.read(512):
                    if cap is not None and sent + len(chunk) > cap:
                        dst.write(chunk[: cap - sent])
                        break
                    dst.write(chunk)
                    sent += len(chunk)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                for w in (client_out, api_out):
                    w.close()

        await asyncio.gather(pipe(client_in, api_out, None), pipe(api_in, client_out, limit))

    async def close(self) -> None:
        self.server.close()


async def test_lost_connections_to_the_api_lose_and_repeat_nothing(
    api: str, receiver: Receiver, store_path: Path
):
    finished = finished_tasks(api)
    proxy = CuttingProxy(api, budget=1500, cuts=4)
    through = await proxy.start()
    store = open_store(store_path)
    try:
        secrets = {
            creator: register(store, f"{receiver.base}/{creator}", creator=creator)[1]
            for creator in {t["creator"] for t in finished.values()}
        }
        notifier_settings = settings(through, store_path)
        async with Running(notifier_settings, store, from_block=0) as running:
            await receiver.wait_for(len(finished))
            await asyncio.sleep(QUIET)
        assert proxy.cut == 4
        assert any(r["msg"] == "stream lost, reconnecting" for r in running.log)
        bodies = [
            check_delivery(r, secrets[r.path.strip("/")], api, finished) for r in receiver.requests
        ]
        assert sorted(b["task_id"] for b in bodies) == sorted(finished)
    finally:
        store.close()
        await proxy.close()
