"""The provider worker end to end on a devnet this module starts (~28 transactions in all).

The test plays the scheduler (account 1 holds the role); the worker (account 2) registers,
computes and claims. Five tasks assigned in one multicall: three claimed and paid, one with a
tampered payload and one of an unknown algorithm left alone, the latter reclaimed once expired.
Then two in-process crashes mid-claim, the commands end to end, and the worker as a process:
SIGKILLed mid-computation, restarted, one claim, stopped by SIGTERM.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import signal
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from provider.demand import DemandError, create_task, parse_amount, reclaim_task, task_result
from provider.errors import TransactionFailedError
from provider.escrow import (
    NodeStatus,
    Requirements,
    TaskStatus,
    escrow_call,
    shortstring,
    token_call,
    u256,
)
from provider.journal import Journal
from provider.machine import Capabilities
from provider.transactions import Sender
from provider.worker import ProviderWorker, WorkerConfig
from smainer.cli import main
from smainer.payload import encode_json
from tests.provider.conftest import Deployed

pytestmark = pytest.mark.slow

ONE = 10**18
CAPS = Capabilities(tier=2, gpu=False, cpu_threads=4, ram_gb=8)
EASY = Requirements(min_tier=1, cpu_threads=2, ram_gb=4, max_execution_time=3600)
MINUTE = dataclasses.replace(EASY, max_execution_time=60)
MATMUL = {"matrix_a": [[1, 2], [3, 4]], "matrix_b": [[5, 6], [7, 8]]}


def worker(deployed: Deployed, journal: Path, sender: Sender | None = None) -> ProviderWorker:
    reader = deployed.reader()
    return ProviderWorker(
        reader,
        sender or deployed.sender(2),
        Journal(journal, start_block=reader.market.from_block),
        WorkerConfig(capabilities=CAPS),
    )


async def create_raw(
    deployed: Deployed, payloads: list[dict], amount: int, requirements: Requirements = EASY
) -> None:
    """Tasks created by hand, one approve and all creations in one multicall: also tasks the
    demander CLI would refuse (an unknown algorithm)."""
    market = deployed.market
    calls = [token_call(market, "approve", [market.escrow, *u256(amount * len(payloads))])]
    for payload in payloads:
        felts = encode_json(payload)
        kind = shortstring(payload["algorithm"])
        calldata = [kind, len(felts), *felts, *requirements.felts(), *u256(amount)]
        calls.append(escrow_call(market, "create_task", calldata))
    await deployed.sender(0).execute(calls)


async def test_tasks_are_computed_claimed_and_paid(deployed: Deployed, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="smainer.provider")
    reader = deployed.reader()
    demander, scheduler = deployed.sender(0), deployed.sender(1)
    node = deployed.keys[2][0]
    provider = worker(deployed, tmp_path / "journal.json")

    await provider.ensure_registered()
    registered = await reader.get_node(node)
    assert registered.status == NodeStatus.ACTIVE
    assert (registered.tier, registered.cpu_threads, registered.ram_gb) == (2, 4, 8)
    block = await reader.latest_block()
    await provider.ensure_registered()  # already registered as wanted: sends nothing
    assert await reader.latest_block() == block

    # Refused before any money moves: too big for 256 felts, and an unknown algorithm.
    big = {"matrix_a": [[1] * 70] * 70, "matrix_b": [[1] * 70] * 70}
    with pytest.raises(DemandError, match="at most 7905 bytes"):
        await create_task(reader, demander, "matrix_multiplication", big, ONE, EASY)
    with pytest.raises(DemandError, match="unknown algorithm"):
        await create_task(reader, demander, "sorting", {}, ONE, EASY)
    more = await reader.balance_of(demander.address) + 1
    with pytest.raises(DemandError, match=f"less than the {more} this task escrows"):
        await create_task(reader, demander, "matrix_multiplication", MATMUL, more, EASY)
    assert await reader.latest_block() == block

    amount = parse_amount("25", 18)
    mlp = {
        "inputs": [[1.0, 2.0]],
        "layers": [{"weights": [[1.0, 0.0], [0.0, 1.0]], "bias": [0.0, -5.0]},
                   {"weights": [[1.0], [1.0]], "bias": [0.5]}],
    }  # fmt: skip
    matmul = await create_task(reader, demander, "matrix_multiplication", MATMUL, amount, EASY)
    pi = {"seed": 7, "samples": 100_000}
    monte = await create_task(reader, demander, "monte_carlo_pi", pi, amount, EASY)
    net = await create_task(reader, demander, "mlp_forward", mlp, parse_amount("0.5", 18), EASY)
    tampered = await create_task(reader, demander, "matrix_multiplication", MATMUL, ONE, MINUTE)
    await create_raw(deployed, [{"algorithm": "sorting", "data": [3, 1, 2]}], ONE, MINUTE)
    unknown = await reader.get_task_count()
    ids = [matmul.task_id, monte.task_id, net.task_id, tampered.task_id, unknown]
    assert ids == list(range(ids[0], ids[0] + 5))

    # The test is the scheduler: all five to our node in one multicall.
    await scheduler.execute([escrow_call(deployed.market, "assign_task", [t, node]) for t in ids])

    before = {i: await reader.balance_of(deployed.keys[i][0]) for i in (0, 2, 3, 4)}
    real_payload = provider.reader.task_payload

    async def tamper(task_id: int) -> list[int]:
        felts = await real_payload(task_id)
        if task_id == tampered.task_id:
            forged = {"algorithm": "matrix_multiplication", **MATMUL, "matrix_b": [[0, 0], [0, 0]]}
            return encode_json(forged)
        return felts

    provider.reader.task_payload = tamper  # type: ignore[method-assign]
    handled = await provider.poll_once()
    assert sorted(handled) == ids

    states = {t: provider.journal.state(t) for t in ids}
    assert states == {
        matmul.task_id: "claimed",
        monte.task_id: "claimed",
        net.task_id: "claimed",
        tampered.task_id: "rejected",
        unknown: "rejected",
    }
    assert await task_result(reader, matmul.task_id) == {
        "algorithm": "matrix_multiplication",
        "dtype": "int",
        "shape": [2, 2],
        "product": [[19, 22], [43, 50]],
    }
    assert (await task_result(reader, monte.task_id))["samples"] == 100_000
    assert (await task_result(reader, net.task_id))["outputs"] == [[1.5]]
    for task_id in (tampered.task_id, unknown):
        assert (await reader.get_task(task_id)).status == TaskStatus.ASSIGNED

    # The payout split, in balances: 93 % to the node, 5 % treasury, 2 % gas recipient.
    paid = 2 * amount + parse_amount("0.5", 18)
    after = {i: await reader.balance_of(deployed.keys[i][0]) for i in (0, 2, 3, 4)}
    assert after[0] == before[0]
    gas = sum(a * 200 // 10_000 for a in (amount, amount, paid - 2 * amount))
    treasury = sum(a * 500 // 10_000 for a in (amount, amount, paid - 2 * amount))
    assert after[4] - before[4] == gas
    assert after[3] - before[3] == treasury
    assert after[2] - before[2] == paid - gas - treasury
    assert (await reader.get_node(node)).completed_tasks == 3

    # Polling again sends nothing: every task is settled or refused once.
    block = await reader.latest_block()
    assert await provider.poll_once() == []
    assert await reader.latest_block() == block
    rejected = [r for r in caplog.records if '"task.rejected"' in r.getMessage()]
    assert len(rejected) == 2

    # The unknown-algorithm task expires (and the tampered one); anyone may reclaim it, the
    # creator is refunded.
    await deployed.rpc("devnet_increaseTime", {"time": 61})
    balance = await reader.balance_of(deployed.keys[0][0])
    await reclaim_task(reader, demander, unknown)
    assert (await reader.get_task(unknown)).status == TaskStatus.EXPIRED
    assert await reader.balance_of(deployed.keys[0][0]) == balance + ONE
    assert (await reader.get_node(node)).failed_tasks == 1
    assert await provider.poll_once() == []  # rejected is final: nothing more for either


class Crash(BaseException):
    """Stands for the process dying at a chosen point (nothing in the worker catches it)."""


class CrashingSender(Sender):
    """Dies after journaling the claim of ``unsent`` (never sent) and after sending any other
    claim (before its receipt)."""

    unsent = 0

    async def send(self, calls, *, before_send=None, nonce=None):
        if calls[0].calldata[0] == self.unsent:
            assert before_send is not None
            before_send(0x5EED, await self.chain_nonce())  # signed, journaled, then the crash
            raise Crash
        return await super().send(calls, before_send=before_send, nonce=nonce)

    async def wait(self, tx_hash):
        raise Crash


async def test_a_crash_mid_claim_ends_in_exactly_one_claim(deployed: Deployed, tmp_path):
    reader = deployed.reader()
    scheduler = deployed.sender(1)
    node = deployed.keys[2][0]
    journal = tmp_path / "journal.json"
    await worker(deployed, tmp_path / "other.json").ensure_registered()  # if run alone
    Journal(journal).set_scanned_block(await reader.latest_block())
    pi = {"seed": 1, "samples": 9}
    matmul = {"algorithm": "matrix_multiplication", **MATMUL}
    await create_raw(deployed, [{"algorithm": "monte_carlo_pi", **pi}, matmul], ONE)
    last = await reader.get_task_count()
    sent, unsent = SimpleNamespace(task_id=last - 1), SimpleNamespace(task_id=last)
    market = deployed.market
    await scheduler.execute(
        [escrow_call(market, "assign_task", [t.task_id, node]) for t in (sent, unsent)]
    )

    crashing = deployed.sender(2)
    crashing.__class__ = CrashingSender
    assert isinstance(crashing, CrashingSender)
    crashing.unsent = unsent.task_id
    doomed = worker(deployed, journal, crashing)
    nonce = await crashing.chain_nonce()
    for task_id in (sent.task_id, unsent.task_id):  # one at a time: each dies on its own
        with pytest.raises(Crash):
            await doomed.handle(task_id)
        assert doomed.journal.state(task_id) == "claiming"
    assert await crashing.chain_nonce() == nonce + 1  # only `sent` went out
    assert (await reader.get_task(sent.task_id)).status == TaskStatus.COMPLETED

    restarted = worker(deployed, journal)
    assert sorted(await restarted.poll_once()) == [sent.task_id, unsent.task_id]
    for task_id in (sent.task_id, unsent.task_id):
        assert restarted.journal.state(task_id) == "claimed"
        assert (await reader.get_task(task_id)).status == TaskStatus.COMPLETED
    # One more transaction in all: the unsent claim, re-signed with its journaled nonce.
    assert await restarted.sender.chain_nonce() == nonce + 2
    assert (restarted.journal.get(unsent.task_id) or {})["nonce"] == nonce + 1
    completed = await reader.events(
        "TaskCompleted", [[sent.task_id]], 0, await reader.latest_block()
    )
    assert len(completed) == 1

    # A second claim would revert, and the worker reads why (it never sends one itself).
    again = escrow_call(market, "submit_proof_and_claim", [sent.task_id, 0, 0])
    with pytest.raises(TransactionFailedError) as failed:
        await restarted.sender.execute([again])
    assert failed.value.reason == "TASK_NOT_ASSIGNED"


def test_the_commands_create_run_and_read_a_task(deployed: Deployed, tmp_path, capsys):
    manifest = str(deployed.manifest_dir / "devnet.json")
    market = ["--network", deployed.url, "--manifest", manifest]
    payload = tmp_path / "pi.json"
    payload.write_text(json.dumps({"seed": 3, "samples": 1000}))
    create = ["task", "create", *market, "--algorithm", "monte_carlo_pi", "--amount", "1.5"]
    assert main([*create, "--payload", str(payload), "--cpu-threads", "2"]) == 0
    task_id = int(capsys.readouterr().out.strip())

    assert main(["task", "status", *market, str(task_id)]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["status"], status["kind"], status["amount"]) == (
        "open",
        "monte_carlo_pi",
        str(15 * 10**17),
    )

    run = ["provider", *market, "--devnet-account", "2", "--journal", str(tmp_path / "j.json")]
    caps = ["--tier", "2", "--no-gpu", "--cpu-threads", "4", "--ram-gb", "8"]
    assert main([*run, *caps, "--once"]) == 0  # registers the node if this test runs alone
    node = deployed.keys[2][0]
    assign = escrow_call(deployed.market, "assign_task", [task_id, node])
    asyncio.run(deployed.sender(1).execute([assign]))
    assert main([*run, *caps, "--once"]) == 0
    assert f'"event":"task.claimed","task":{task_id}' in capsys.readouterr().err

    assert main(["task", "result", *market, str(task_id)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["algorithm"], result["seed"], result["samples"]) == ("monte_carlo_pi", 3, 1000)
    assert main(["task", "list", *market, "--mine"]) == 0
    mine = json.loads(capsys.readouterr().out)
    assert mine[-1]["id"] == task_id
    assert mine[-1]["status"] == "completed"
    assert {t["creator"] for t in mine} == {hex(deployed.keys[0][0])}
    assert main(["task", "status", *market, "99999"]) == 1
    assert "TASK_NOT_FOUND" in capsys.readouterr().err


async def start_worker(deployed: Deployed, journal: Path) -> asyncio.subprocess.Process:
    """``smainer provider`` as its own process, node = predeployed account 2."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smainer.cli", "provider", "--network", deployed.url,
        "--manifest", str(deployed.manifest_dir / "devnet.json"), "--devnet-account", "2",
        "--journal", str(journal), "--tier", "2", "--no-gpu", "--cpu-threads", "4",
        "--ram-gb", "8", "--poll-interval", "0.2", "--heartbeat-interval", "600",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def read_until(process: asyncio.subprocess.Process, needle: str, lines: list[str]) -> None:
    assert process.stderr is not None
    while not any(needle in line for line in lines):
        line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
        assert line, f"the worker exited early: {lines}"
        lines.append(line.decode())


