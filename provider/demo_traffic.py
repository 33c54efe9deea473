"""Demo traffic: one demander account that keeps a market busy with sample tasks.

``smainer up --demo`` wants a dashboard that shows a living network within a minute, not an
empty one. So this loop creates, at a gentle pace (one task every ~``interval`` seconds, with
jitter), small tasks of every algorithm in :data:`provider.algorithms.REGISTRY` in turn, with
payloads drawn from a seeded generator (same seed, same tasks) and cheap enough that a CPU
provider finishes each in about a second. In each run of :data:`FATE_BLOCK` tasks, one is made
to **expire** and one to be **cancelled**, so every status shows up:

- an expiring task asks for a ``max_execution_time`` of :attr:`DemoConfig.expire_time` seconds
  (2), below any provider's estimate (which includes 3 s of compilation) and its claim margin,
  so the provider it is assigned to refuses it (``task.rejected``); once its deadline has
  passed, the demo reclaims it with ``reclaim_expired`` (status Expired, creator refunded);
- a cancelled task asks for :data:`UNMEETABLE` requirements, so the scheduler finds no node for
  it (``task.unassignable``) and it stays Open; :attr:`DemoConfig.cancel_after` seconds later
  the demo cancels it (status Cancelled, refunded);
- every other task is left to the scheduler and the providers, and ends Completed.

Tasks are created with :func:`provider.demand.create_task` (the same checks as ``smainer task
create``), all transactions go through one :class:`~provider.transactions.Sender` (one nonce
counter for the process), and a failed action is logged as one JSON line (``demo.error``)
while the loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from starknet_py.net.client_errors import ClientError

from provider.algorithms import REGISTRY
from provider.demand import cancel_task, create_task, reclaim_task
from provider.errors import ProviderError
from provider.escrow import EscrowReader, Requirements, TaskStatus
from provider.logs import log_event
from provider.machine import U16_MAX
from provider.transactions import Sender

FATE_BLOCK = 8
"""In every run of this many tasks, one expires and one is cancelled."""
UNMEETABLE = Requirements(
    min_tier=5, gpu_required=True, cpu_threads=U16_MAX, ram_gb=U16_MAX, max_execution_time=600
)
"""What no real node offers (65535 CPU threads and GB of RAM): the task stays Open."""
ANY_NODE = Requirements(max_execution_time=600)
"""What the tasks meant to complete ask for: any Active node takes them, with time to spare."""
MAX_ATTEMPTS = 5
"""Failed tries of one cancel or reclaim before the demo leaves that task alone."""


class Fate(StrEnum):
    COMPLETE = "complete"
    EXPIRE = "expire"
    CANCEL = "cancel"


def fates(seed: int) -> Iterator[Fate]:
    """Task fates, endlessly: in each block of :data:`FATE_BLOCK`, one :attr:`Fate.EXPIRE` and
    one :attr:`Fate.CANCEL` at positions drawn from ``seed``."""
    rng = random.Random(f"fates-{seed}")
    while True:
        block = [Fate.COMPLETE] * FATE_BLOCK
        expire, cancel = rng.sample(range(FATE_BLOCK), 2)
        block[expire], block[cancel] = Fate.EXPIRE, Fate.CANCEL
        yield from block


def fate_plan(seed: int, count: int) -> list[Fate]:
    """The fates of the first ``count`` tasks a run with ``seed`` creates."""
    return list(itertools.islice(fates(seed), count))


def _small_int(rng: random.Random) -> int:
    return rng.randint(-9, 9)


def _small_float(rng: random.Random) -> float:
    return round(rng.uniform(-1.0, 1.0), 3)


def _matrix(rng: random.Random, rows: int, cols: int, entry: Callable[[random.Random], Any]) -> Any:
    return [[entry(rng) for _ in range(cols)] for _ in range(rows)]


def matrix_multiplication_payload(rng: random.Random) -> dict[str, Any]:
    """Up to 6x6 by 6x6: integers (exact product) seven times in ten, else float32."""
    n, m, k = (rng.randint(1, 6) for _ in range(3))
    entry = _small_int if rng.random() < 0.7 else _small_float
    return {"matrix_a": _matrix(rng, n, m, entry), "matrix_b": _matrix(rng, m, k, entry)}


def monte_carlo_pi_payload(rng: random.Random) -> dict[str, Any]:
    """At most 10^6 points: milliseconds once compiled (one compilation for every size)."""
    return {
        "seed": rng.randrange(2**32),
        "samples": rng.choice([1_000, 10_000, 100_000, 250_000, 1_000_000]),
    }


def mlp_forward_payload(rng: random.Random) -> dict[str, Any]:
    """1 to 3 layers, widths 2..6, a batch of 1..4, every activation and output in turn."""
    widths = [rng.randint(2, 6) for _ in range(rng.randint(1, 3) + 1)]
    layers = [
        {
            "weights": _matrix(rng, d_in, d_out, _small_float),
            "bias": [_small_float(rng) for _ in range(d_out)],
        }
        for d_in, d_out in itertools.pairwise(widths)
    ]
    return {
        "inputs": _matrix(rng, rng.randint(1, 4), widths[0], _small_float),
        "layers": layers,
        "activation": rng.choice(["relu", "tanh", "sigmoid"]),
        "output": rng.choice(["linear", "softmax"]),
    }


SAMPLES: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "matrix_multiplication": matrix_multiplication_payload,
    "monte_carlo_pi": monte_carlo_pi_payload,
    "mlp_forward": mlp_forward_payload,
}
"""A sample payload generator per registered algorithm."""


@dataclass(frozen=True)
class DemoConfig:
    interval: float = 4.0
    """Mean seconds between two creations (each gap drawn from 0.5x to 1.5x)."""
    count: int | None = None
    """Create this many tasks, see their cancels and reclaims through, then stop (``None``:
    until stopped)."""
    seed: int = 0
    """Seeds the payloads, amounts, gaps and fates: same seed, same traffic."""
    expire_time: int = 2
    """``max_execution_time`` of a task meant to expire: below any provider's estimate."""
    cancel_after: float = 20.0
    """Seconds a task meant to be cancelled stays Open first (the dashboard shows it)."""
    open_timeout: float = 120.0
    """A task meant to expire still Open after this long (no node took it) is cancelled."""
    poll: float = 1.0
    """Seconds between looks at the tasks awaiting a cancel or a reclaim."""
    retry_after: float = 5.0
    """Seconds before a failed cancel or reclaim is tried again."""


