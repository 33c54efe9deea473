"""The demander's side: create a task (payload checked before any money moves), follow it, read
its result, cancel or reclaim it. Plain functions the ``smainer task`` command wires up.

``create_task`` refuses, before sending anything: a payload that is not a JSON object, one that
names another algorithm than ``--algorithm``, one the provider's algorithm registry would reject,
one that does not pack into the escrow's 256 felts (7905 bytes of compact JSON), one whose
estimated run time at the providers' default rate (:mod:`provider.feasibility`; a GPU's if the
task requires one) does not fit its ``--max-execution-time`` (no default provider would take it),
and an execution time above the escrow's ``max_execution_time()``. Then ``approve`` and
``create_task`` go in one multicall, so no allowance is left behind if the creation reverts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from provider.algorithms import prepare
from provider.errors import PayloadRejectedError, ProviderError
from provider.escrow import (
    EscrowReader,
    Requirements,
    Task,
    TaskStatus,
    decode_shortstring,
    escrow_call,
    shortstring,
    token_call,
    u256,
)
from provider.feasibility import ACCELERATOR_FLOPS, CPU_FLOPS, Budget, refusal
from provider.transactions import Sender
from smainer.payload import PayloadError, decode_json, encode_json, payload_hash

BASE_UNITS_SUFFIX = "base"


class DemandError(ProviderError):
    """A task request refused before anything was sent, or a result that does not check."""


def parse_amount(text: str, decimals: int) -> int:
    """``25`` or ``0.5`` token units, or ``1500base`` base units, as base units (> 0)."""
    raw = text.strip().lower()
    try:
        if raw.endswith(BASE_UNITS_SUFFIX):
            amount = int(raw[: -len(BASE_UNITS_SUFFIX)].strip(), 10)
        else:
            scaled = Decimal(raw) * (Decimal(10) ** decimals)
            if scaled != scaled.to_integral_value():
                raise DemandError(f"{text} has more than {decimals} decimals")
            amount = int(scaled)
    except (InvalidOperation, ValueError, OverflowError):
        raise DemandError(
            f"not an amount: {text!r} (token units like 25 or 0.5, or 1500base)"
        ) from None
    if amount <= 0:
        raise DemandError("the amount must be positive")
    return amount


def check_payload(
    algorithm: str, payload: Any, requirements: Requirements | None = None
) -> list[int]:
    """The packed payload of a valid task for ``algorithm``; DemandError otherwise.

    With ``requirements``, also refuses a job a provider at the default rate could not finish
    within ``max_execution_time`` (the deadline is assignment time plus that).
    """
    if not isinstance(payload, dict):
        raise DemandError("the payload must be a JSON object")
    payload = {"algorithm": algorithm, **payload}
    if payload["algorithm"] != algorithm:
        raise DemandError(f"the payload names {payload['algorithm']!r}, not {algorithm!r}")
    try:
        felts = encode_json(payload)
    except PayloadError as exc:
        raise DemandError(str(exc)) from exc
    try:
        chosen, job = prepare(payload)
    except PayloadRejectedError as exc:
        raise DemandError(f"providers would refuse this payload: {exc}") from exc
    if requirements is not None:
        rate = ACCELERATOR_FLOPS if requirements.gpu_required else CPU_FLOPS
        limit = requirements.max_execution_time
        why = refusal(chosen.cost(job), Budget(flops_per_second=rate), limit, limit)
        if why is not None:
            raise DemandError(f"providers would refuse this task: {why}")
    return felts


@dataclass(frozen=True)
class Created:
    task_id: int
    tx_hash: int


async def create_task(
    reader: EscrowReader,
    sender: Sender,
    algorithm: str,
    payload: Any,
    amount: int,
    requirements: Requirements,
    *,
    refuse_infeasible: bool = True,
) -> Created:
    """Approve and create in one multicall; the new task's id.

    ``refuse_infeasible=False`` lets through a task no provider will finish within its
    ``max_execution_time``: the demo traffic makes such tasks on purpose, to show expiry.
    """
    felts = check_payload(algorithm, payload, requirements if refuse_infeasible else None)
    limit = await reader.max_execution_time()
    if not 1 <= requirements.max_execution_time <= limit:
        raise DemandError(f"max execution time must be 1..{limit} s on this escrow")
    if not 0 <= requirements.min_tier <= 5:
        raise DemandError("min tier must be 0..5")
    balance = await reader.balance_of(sender.address)
    if balance < amount:  # refused here rather than by a reverted transaction that costs fees
        raise DemandError(
            f"account {hex(sender.address)} holds {balance} base units of the payment token, "
            f"less than the {amount} this task escrows (on a devnet, `smainer deploy` gives "
            "each predeployed account a share of its token)"
        )
    market = reader.market
    calls = [
        token_call(market, "approve", [market.escrow, *u256(amount)]),
        escrow_call(
            market,
            "create_task",
            [shortstring(algorithm), len(felts), *felts, *requirements.felts(), *u256(amount)],
        ),
    ]
    receipt = await sender.execute(calls)
    created = reader.decoder.selector("TaskCreated")
    for event in receipt.events:
        if event.from_address == market.escrow and event.keys and event.keys[0] == created:
            return Created(int(event.keys[1]), receipt.transaction_hash)
    raise DemandError("the transaction emitted no TaskCreated event")


def describe(task: Task) -> dict[str, Any]:
    """A task as JSON for ``smainer task status``."""
    return {
        "id": task.id,
        "status": task.status.name.lower(),
        "kind": decode_shortstring(task.kind),
        "creator": hex(task.creator),
        "node": hex(task.node) if task.node else None,
        "amount": str(task.amount),
        "requirements": vars(task.requirements),
        "created_at": task.created_at,
        "assigned_at": task.assigned_at or None,
        "deadline": task.deadline or None,
        "completed_at": task.completed_at or None,
        "payload_hash": hex(task.payload_hash),
        "result_hash": hex(task.result_hash) if task.result_hash else None,
    }


async def task_result(reader: EscrowReader, task_id: int) -> Any:
    """The decoded result of a completed task, after checking it against the stored hash."""
    task = await reader.get_task(task_id)
    if task.status != TaskStatus.COMPLETED:
        raise DemandError(f"task {task_id} is {task.status.name.lower()}, not completed")
    completed = await reader.task_result(task_id)
    if completed is None:
        raise DemandError(f"no TaskCompleted event for task {task_id}")
    felts = completed["result"]
    if payload_hash(felts) != task.result_hash:
        raise DemandError("the published result does not match the task's result_hash")
    try:
        return decode_json(felts)
    except PayloadError as exc:
        raise DemandError(f"the result is not packed JSON: {exc}") from exc


async def cancel_task(reader: EscrowReader, sender: Sender, task_id: int) -> int:
    receipt = await sender.execute([escrow_call(reader.market, "cancel_task", [task_id])])
    return receipt.transaction_hash


async def reclaim_task(reader: EscrowReader, sender: Sender, task_id: int) -> int:
    receipt = await sender.execute([escrow_call(reader.market, "reclaim_expired", [task_id])])
    return receipt.transaction_hash


async def list_tasks(reader: EscrowReader, creator: int | None = None) -> list[Task]:
    """Every task, or those ``creator`` created."""
    if creator is None:
        ids = list(range(1, await reader.get_task_count() + 1))
    else:
        ids = await reader.user_tasks(creator)
    return [await reader.get_task(task_id) for task_id in ids]
