"""The scheduler service: assigns Open tasks to eligible Active nodes, as the scheduler role.

Each round it learns new nodes (``NodeRegistered``) and new tasks (``TaskCreated``) from events
since the last round and, if some task is Open, reads every known node and every task it still
tracks with ``get_node`` and ``get_task`` (concurrently: a round's latency is then one read, not
one per task), and picks a node per Open task with :mod:`provider.scheduling`. The round's
assignments go in one multicall; if that reverts (a node changed in between) they are sent one
by one. A task no node can take stays Open and is reported once (again only if it becomes
assignable and then unassignable anew).

Between rounds it waits for a new head (:class:`smainer.network.heads.HeadWatcher`, when given
one) or ``interval`` seconds, whichever comes first: a task created in a block is then assigned
within one round of that block rather than after up to a whole interval, and a node without a
WebSocket, or a lost notification, only falls back to the interval's polling.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from provider.errors import ProviderError, TransactionFailedError
from provider.escrow import EscrowReader, Node, TaskStatus, escrow_call
from provider.logs import log_event
from provider.scheduling import Candidate, choose, ineligibility
from provider.transactions import Sender
from smainer.aio import cancel_and_wait, gather_or_cancel
from smainer.network.heads import HeadWatcher

T = TypeVar("T")

MAX_READS_IN_FLIGHT = 16
"""A round's concurrent ``get_task``/``get_node`` calls at most: one round trip for a handful,
without opening hundreds of connections to a public node at once when many tasks are tracked."""


@dataclass(frozen=True)
class SchedulerConfig:
    interval: float = 5.0
    """Seconds between rounds at most: a new head announced sooner starts the next round."""
    min_gap: float = 0.5
    """Seconds at least from one round's start to the next: a burst of blocks (one per
    transaction on a devnet) starts a round every ``min_gap``, not one per block, so the
    scheduler's reads do not crowd out the transactions it is waiting for."""
    max_silence: int = 900
    """A node whose last heartbeat is older than this (chain seconds) is not assigned."""


