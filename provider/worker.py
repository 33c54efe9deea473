"""The provider worker: register, heartbeat, and turn each task assigned to this node into one
claim.

For each task assigned to the node (``TaskAssigned`` events keyed by its address, confirmed with
``get_task``) the worker reads the payload from ``TaskCreated``, checks it against the task's
``payload_hash``, decodes and checks it with the algorithm registry, checks that the job fits
the node's memory and can finish before the deadline (:mod:`provider.feasibility`), computes it,
packs the result and calls ``submit_proof_and_claim`` itself. A task it refuses is logged once
and left to expire. Exactly one claim per task: the task's status is read on chain right before
sending, and the signed claim's hash and nonce go to the journal before the send, so a restart
checks that transaction rather than sending another (see :meth:`ProviderWorker._recover_claim`).
Final entries are pruned from the journal after ``journal_retention`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from provider.algorithms import Algorithm, prepare
from provider.compute import in_daemon_thread
from provider.errors import PayloadRejectedError, ProviderError, TransactionFailedError
from provider.escrow import EscrowReader, NodeStatus, Task, TaskStatus, escrow_call
from provider.feasibility import Budget, refusal
from provider.journal import Journal
from provider.logs import log_event
from provider.machine import Capabilities
from provider.transactions import Sender
from smainer.aio import cancel_and_wait
from smainer.payload import PayloadError, decode_json, encode_json, payload_hash

CLAIM_LOST_REASONS = frozenset({"TASK_EXPIRED", "TASK_NOT_ASSIGNED", "NOT_ASSIGNED_NODE"})
"""Revert reasons after which no claim of ours can succeed any more."""


@dataclass(frozen=True)
class WorkerConfig:
    capabilities: Capabilities
    heartbeat_interval: float = 300.0
    """Seconds between heartbeats; the scheduler prefers nodes that beat recently."""
    poll_interval: float = 5.0
    """Seconds between scans for new assignments."""
    max_concurrent: int = 1
    """Computations at once (tasks are still claimed concurrently)."""
    stop_grace: float = 10.0
    """On SIGINT/SIGTERM, seconds to let claims already under way finish."""
    budget: Budget = field(default_factory=Budget)
    """The node's rate, memory per computation and claim margin: what it can take on."""
    journal_retention: float = 7 * 24 * 3600.0
    """Seconds a task's final journal entry is kept (its assignment is long scanned past)."""


