"""The scheduler on a devnet: spreads tasks over equal nodes, never an ineligible one.

Nodes: 2 and 3 equal (tier 3), 4 below the tasks' tier, 5 registered but silent (no heartbeat).
"""

from __future__ import annotations

import logging
from collections import Counter

import pytest

from provider.escrow import Requirements, TaskStatus, escrow_call, shortstring, token_call, u256
from provider.scheduler import Scheduler, SchedulerConfig
from smainer.payload import encode_json
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


async def test_spreads_over_equal_nodes_and_skips_ineligible_ones(deployed: Deployed, caplog):
    caplog.set_level(logging.INFO, logger="smainer.provider")
    market = deployed.market
    nodes = {2: [3, 0, 8, 16], 3: [3, 0, 8, 16], 4: [1, 0, 8, 16], 5: [5, 1, 64, 256]}
    for index, capabilities in nodes.items():
        calls = [escrow_call(market, "register_node", capabilities)]
        if index != 5:
            calls.append(escrow_call(market, "heartbeat"))
        await deployed.sender(index).execute(calls)
    address = {deployed.keys[i][0]: i for i in nodes}

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