@dataclass
class _Pending:
    """A task the demo still has to cancel or reclaim."""

    task_id: int
    fate: Fate
    created: float
    """``time.monotonic()`` at creation."""
    not_before: float = 0.0
    attempts: int = 0


@dataclass
class DemoReport:
    """What one run did, by task id."""

    fates: dict[int, Fate] = field(default_factory=dict)
    algorithms: dict[int, str] = field(default_factory=dict)
    cancelled: list[int] = field(default_factory=list)
    reclaimed: list[int] = field(default_factory=list)
    errors: int = 0


class DemoTraffic:
    """The loop: create on schedule, follow up on the tasks meant to expire or be cancelled."""

    def __init__(self, reader: EscrowReader, sender: Sender, config: DemoConfig) -> None:
        missing = sorted(set(REGISTRY) - set(SAMPLES))
        if missing:
            raise ProviderError(f"no sample payload for the algorithms {missing}")
        self.reader = reader
        self.sender = sender
        self.config = config
        self.report = DemoReport()
        self._algorithms = sorted(REGISTRY)
        self._rng = random.Random(f"payloads-{config.seed}")
        self._fates = fates(config.seed)
        self._attempted = 0
        self._pending: list[_Pending] = []
        self._unit = 0

    def _more_to_create(self) -> bool:
        return self.config.count is None or self._attempted < self.config.count

    async def run(self, stop: asyncio.Event) -> DemoReport:
        """Until ``stop`` is set, or until ``count`` tasks are created and followed through."""
        self._unit = 10 ** await self.reader.decimals()
        log_event(
            "demo.started",
            account=hex(self.sender.address),
            interval=self.config.interval,
            count=self.config.count,
            seed=self.config.seed,
        )
        next_at = time.monotonic()
        while not stop.is_set():
            if self._more_to_create() and time.monotonic() >= next_at:
                await self._create_one()
                gap = self.config.interval * self._rng.uniform(0.5, 1.5)
                next_at = time.monotonic() + gap
            await self._follow_up()
            if not self._more_to_create() and not self._pending:
                break
            wait = self.config.poll
            if self._more_to_create():
                wait = min(wait, next_at - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, wait))
        report = self.report
        log_event(
            "demo.stopped",
            created=len(report.fates),
            cancelled=len(report.cancelled),
            reclaimed=len(report.reclaimed),
            pending=len(self._pending),
            errors=report.errors,
        )
        return report

    async def _create_one(self) -> None:
        algorithm = self._algorithms[self._attempted % len(self._algorithms)]
        self._attempted += 1
        fate = next(self._fates)
        payload = SAMPLES[algorithm](self._rng)
        amount = self._rng.randint(1, 20) * self._unit
        requirements = {
            Fate.COMPLETE: ANY_NODE,
            Fate.EXPIRE: Requirements(max_execution_time=self.config.expire_time),
            Fate.CANCEL: UNMEETABLE,
        }[fate]
        try:
            created = await create_task(
                self.reader,
                self.sender,
                algorithm,
                payload,
                amount,
                requirements,
                refuse_infeasible=fate != Fate.EXPIRE,
            )
        except (ProviderError, ClientError) as exc:
            self._error("create", None, exc)
            return
        task_id = created.task_id
        self.report.fates[task_id] = fate
        self.report.algorithms[task_id] = algorithm
        log_event(
            "demo.created",
            task=task_id,
            algorithm=algorithm,
            fate=str(fate),
            amount=str(amount),
            tx=hex(created.tx_hash),
        )
        if fate != Fate.COMPLETE:
            self._pending.append(_Pending(task_id, fate, time.monotonic()))

    async def _follow_up(self) -> None:
        for item in list(self._pending):
            now = time.monotonic()
            if now < item.not_before:
                continue
            try:
                done = await self._settle(item, now)
            except (ProviderError, ClientError) as exc:
                action = "cancel" if item.fate == Fate.CANCEL else "reclaim"
                self._error(action, item.task_id, exc)
                item.attempts += 1
                item.not_before = now + self.config.retry_after
                done = item.attempts >= MAX_ATTEMPTS
                if done:
                    log_event("demo.gave_up", task=item.task_id, attempts=item.attempts)
            if done:
                self._pending.remove(item)

    async def _settle(self, item: _Pending, now: float) -> bool:
        """Cancel or reclaim ``item`` when due; whether the demo is done with it."""
        age = now - item.created
        if item.fate == Fate.CANCEL:
            if age < self.config.cancel_after:
                return False
            return await self._cancel(item.task_id)
        if age < self.config.expire_time:
            return False
        task = await self.reader.get_task(item.task_id)
        if task.status == TaskStatus.OPEN:  # no node took it (yet)
            return age >= self.config.open_timeout and await self._cancel(item.task_id)
        if task.status != TaskStatus.ASSIGNED:
            log_event("demo.skipped", task=item.task_id, status=task.status.name.lower())
            return True
        # Chain time decides; on a devnet it follows the wall clock, which is read too
        # because the latest block may be old when nobody else is sending.
        if max(await self.reader.chain_time(), int(time.time())) <= task.deadline:
            return False
        tx_hash = await reclaim_task(self.reader, self.sender, item.task_id)
        self.report.reclaimed.append(item.task_id)
        log_event("demo.reclaimed", task=item.task_id, tx=hex(tx_hash))
        return True

    async def _cancel(self, task_id: int) -> bool:
        task = await self.reader.get_task(task_id)
        if task.status != TaskStatus.OPEN:
            log_event("demo.skipped", task=task_id, status=task.status.name.lower())
            return True
        tx_hash = await cancel_task(self.reader, self.sender, task_id)
        self.report.cancelled.append(task_id)
        log_event("demo.cancelled", task=task_id, tx=hex(tx_hash))
        return True

    def _error(self, action: str, task_id: int | None, exc: Exception) -> None:
        self.report.errors += 1
        log_event("demo.error", action=action, task=task_id, error=str(exc))