@dataclass
class Scheduler:
    reader: EscrowReader
    sender: Sender
    config: SchedulerConfig = field(default_factory=SchedulerConfig)
    scanned_block: int = -1
    nodes: set[int] = field(default_factory=set)
    open_tasks: set[int] = field(default_factory=set)
    assigned: dict[int, int] = field(default_factory=dict)
    """Task id -> node, for tasks Assigned now: the nodes' load."""
    last_assigned: dict[int, float] = field(default_factory=dict)
    """Each node's last assignment, as its sequence number (see provider.scheduling.choose)."""
    assignments: int = 0
    reported: set[int] = field(default_factory=set)
    heads: HeadWatcher | None = None
    """New-head notifications that end the wait between rounds early; ``None`` polls only. The
    caller owns it (starts nothing until the first wait; close it after :meth:`run`)."""

    async def _learn(self) -> None:
        latest = await self.reader.latest_block()
        start = max(self.scanned_block + 1, self.reader.market.from_block)
        if start > latest:
            return
        registered, created, assigned = await gather_or_cancel(
            *(self.reader.events(n, [], start, latest) for n in _LEARNED)
        )
        for _, event in registered:
            self.nodes.add(int(event.values["node"]))
        for _, event in created:
            self.open_tasks.add(int(event.values["task_id"]))
        for _, event in assigned:
            task_id = int(event.values["task_id"])
            self.open_tasks.discard(task_id)
            self.assigned[task_id] = int(event.values["node"])
        self.scanned_block = latest

    async def round(self) -> list[tuple[int, int]]:
        """One scheduling round; returns the (task, node) pairs assigned."""
        await self._learn()
        if not self.open_tasks:
            return []  # nothing to assign: the loads and nodes can wait for a round that needs them
        task_ids = sorted(set(self.assigned) | self.open_tasks)
        node_ids = sorted(self.nodes)
        now = await self.reader.chain_time()
        read_tasks = await _bounded(self.reader.get_task(t) for t in task_ids)
        read_nodes = await _bounded(self.reader.get_node(a) for a in node_ids)
        tasks = dict(zip(task_ids, read_tasks, strict=True))
        for task_id in list(self.assigned):
            if tasks[task_id].status != TaskStatus.ASSIGNED:
                del self.assigned[task_id]
        nodes: dict[int, Node] = dict(zip(node_ids, read_nodes, strict=True))
        candidates = [Candidate(a, n) for a, n in nodes.items()]
        loads: dict[int, int] = {}
        for node in self.assigned.values():
            loads[node] = loads.get(node, 0) + 1
        plan: list[tuple[int, int]] = []
        for task_id in sorted(self.open_tasks):
            task = tasks[task_id]
            if task.status != TaskStatus.OPEN:
                self.open_tasks.discard(task_id)
                continue
            chosen = choose(
                task.requirements, candidates, loads, self.last_assigned, now,
                self.config.max_silence,
            )  # fmt: skip
            if chosen is None:
                if task_id not in self.reported:
                    self.reported.add(task_id)
                    reasons = {
                        hex(a): ineligibility(n, task.requirements, now, self.config.max_silence)
                        for a, n in nodes.items()
                    }
                    log_event("task.unassignable", task=task_id, nodes=str(reasons) or "none")
                continue
            self.reported.discard(task_id)
            plan.append((task_id, chosen))
            loads[chosen] = loads.get(chosen, 0) + 1
            self.assignments += 1
            self.last_assigned[chosen] = self.assignments
        return await self._send(plan)

    async def _send(self, plan: list[tuple[int, int]]) -> list[tuple[int, int]]:
        if not plan:
            return []
        market = self.reader.market
        calls = [escrow_call(market, "assign_task", [t, n]) for t, n in plan]
        try:
            await self.sender.execute(calls)
            done = plan
        except TransactionFailedError as exc:
            log_event("scheduler.batch_reverted", reason=exc.reason, tasks=len(plan))
            done = []
            for pair, call in zip(plan, calls, strict=True):
                try:
                    await self.sender.execute([call])
                    done.append(pair)
                except TransactionFailedError as one:
                    log_event("task.assign_failed", task=pair[0], reason=one.reason)
        for task_id, node in done:
            self.open_tasks.discard(task_id)
            self.assigned[task_id] = node
            log_event("task.assigned", task=task_id, node=hex(node))
        return done

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            started = loop.time()
            try:
                await self.round()
            except ProviderError as exc:
                log_event("scheduler.error", error=str(exc), retryable=exc.retryable)
            await self._pause(stop)
            rest = started + self.config.min_gap - loop.time()
            if rest > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), rest)
        log_event("scheduler.stopped")

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set, a new head is announced or ``interval`` seconds pass.

        A head announced during the round just run ends this wait at once (the watcher keeps
        it until a wait takes it), so a block is never missed between two waits; ``min_gap``
        then spaces the rounds of a burst of blocks.
        """
        waits: list[asyncio.Task[object]] = [asyncio.create_task(stop.wait())]
        if self.heads is not None:
            waits.append(asyncio.create_task(self.heads.wait(self.config.interval)))
        try:
            await asyncio.wait(
                waits, timeout=self.config.interval, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            await cancel_and_wait(*waits)


_LEARNED = ("NodeRegistered", "TaskCreated", "TaskAssigned")
"""The events a round learns from, in the order they are applied."""


async def _bounded(reads: Iterable[Awaitable[T]]) -> list[T]:
    """``reads`` run concurrently, at most :data:`MAX_READS_IN_FLIGHT` at once, results in order."""
    slots = asyncio.Semaphore(MAX_READS_IN_FLIGHT)

    async def one(read: Awaitable[T]) -> T:
        async with slots:
            return await read

    return await gather_or_cancel(*(one(r) for r in reads))
