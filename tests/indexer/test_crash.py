"""Crash safety: the indexer SIGKILLed at many random points of a backfill, restarted each time,
ends with the database of one uninterrupted run, every table compared.

The indexer runs as a real process (``tests/indexer/crash_runner.py``) on its own devnet with a
few hundred blocks: a few protocol transactions, Token multicalls for plentiful events, and many
empty blocks (``devnet_createBlock`` is cheap). Each kill lands after the process has started
indexing, at a seeded random delay scaled to how long the rest of an uninterrupted backfill
would take, so the kills fall all along it: between batches, inside a transaction, during a
checkpoint.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smainer.config import DevnetSettings
from tests.devnet.conftest import RunningServer, serve_real_devnet, start_in_thread
from tests.indexer.conftest import deploy, dump
from tests.indexer.market import ONE, Market, call, create_task, devnet_call, u256

pytestmark = pytest.mark.slow

KILLS = 20
SEED = 20_261_202
ROOT = Path(__file__).resolve().parents[2]
WATCHDOG = 60.0
STARTED = re.compile(r"indexing .* from block (\d+)")


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    """A devnet of its own, ~300 blocks long: other tests' chain stays short."""
    server: RunningServer = start_in_thread(
        serve_real_devnet(DevnetSettings(port=0, seed=5, accounts=5))
    )

    async def build() -> Market:
        m = await deploy(server.url, tmp_path_factory.mktemp("crash-deployments"))
        e, t = m.escrow, m.token
        users = [a for a, _ in m.accounts[1:5]]
        await m.send(0, call(t, "transfer", users[0], *u256(10 * ONE)))
        await m.send(3, call(e, "register_node", 2, 1, 8, 32))
        await m.send(1, call(t, "approve", e, *u256(ONE)), create_task(e, 1234))
        for round_ in range(10):
            transfers = [
                call(t, "transfer", users[i % 4], *u256(round_ * 100 + i)) for i in range(12)
            ]
            await m.send(0, *transfers)
            for _ in range(25):
                await devnet_call(m.base_url, "devnet_createBlock")
            if round_ == 5:
                await m.send(0, call(e, "assign_task", 1, users[2]))
        await m.send(1, create_task(e, 4321))
        return m

    market = asyncio.run(build())
    yield market
    server.stop()


def start(market: Market, db: Path, until: int) -> subprocess.Popen[str]:
    """The indexer as a process, killed by a watchdog if it is still running after a minute (a
    hung run fails the test instead of hanging it)."""
    args = [
        market.rpc_url, hex(market.escrow), hex(market.token), str(market.deploy_block),
        str(until), str(db), "2",
    ]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.indexer.crash_runner", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    watchdog = threading.Timer(WATCHDOG, process.kill)
    watchdog.daemon = True
    watchdog.start()
    return process


def started_from(process: subprocess.Popen[str]) -> int:
    """Read the process's output up to its "indexing ... from block N" line; return N."""
    assert process.stdout is not None
    for line in process.stdout:
        if found := STARTED.search(line):
            return int(found.group(1))
    raise AssertionError(f"the indexer exited ({process.wait()}) before indexing")


def finish(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    rest = process.stdout.read()
    assert process.wait(timeout=60) == 0, rest


def test_sigkill_at_random_points_then_restart_equals_an_uninterrupted_run(
    chain: Market, tmp_path: Path
):
    until = asyncio.run(chain.head())
    assert until - chain.deploy_block >= 250

    whole = tmp_path / "whole.duckdb"
    process = start(chain, whole, until)
    started_from(process)
    began = time.monotonic()
    finish(process)
    backfill = time.monotonic() - began

    rng = random.Random(SEED)
    killed = tmp_path / "killed.duckdb"
    resumed_at: list[int] = []
    kills = 0
    stuck = 0
    # At least KILLS kills, at 10 or more distinct points; a loaded machine may need more tries.
    while (kills < KILLS or len(set(resumed_at)) < KILLS // 2) and kills < 3 * KILLS:
        process = start(chain, killed, until)
        resumed_at.append(started_from(process))
        # Killed again before its first commit (a slow start on a busy machine): wait longer.
        stuck = stuck + 1 if resumed_at[-2:-1] == resumed_at[-1:] else 0
        # A share of what is left of the backfill, so the kills spread over all of it.
        left = (until - resumed_at[-1] + 1) / (until - chain.deploy_block + 1)
        window = backfill * left / (max(KILLS - kills, 1) + 1) * 2 ** min(stuck, 4)
        time.sleep(rng.uniform(0, window))
        if process.poll() is not None:
            break  # it finished first: too few kills, reported below
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        kills += 1
    assert kills >= KILLS, f"the backfill ended after {kills} kills ({backfill:.2f} s long)"
    process = start(chain, killed, until)
    resumed_at.append(started_from(process))
    finish(process)

    # The kills fell all along the backfill: the restarts resumed from many different blocks.
    print(f"backfill {backfill:.2f} s; {kills} kills; resumed at {resumed_at}")
    assert len(set(resumed_at)) >= KILLS // 2, resumed_at
    assert resumed_at == sorted(resumed_at)
    expected = dump(whole)
    for table in ("raw_events", "ev_transfer", "ev_task_created", "ev_task_assigned"):
        assert expected[table], f"the history has no {table}"
    actual = dump(killed)
    assert actual.keys() == expected.keys()
    for table in expected:
        assert actual[table] == expected[table], f"table {table} differs"
