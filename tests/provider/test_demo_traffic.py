"""The demo traffic on a devnet: every algorithm, and every fate a task can meet.

Accounts (see conftest): 0 deploys and owns the escrow, 1 schedules, 2 is the provider node,
5 the demo's demander, which holds SMN only because ``smainer deploy`` gave it a share.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import signal
import sys
from collections import Counter
from dataclasses import replace

import pytest

from provider.algorithms import REGISTRY
from provider.demand import check_payload, list_tasks
from provider.demo_traffic import (
    FATE_BLOCK,
    SAMPLES,
    UNMEETABLE,
    DemoConfig,
    DemoTraffic,
    Fate,
    fate_plan,
)
from provider.escrow import TaskStatus, decode_shortstring, escrow_call
from provider.journal import Journal
from provider.machine import Capabilities
from provider.scheduler import Scheduler, SchedulerConfig
from provider.worker import ProviderWorker, WorkerConfig
from smainer.network.deploy import DEVNET_ACCOUNT_GRANT
from tests.provider.conftest import Deployed

pytestmark = pytest.mark.slow

DEVNET_ACCOUNTS = 6
DEMANDER = 5
FINAL = {TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.EXPIRED}
FAST = DemoConfig(poll=0.1, retry_after=0.3, cancel_after=1.0)


def test_samples_cover_every_algorithm_pass_its_checks_and_follow_the_seed():
    assert set(SAMPLES) == set(REGISTRY)
    for name, sample in SAMPLES.items():
        drawn = [sample(random.Random(seed)) for seed in range(40)]
        for payload in drawn:
            check_payload(name, payload)  # raises DemandError for a payload providers refuse
        assert len({json.dumps(p) for p in drawn}) > 20, f"{name}: payloads barely vary"
        assert [sample(random.Random(seed)) for seed in range(40)] == drawn
    plan = fate_plan(7, 3 * FATE_BLOCK)
    for start in range(0, len(plan), FATE_BLOCK):
        block = Counter(plan[start : start + FATE_BLOCK])
        assert block == {Fate.COMPLETE: FATE_BLOCK - 2, Fate.EXPIRE: 1, Fate.CANCEL: 1}
    assert fate_plan(8, 3 * FATE_BLOCK) != plan


async def test_a_failed_transaction_is_logged_and_the_loop_goes_on(deployed: Deployed, caplog):
    caplog.set_level(logging.INFO, logger="smainer.provider")
    owner = deployed.sender(0)
    await owner.execute([escrow_call(deployed.market, "pause")])
    try:
        config = replace(FAST, interval=0.1, count=2)
        report = await DemoTraffic(deployed.reader(), deployed.sender(DEMANDER), config).run(
            asyncio.Event()
        )
    finally:
        await owner.execute([escrow_call(deployed.market, "unpause")])
    assert report.errors == 2
    assert not report.fates
    errors = [json.loads(r.getMessage()) for r in caplog.records if "demo.error" in r.getMessage()]
    assert [(e["action"], "reverted" in e["error"]) for e in errors] == [("create", True)] * 2
    assert any("demo.stopped" in r.getMessage() for r in caplog.records)


async def test_every_algorithm_completes_expires_or_is_cancelled(deployed: Deployed, tmp_path):
    """Eight tasks (one block of fates) with a scheduler and a provider running."""
    reader = deployed.reader()
    demander = deployed.sender(DEMANDER)
    funds = await reader.balance_of(demander.address)
    assert funds == DEVNET_ACCOUNT_GRANT, "deploy gives every predeployed account a share"
    worker = ProviderWorker(
        deployed.reader(),
        deployed.sender(2),
        Journal(tmp_path / "journal.json", start_block=0),
        WorkerConfig(Capabilities(2, False, 4, 8), poll_interval=0.1, heartbeat_interval=600),
    )
    scheduler = Scheduler(deployed.reader(), deployed.sender(1), SchedulerConfig(interval=0.2))
    seed = 3
    config = replace(FAST, interval=0.2, count=FATE_BLOCK, seed=seed)
    stop = asyncio.Event()
    running = [asyncio.create_task(worker.run(stop)), asyncio.create_task(scheduler.run(stop))]
    try:
        async with asyncio.timeout(90):
            report = await DemoTraffic(reader, demander, config).run(asyncio.Event())
            while True:  # the demo has cancelled and reclaimed; the provider finishes the rest
                tasks = await list_tasks(reader, demander.address)
                if all(t.status in FINAL for t in tasks):
                    break
                await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*running)

    assert len(tasks) == FATE_BLOCK
    assert report.errors == 0
    assert {decode_shortstring(t.kind) for t in tasks} == set(REGISTRY)
    for task in tasks:  # each task's fate read from what it asked for, its end from the chain
        if task.requirements == UNMEETABLE:
            assert task.status == TaskStatus.CANCELLED, task
        elif task.requirements.max_execution_time == config.expire_time:
            assert task.status == TaskStatus.EXPIRED, task
            assert task.node == deployed.keys[2][0]
        else:
            assert task.status == TaskStatus.COMPLETED, task
    assert Counter(t.status for t in tasks) == {
        TaskStatus.COMPLETED: FATE_BLOCK - 2,
        TaskStatus.CANCELLED: 1,
        TaskStatus.EXPIRED: 1,
    }
    assert [report.fates[t.id] for t in tasks] == fate_plan(seed, FATE_BLOCK)
    ended = {t.id for t in tasks if t.status in (TaskStatus.CANCELLED, TaskStatus.EXPIRED)}
    assert set(report.cancelled) | set(report.reclaimed) == ended
    # Refunds in full: the demander paid exactly for the completed tasks.
    spent = sum(t.amount for t in tasks if t.status == TaskStatus.COMPLETED)
    assert await reader.balance_of(demander.address) == funds - spent


async def test_the_command_runs_until_sigterm(deployed: Deployed):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smainer.cli", "task", "demo", "--network", deployed.url,
        "--manifest", str(deployed.manifest_dir / "devnet.json"),
        "--devnet-account", str(DEMANDER), "--interval", "0.5", "--seed", "11",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while not any('"event":"demo.created"' in line for line in lines):
            line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
            assert line, f"the demo exited early: {lines}"
            lines.append(line.decode())
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, lines
    lines += (rest or b"").decode().splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    created = [e for e in events if e["event"] == "demo.created"]
    assert events[-1]["event"] == "demo.stopped"
    assert events[-1]["created"] == len(created) >= 1
    task = await deployed.reader().get_task(created[0]["task"])
    assert task.creator == deployed.keys[DEMANDER][0]
    assert decode_shortstring(task.kind) == created[0]["algorithm"]
