"""The worker's claim logic against a fake chain: pending claims, restarts, deadlines.

The devnet tests cover the real thing; these cover the branches a devnet cannot easily produce
(a transaction still pending, one the node never heard of, a deadline passed mid-compute).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from provider.errors import TransactionPendingError
from provider.escrow import Requirements, Task, TaskStatus
from provider.feasibility import Budget
from provider.journal import Journal
from provider.machine import Capabilities
from provider.transactions import Sent
from provider.worker import ProviderWorker, WorkerConfig
from smainer.payload import encode_json, payload_hash

NODE = 0xB0D
PAYLOAD = encode_json({"algorithm": "monte_carlo_pi", "seed": 1, "samples": 10})


def task(
    status: TaskStatus = TaskStatus.ASSIGNED, deadline: int = 1000, payload: list[int] = PAYLOAD
) -> Task:
    return Task(
        id=1, creator=0xC, kind=0, payload_hash=payload_hash(payload),
        requirements=Requirements(max_execution_time=deadline - 2), amount=10,
        fees=(9300, 200, 500), status=status, node=NODE,
        created_at=1, assigned_at=2, deadline=deadline, completed_at=0, result_hash=0,
    )  # fmt: skip


@dataclass
class FakeReader:
    task: Task
    now: int = 100
    market: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(escrow=0xE5C))
    payload: list[int] = field(default_factory=lambda: PAYLOAD)

    async def get_task(self, task_id: int) -> Task:
        return self.task

    async def chain_time(self) -> int:
        return self.now

    async def task_payload(self, task_id: int) -> list[int]:
        return self.payload


@dataclass
class FakeSender:
    address: int = NODE
    nonce: int = 7
    sent: list[tuple[int, int]] = field(default_factory=list)
    """(hash, nonce) of every transaction sent."""
    known: dict[int, str] = field(default_factory=dict)
    pending: bool = False

    async def chain_nonce(self) -> int:
        return self.nonce

    async def send(self, calls, *, before_send=None, nonce=None) -> Sent:
        use = self.nonce if nonce is None else nonce
        tx_hash = 0x1000 + len(self.sent)
        if before_send:
            before_send(tx_hash, use)
        self.sent.append((tx_hash, use))
        self.known[tx_hash] = "RECEIVED"
        return Sent(tx_hash, use)

    async def wait(self, tx_hash: int) -> SimpleNamespace:
        if self.pending:
            raise TransactionPendingError("still pending")
        self.known[tx_hash] = "ACCEPTED_ON_L2"
        self.nonce += 1
        return SimpleNamespace(block_number=5)

    async def status(self, tx_hash: int) -> str | None:
        return self.known.get(tx_hash)


def make(tmp_path, reader: FakeReader, sender: FakeSender, **config) -> ProviderWorker:
    journal = Journal(tmp_path / "journal.json")
    caps = Capabilities(1, False, 1, 1)
    return ProviderWorker(reader, sender, journal, WorkerConfig(capabilities=caps, **config))  # type: ignore[arg-type]


async def test_a_pending_claim_is_awaited_not_sent_again(tmp_path):
    reader, sender = FakeReader(task()), FakeSender(pending=True)
    worker = make(tmp_path, reader, sender)
    await worker.handle(1)
    assert worker.journal.state(1) == "claiming"
    assert len(sender.sent) == 1
    sender.pending = False
    await worker.handle(1)  # the next poll: the same transaction, awaited
    assert worker.journal.state(1) == "claimed"
    assert len(sender.sent) == 1


async def test_an_unknown_claim_is_resigned_with_its_own_nonce(tmp_path):
    reader, sender = FakeReader(task()), FakeSender()
    worker = make(tmp_path, reader, sender)
    worker.journal.record(1, "claiming", tx_hash="0x5eed", nonce=7, result=[1, 2])
    await worker.handle(1)
    assert sender.sent == [(0x1000, 7)]
    assert worker.journal.state(1) == "claimed"


async def test_an_unknown_claim_whose_nonce_moved_on_is_sent_anew(tmp_path):
    reader, sender = FakeReader(task()), FakeSender(nonce=9)
    worker = make(tmp_path, reader, sender)
    worker.journal.record(1, "claiming", tx_hash="0x5eed", nonce=7, result=[1, 2])
    await worker.handle(1)
    assert sender.sent == [(0x1000, 9)]


async def test_a_completed_task_is_recorded_without_a_claim(tmp_path):
    reader, sender = FakeReader(task(TaskStatus.COMPLETED)), FakeSender()
    worker = make(tmp_path, reader, sender)
    worker.journal.record(1, "claiming", tx_hash="0x5eed", nonce=7, result=[1, 2])
    await worker.handle(1)
    assert sender.sent == []
    assert worker.journal.state(1) == "claimed"


async def test_past_the_deadline_nothing_is_sent(tmp_path):
    reader, sender = FakeReader(task(deadline=50)), FakeSender()
    worker = make(tmp_path, reader, sender)
    await worker.handle(1)
    assert sender.sent == []
    assert worker.journal.state(1) == "lost"


async def test_a_payload_not_matching_its_hash_is_rejected_once(tmp_path, caplog):
    forged = task()
    reader, sender = FakeReader(Task(**{**vars(forged), "payload_hash": 123})), FakeSender()
    worker = make(tmp_path, reader, sender)
    await worker.handle(1)
    assert worker.journal.state(1) == "rejected"
    assert worker.journal.unfinished() == []
    assert sender.sent == []


BIG_PI = encode_json({"algorithm": "monte_carlo_pi", "seed": 1, "samples": 1 << 32})
"""2^32 points: ~275 s at the nominal CPU rate."""


@pytest.mark.parametrize(
    ("deadline", "budget", "match"),
    [
        (3700, Budget(memory_bytes=1 << 20), "needs ~64.0 MiB"),
        (200, Budget(), "exceeds the task's max_execution_time"),
        (380, Budget(), "cannot finish before the deadline"),  # 280 s left, 278 + 15 needed
    ],
)
async def test_a_job_the_node_cannot_finish_is_refused_once(
    tmp_path, caplog, deadline, budget, match
):
    caplog.set_level(logging.INFO, logger="smainer.provider")
    reader = FakeReader(task(deadline=deadline, payload=BIG_PI), payload=BIG_PI)
    sender = FakeSender()
    worker = make(tmp_path, reader, sender, budget=budget)
    await worker.handle(1)
    assert worker.journal.state(1) == "rejected"
    assert match in (worker.journal.get(1) or {})["reason"]
    assert sender.sent == []
    assert worker.journal.unfinished() == []  # final: never looked at again
    rejected = [r.getMessage() for r in caplog.records if '"task.rejected"' in r.getMessage()]
    assert len(rejected) == 1
    assert match in rejected[0]
    assert '"task.computing"' not in caplog.text


async def test_a_job_that_fits_is_computed_and_claimed(tmp_path):
    reader, sender = FakeReader(task()), FakeSender()
    worker = make(tmp_path, reader, sender, budget=Budget(memory_bytes=1 << 30))
    await worker.handle(1)
    assert worker.journal.state(1) == "claimed"
    assert len(sender.sent) == 1