@dataclass
class ProviderWorker:
    reader: EscrowReader
    sender: Sender
    journal: Journal
    config: WorkerConfig
    _compute_slots: asyncio.Semaphore = field(init=False)
    _inflight: dict[int, asyncio.Task[None]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._compute_slots = asyncio.Semaphore(self.config.max_concurrent)

    @property
    def node(self) -> int:
        return self.sender.address

    # --- the node ---

    async def ensure_registered(self) -> None:
        """Register (or update) the node unless it is Active with exactly these capabilities."""
        wanted = self.config.capabilities
        node = await self.reader.get_node(self.node)
        if node.status == NodeStatus.SUSPENDED:
            log_event("node.suspended", node=hex(self.node))
            return
        current = Capabilities(node.tier, node.gpu, node.cpu_threads, node.ram_gb)
        if node.status == NodeStatus.ACTIVE and current == wanted:
            return
        call = escrow_call(self.reader.market, "register_node", wanted.felts())
        await self.sender.execute([call])
        log_event(
            "node.registered", node=hex(self.node), tier=wanted.tier, gpu=wanted.gpu,
            cpu_threads=wanted.cpu_threads, ram_gb=wanted.ram_gb,
        )  # fmt: skip

    async def heartbeat(self) -> None:
        receipt = await self.sender.execute([escrow_call(self.reader.market, "heartbeat")])
        log_event("node.heartbeat", node=hex(self.node), block=receipt.block_number)

    # --- tasks ---

    async def poll_once(self) -> list[int]:
        """Scan for new assignments, then handle every unfinished task; returns their ids."""
        self.journal.prune(time.time() - self.config.journal_retention)
        latest = await self.reader.latest_block()
        start = self.journal.scanned_block + 1
        if start <= latest:
            assigned = await self.reader.events("TaskAssigned", [[], [self.node]], start, latest)
            for _, event in assigned:
                task_id = int(event.values["task_id"])
                if self.journal.state(task_id) is None:
                    self.journal.record(task_id, "assigned")
                    log_event("task.assigned", task=task_id, deadline=event.values["deadline"])
            self.journal.set_scanned_block(latest)
        pending = [t for t in self.journal.unfinished() if t not in self._inflight]
        handlers = {t: asyncio.create_task(self.handle(t)) for t in pending}
        self._inflight.update(handlers)
        try:  # every handler ends before the next poll, so a task never has two at once
            await asyncio.gather(*handlers.values(), return_exceptions=True)
        finally:
            for task_id in handlers:
                self._inflight.pop(task_id, None)
        return pending

    async def handle(self, task_id: int) -> None:
        """Take one task as far as it goes now; a transient failure leaves it for the next poll."""
        try:
            await self._handle(task_id)
        except ProviderError as exc:
            log_event("task.error", task=task_id, error=str(exc), retryable=exc.retryable)
        except Exception as exc:  # an RPC answer we did not expect: log it, retry next poll
            log_event("task.error", task=task_id, error=repr(exc), retryable=True)

    def _finish(self, task_id: int, state: str, event: str, **fields: Any) -> None:
        kept = {k: v for k, v in (self.journal.get(task_id) or {}).items() if k != "state"}
        self.journal.record(task_id, state, **{**kept, **fields})
        log_event(event, task=task_id, **fields)

    async def _handle(self, task_id: int) -> None:
        task = await self.reader.get_task(task_id)
        if self._settled(task):
            return
        entry = self.journal.get(task_id) or {}
        if entry.get("state") == "claiming":
            await self._recover_claim(task, entry)
            return
        now = await self.reader.chain_time()
        if now > task.deadline:
            self._finish(task_id, "lost", "task.lost", reason="deadline passed before compute")
            return
        try:
            algorithm, job = await self._checked_job(task)
            self._check_feasible(task, algorithm, job, now)
        except PayloadRejectedError as exc:
            self._finish(task_id, "rejected", "task.rejected", reason=str(exc))
            return
        waited = self._compute_slots.locked()
        async with self._compute_slots:
            try:
                if waited:  # time passed in the queue: can it still finish?
                    self._check_feasible(task, algorithm, job, await self.reader.chain_time())
            except PayloadRejectedError as exc:
                self._finish(task_id, "rejected", "task.rejected", reason=str(exc))
                return
            log_event("task.computing", task=task_id, algorithm=algorithm.name)
            started = time.perf_counter()
            try:
                result = await in_daemon_thread(algorithm.run, job)
                felts = encode_json(result)
            except (PayloadRejectedError, PayloadError) as exc:
                self._finish(task_id, "rejected", "task.rejected", reason=str(exc))
                return
            log_event(
                "task.computed", task=task_id, ms=round(1000 * (time.perf_counter() - started))
            )
        await self._claim(task_id, felts)

    def _settled(self, task: Task) -> bool:
        """Record a task that no longer needs us; ``True`` if so."""
        mine = task.node == self.node
        if task.status == TaskStatus.COMPLETED and mine:
            if self.journal.state(task.id) != "claimed":
                self._finish(task.id, "claimed", "task.claimed", completed_at=task.completed_at)
            return True
        if task.status != TaskStatus.ASSIGNED or not mine:
            reason = "not assigned to this node" if not mine else task.status.name.lower()
            self._finish(task.id, "lost", "task.lost", reason=reason)
            return True
        return False

    def _check_feasible(self, task: Task, algorithm: Algorithm, job: Any, now: int) -> None:
        """Refuse (final) a job too big for this node's memory, its ``max_execution_time`` or
        the time left before its deadline."""
        why = refusal(
            algorithm.cost(job),
            self.config.budget,
            task.requirements.max_execution_time,
            task.deadline - now,
        )
        if why is not None:
            raise PayloadRejectedError(why)

    async def _checked_job(self, task: Task) -> tuple[Algorithm, Any]:
        """The payload as published, checked against the committed hash, parsed and checked."""
        try:
            felts = await self.reader.task_payload(task.id)
        except LookupError as exc:
            raise PayloadRejectedError(str(exc)) from exc
        if payload_hash(felts) != task.payload_hash:
            raise PayloadRejectedError("payload does not match the task's payload_hash")
        try:
            payload = decode_json(felts)
        except PayloadError as exc:
            raise PayloadRejectedError(str(exc)) from exc
        return prepare(payload)

    async def _claim(self, task_id: int, result: list[int], nonce: int | None = None) -> None:
        """Send the one claim: status checked on chain first, hash and nonce journaled first."""
        task = await self.reader.get_task(task_id)
        if self._settled(task):
            return
        if await self.reader.chain_time() > task.deadline:
            self._finish(task_id, "lost", "task.lost", reason="deadline passed during compute")
            return
        result_hash = payload_hash(result)

        def record(tx_hash: int, used_nonce: int) -> None:
            self.journal.record(
                task_id, "claiming", tx_hash=hex(tx_hash), nonce=used_nonce, result=result
            )

        calldata = [task_id, result_hash, len(result), *result]
        call = escrow_call(self.reader.market, "submit_proof_and_claim", calldata)
        try:
            sent = await self.sender.send([call], before_send=record, nonce=nonce)
        except TransactionFailedError as exc:
            self.journal.record(task_id, "assigned")  # never sent: try again next poll
            raise exc
        log_event("task.claim_sent", task=task_id, tx=hex(sent.tx_hash), nonce=sent.nonce)
        await self._await_claim(task_id, sent.tx_hash)

    async def _await_claim(self, task_id: int, tx_hash: int) -> None:
        """Wait for the claim; if still pending, it stays ``claiming`` for the next poll."""
        try:
            receipt = await self.sender.wait(tx_hash)
        except TransactionFailedError as exc:
            if exc.reason in CLAIM_LOST_REASONS:
                self._finish(task_id, "lost", "task.lost", reason=exc.reason, tx=hex(tx_hash))
                return
            self.journal.record(task_id, "assigned")  # e.g. out of fee: a new claim next poll
            raise
        block = receipt.block_number
        self._finish(task_id, "claimed", "task.claimed", tx=hex(tx_hash), block=block)

    async def _recover_claim(self, task: Task, entry: dict[str, Any]) -> None:
        """After a restart with a claim signed: wait for it, or re-send it with its own nonce."""
        tx_hash, nonce, result = int(entry["tx_hash"], 16), int(entry["nonce"]), entry["result"]
        status = await self.sender.status(tx_hash)
        log_event("task.recovering", task=task.id, tx=entry["tx_hash"], tx_status=status)
        if status is not None and status != "REVERTED":
            await self._await_claim(task.id, tx_hash)
        elif status is None and await self.sender.chain_nonce() <= nonce:
            # Never included and its nonce still free: the same nonce means at most one lands.
            await self._claim(task.id, result, nonce=nonce)
        else:
            # Reverted, or dropped and its nonce used since: _claim re-reads the task first.
            await self._claim(task.id, result)

    # --- the loop ---

    async def run(self, stop: asyncio.Event) -> None:
        """Register, then heartbeat and poll until ``stop`` is set; then stop cleanly."""
        await self.ensure_registered()
        beats = asyncio.create_task(self._heartbeats(stop))
        try:
            while not stop.is_set():
                poll = asyncio.create_task(self.poll_once())
                stopped = asyncio.create_task(stop.wait())
                await asyncio.wait({poll, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if not poll.done():  # stopping mid-poll: let claims under way finish
                    await asyncio.wait({poll}, timeout=self.config.stop_grace)
                await cancel_and_wait(poll, stopped)
                if poll.done() and not poll.cancelled() and poll.exception():
                    log_event("worker.error", error=repr(poll.exception()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.poll_interval)
        finally:
            await cancel_and_wait(beats)
            log_event("worker.stopped", node=hex(self.node))

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.heartbeat()
            except ProviderError as exc:
                log_event("node.heartbeat_error", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.heartbeat_interval)
