"""The scheduler service: assigns Open tasks to eligible Active nodes, as the scheduler role.

Each round it learns new nodes (``NodeRegistered``) and new tasks (``TaskCreated``) from events
since the last round, reads every known node and every task it still tracks with ``get_node``
and ``get_task``, and picks a node per Open task with :mod:`provider.scheduling`. The round's
assignments go in one multicall; if that reverts (a node changed in between) they are sent one
by one. A task no node can take stays Open and is reported once (again only if it becomes
assignable and then unassignable anew).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from provider.errors import ProviderError, TransactionFailedError
from provider.escrow import EscrowReader, Node, TaskStatus, escrow_call
from provider.logs import log_event
from provider.scheduling import Candidate, choose, ineligibility
from provider.transactions import Sender


@dataclass(frozen=True)
class SchedulerConfig:
    interval: float = 5.0
    """Seconds between rounds."""
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

    async def _learn(self) -> None:
        latest = await self.reader.latest_block()
        start = max(self.scanned_block + 1, self.reader.market.from_block)
        if start > latest:
            return
        for _, event in await self.reader.events("NodeRegistered", [], start, latest):
            self.nodes.add(int(event.values["node"]))
        for _, event in await self.reader.events("TaskCreated", [], start, latest):
            self.open_tasks.add(int(event.values["task_id"]))
        for _, event in await self.reader.events("TaskAssigned", [], start, latest):
            task_id = int(event.values["task_id"])
            self.open_tasks.discard(task_id)
            self.assigned[task_id] = int(event.values["node"])
        self.scanned_block = latest

    async def round(self) -> list[tuple[int, int]]:
        """One scheduling round; returns the (task, node) pairs assigned."""
        await self._learn()
        now = await self.reader.chain_time()
        for task_id in list(self.assigned):
            if (await self.reader.get_task(task_id)).status != TaskStatus.ASSIGNED:
                del self.assigned[task_id]
        nodes: dict[int, Node] = {a: await self.reader.get_node(a) for a in sorted(self.nodes)}
        candidates = [Candidate(a, n) for a, n in nodes.items()]
        loads: dict[int, int] = {}
        for node in self.assigned.values():
            loads[node] = loads.get(node, 0) + 1
        plan: list[tuple[int, int]] = []
        for task_id in sorted(self.open_tasks):
            task = await self.reader.get_task(task_id)
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
        while not stop.is_set():
            try:
                await self.round()
            except ProviderError as exc:
                log_event("scheduler.error", error=str(exc), retryable=exc.retryable)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.interval)
        log_event("scheduler.stopped")
