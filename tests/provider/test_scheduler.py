"""The scheduler on a devnet: spreads tasks over equal nodes, never an ineligible one.

Nodes: 2 and 3 equal (tier 3), 4 below the tasks' tier, 5 registered but silent (no heartbeat).
Then the scheduler and two provider workers (nodes 2 and 4) run side by side until tasks of
every algorithm are computed and paid. Last, the wait between rounds: a new head announced over
the devnet's WebSocket starts a round long before a 600 s interval, and with no WebSocket to be
had the scheduler polls every interval as it always did.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from provider.demand import create_task, task_result
from provider.escrow import Requirements, TaskStatus, escrow_call, shortstring, token_call, u256
from provider.journal import Journal
from provider.machine import Capabilities
from provider.scheduler import Scheduler, SchedulerConfig
from provider.worker import ProviderWorker, WorkerConfig
from smainer.network.heads import HeadWatcher, derive_ws_url
from smainer.payload import encode_json
from tests.devnet.conftest import free_port
from tests.provider.conftest import Deployed

pytestmark = pytest.mark.slow

DEVNET_ACCOUNTS = 6
ONE = 10**18
TIER_2 = Requirements(min_tier=2, cpu_threads=2, ram_gb=4, max_execution_time=3600)
GPU = Requirements(gpu_required=True, max_execution_time=3600)


async def create_many(deployed: Deployed, requirements: list[Requirements]) -> None:
    """Approve once and create several tasks, all in one multicall."""
    market = deployed.market
    payload = encode_json({"algorithm": "monte_carlo_pi", "seed": 1, "samples": 10})
    kind = shortstring("monte_carlo_pi")
    calls = [token_call(market, "approve", [market.escrow, *u256(ONE * len(requirements))])]
    calls += [
        escrow_call(market, "create_task", [kind, len(payload), *payload, *r.felts(), *u256(ONE)])
        for r in requirements
    ]
    await deployed.sender(0).execute(calls)


NODES = {2: [3, 0, 8, 16], 3: [3, 0, 8, 16], 4: [1, 0, 8, 16], 5: [5, 1, 64, 256]}


async def register_nodes(deployed: Deployed) -> None:
    for index, capabilities in NODES.items():
        calls = [escrow_call(deployed.market, "register_node", capabilities)]
        if index != 5:
            calls.append(escrow_call(deployed.market, "heartbeat"))
        await deployed.sender(index).execute(calls)


async def test_spreads_over_equal_nodes_and_skips_ineligible_ones(deployed: Deployed, caplog):
    caplog.set_level(logging.INFO, logger="smainer.provider")
    market = deployed.market
    await register_nodes(deployed)
    address = {deployed.keys[i][0]: i for i in NODES}

    await create_many(deployed, [TIER_2] * 4 + [GPU])
    reader = deployed.reader()
    scheduler = Scheduler(reader, deployed.sender(1), SchedulerConfig(max_silence=900))
    assigned = await scheduler.round()
    assert [task for task, _ in assigned] == [1, 2, 3, 4]
    assert Counter(address[node] for _, node in assigned) == {2: 2, 3: 2}
    assert (await reader.get_task(5)).status == TaskStatus.OPEN  # nobody has a GPU

    block = await reader.latest_block()
    assert await scheduler.round() == []
    assert await reader.latest_block() == block
    reports = [r for r in caplog.records if '"task.unassignable","task":5' in r.getMessage()]
    assert len(reports) == 1

    # The owner suspends node 3: new tasks go to node 2 alone, loaded or not.
    await deployed.sender(0).execute([escrow_call(market, "suspend_node", [deployed.keys[3][0]])])
    await create_many(deployed, [TIER_2] * 2)
    assigned = await scheduler.round()
    assert [(task, address[node]) for task, node in assigned] == [(6, 2), (7, 2)]
    for task_id, node in assigned:
        task = await reader.get_task(task_id)
        assert (task.status, task.node) == (TaskStatus.ASSIGNED, node)


async def test_scheduler_and_two_providers_compute_and_get_paid(deployed: Deployed):
    """The new user's session in one process: the scheduler and two provider workers running
    side by side, tasks of every algorithm created with the demander's function."""
    reader = deployed.reader()
    caps = {2: Capabilities(3, False, 8, 16), 4: Capabilities(1, False, 8, 16)}
    workers = {
        index: ProviderWorker(
            deployed.reader(),
            deployed.sender(index),
            Journal(Path(tempfile.mkdtemp()) / "journal.json", start_block=0),
            WorkerConfig(capabilities=c, poll_interval=0.1, heartbeat_interval=600),
        )
        for index, c in caps.items()
    }
    if await reader.get_task_count() == 0:  # run alone: the nodes as the first test leaves them
        await register_nodes(deployed)
        suspend = escrow_call(deployed.market, "suspend_node", [deployed.keys[3][0]])
        await deployed.sender(0).execute([suspend])
    await workers[2].poll_once()  # node 2 finishes what the first test gave it: equal loads

    demander = deployed.sender(0)
    tier_1 = Requirements(min_tier=1, max_execution_time=3600)
    payloads = [
        ("matrix_multiplication", {"matrix_a": [[1, 2], [3, 4]], "matrix_b": [[5], [6]]}),
        ("monte_carlo_pi", {"seed": 9, "samples": 5000}),
        ("mlp_forward", {"inputs": [[1.0]], "layers": [{"weights": [[2.0]], "bias": [1.0]}]}),
        ("matrix_multiplication", {"matrix_a": [[0.5]], "matrix_b": [[4.0]]}),
    ]
    ids = [
        (await create_task(reader, demander, name, payload, ONE, tier_1)).task_id
        for name, payload in payloads
    ]
    balances = {i: await reader.balance_of(deployed.keys[i][0]) for i in caps}

    stop = asyncio.Event()
    scheduler = Scheduler(reader, deployed.sender(1), SchedulerConfig(interval=0.1))
    running = [asyncio.create_task(scheduler.run(stop))]
    running += [asyncio.create_task(w.run(stop)) for w in workers.values()]
    try:
        async with asyncio.timeout(60):
            while True:
                tasks = [await reader.get_task(t) for t in ids]
                if all(t.status == TaskStatus.COMPLETED for t in tasks):
                    break
                await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*running)

    address = {deployed.keys[i][0]: i for i in (2, 3, 4, 5)}
    by_node = Counter(address[t.node] for t in tasks)
    assert by_node == {2: 2, 4: 2}  # equal loads, rotation: never the suspended or silent node
    # 93 % of each task to its node; account 4 is also the gas recipient: 2 % of every task.
    for index in caps:
        earned = await reader.balance_of(deployed.keys[index][0]) - balances[index]
        fees = len(ids) * ONE * 200 // 10_000 if index == 4 else 0
        assert earned == by_node[index] * (ONE - ONE * 700 // 10_000) + fees
    assert (await task_result(reader, ids[0]))["product"] == [[17], [39]]
    assert (await task_result(reader, ids[2]))["outputs"] == [[3.0]]
    assert (await task_result(reader, ids[3]))["product"] == [[2.0]]


TIER_1 = Requirements(min_tier=1, max_execution_time=3600)
PI = {"seed": 3, "samples": 100}


async def assigned_after_first_round(
    deployed: Deployed, scheduler: Scheduler, stop: asyncio.Event
) -> float:
    """Run ``scheduler`` until its first round has learned the chain as it is, then create a
    task: the seconds until the task is Assigned (which only a later round can do)."""
    reader = deployed.reader()
    if await reader.get_task_count() == 0:  # run alone: nodes to assign to
        await register_nodes(deployed)
    head = await reader.latest_block()
    running = asyncio.create_task(scheduler.run(stop))
    try:
        async with asyncio.timeout(30):
            while scheduler.scanned_block < head:
                await asyncio.sleep(0.02)
        started = time.monotonic()
        created = await create_task(reader, deployed.sender(0), "monte_carlo_pi", PI, ONE, TIER_1)
        async with asyncio.timeout(30):
            while (await reader.get_task(created.task_id)).status != TaskStatus.ASSIGNED:
                await asyncio.sleep(0.05)
        return time.monotonic() - started
    finally:
        stop.set()
        async with asyncio.timeout(5):  # the stop event ends any wait, even a 600 s one
            await running


async def test_a_new_head_starts_a_round_long_before_the_interval(deployed: Deployed):
    lines: list[str] = []
    heads = HeadWatcher(derive_ws_url(deployed.url), log=lines.append)
    scheduler = Scheduler(
        deployed.reader(), deployed.sender(1), SchedulerConfig(interval=600), heads=heads
    )
    heads.start()
    try:
        async with asyncio.timeout(30):
            while not heads.connected:
                await asyncio.sleep(0.02)
        waited = await assigned_after_first_round(deployed, scheduler, asyncio.Event())
    finally:
        await heads.close()
    print(f"created -> assigned in {waited:.2f} s (interval 600 s)")
    assert waited < 30
    assert heads.notifications >= 1
    assert lines == []


async def test_without_a_websocket_it_polls_every_interval(deployed: Deployed):
    lines: list[str] = []
    heads = HeadWatcher(f"ws://127.0.0.1:{free_port()}/ws", log=lines.append)
    scheduler = Scheduler(
        deployed.reader(), deployed.sender(1), SchedulerConfig(interval=0.5), heads=heads
    )
    try:
        waited = await assigned_after_first_round(deployed, scheduler, asyncio.Event())
    finally:
        await heads.close()
    print(f"created -> assigned in {waited:.2f} s (interval 0.5 s, no WebSocket)")
    assert waited < 30
    assert heads.notifications == 0
    assert len(lines) == 1, lines
    assert lines[0].endswith("following the head by polling")