async def test_sigkill_mid_task_then_restart_claims_once_and_sigterm_stops(
    deployed: Deployed, tmp_path
):
    reader = deployed.reader()
    node = deployed.keys[2][0]
    journal = tmp_path / "journal.json"
    Journal(journal).set_scanned_block(await reader.latest_block())  # earlier tasks are done
    await worker(deployed, tmp_path / "other.json").ensure_registered()  # if run alone
    long = {"seed": 5, "samples": 1 << 26}  # a couple of seconds of compute here
    created = await create_task(reader, deployed.sender(0), "monte_carlo_pi", long, ONE, EASY)
    await deployed.sender(1).execute(
        [escrow_call(deployed.market, "assign_task", [created.task_id, node])]
    )
    nonce = await deployed.sender(2).chain_nonce()

    killed = await start_worker(deployed, journal)
    try:
        await read_until(killed, '"event":"task.computing"', [])
        killed.kill()  # SIGKILL mid-computation: no chance to clean up
        await killed.wait()
    finally:
        if killed.returncode is None:
            killed.kill()
    assert (await reader.get_task(created.task_id)).status == TaskStatus.ASSIGNED

    restarted = await start_worker(deployed, journal)
    lines: list[str] = []
    try:
        await read_until(restarted, f'"event":"task.claimed","task":{created.task_id}', lines)
        restarted.send_signal(signal.SIGTERM)
        assert restarted.stderr is not None
        rest = await asyncio.wait_for(restarted.stderr.read(), timeout=30)
        assert await restarted.wait() == 0
    finally:
        if restarted.returncode is None:
            restarted.kill()
    assert '"event":"worker.stopped"' in rest.decode()
    assert (await reader.get_task(created.task_id)).status == TaskStatus.COMPLETED
    # Two heartbeats (one per start) and exactly one claim.
    assert await deployed.sender(2).chain_nonce() == nonce + 3
    assert sum('"task.claim_sent"' in line for line in lines) == 1
    assert (await reader.get_node(node)).last_heartbeat > 0


async def test_concurrent_sends_pipeline_nonces_and_a_stale_counter_resyncs(deployed: Deployed):
    """Claims from one account go out concurrently with consecutive nonces; when another client
    used the account meanwhile, the refused nonce is re-read (``pre_confirmed``) and re-signed."""
    await worker(deployed, Path(tempfile.mkdtemp()) / "j.json").ensure_registered()  # if alone
    ours, other = deployed.sender(2), deployed.sender(2)  # one account, two clients
    start = await ours.chain_nonce()
    beat = [escrow_call(deployed.market, "heartbeat")]
    sent = await asyncio.gather(*(ours.send(beat) for _ in range(3)))
    assert sorted(s.nonce for s in sent) == [start, start + 1, start + 2]
    for s in sent:
        await ours.wait(s.tx_hash)
    assert await ours.chain_nonce() == start + 3

    await other.execute(beat * 2)  # another transaction: ours still counts start + 3, stale
    again = await ours.send(beat)
    assert again.nonce == start + 4
    await ours.wait(again.tx_hash)
    assert await ours.chain_nonce() == start + 5
