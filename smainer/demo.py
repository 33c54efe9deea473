"""``smainer demo``: one task's whole life on the in-process chain, with what each step cost.

It runs the committed contracts, not a model of them, so it doubles as a smoke test a new user
can read: deploy, escrow a task, register a node, assign, compute, prove and get paid.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smainer.engine import CallResult, Chain
from smainer.payload import decode_json, encode_json, payload_hash
from smainer.sandbox import ONE_TOKEN, Marketplace, deploy_sandbox

DEMANDER = 0xDE3A
PROVIDER = 0x9E0D
TASK_AMOUNT = 25 * ONE_TOKEN
PAYLOAD: dict[str, Any] = {
    "algorithm": "matrix_multiplication",
    "matrix_a": [[1, 2], [3, 4]],
    "matrix_b": [[5, 6], [7, 8]],
}
REQUIREMENTS = {
    "min_tier": 1,
    "gpu_required": False,
    "cpu_threads": 2,
    "ram_gb": 4,
    "max_execution_time": 600,
}

Printer = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """One transaction of the demo and what it cost in the Cairo VM."""

    label: str
    steps: int
    events: int
    millis: float


def matmul(a: list[list[int]], b: list[list[int]]) -> list[list[int]]:
    """The provider's work for the demo payload (the JAX providers do this on real hardware)."""
    columns = list(zip(*b, strict=True))
    return [[sum(x * y for x, y in zip(row, col, strict=True)) for col in columns] for row in a]


def _timed(label: str, run: Callable[[], CallResult], out: list[Step], say: Printer) -> CallResult:
    start = time.perf_counter()
    result = run()
    step = Step(label, result.steps, len(result.events), (time.perf_counter() - start) * 1000)
    out.append(step)
    say(f"  {label:<34} {step.steps:>6} steps {step.events:>3} events {step.millis:>8.1f} ms")
    return result


def _tokens(amount: int) -> str:
    return f"{amount / ONE_TOKEN:,.4f}"


def run_demo(say: Printer = print) -> list[Step]:
    """Run the round and print it; returns the steps for callers that want the figures."""
    say("deploying Token and Escrow on an in-process chain (committed artifacts) ...")
    chain = Chain()
    chain.set_block(number=1, timestamp=int(time.time()))
    market: Marketplace = deploy_sandbox(chain)
    escrow, roles = market.escrow, market.roles
    say(f"  token  {market.token.address:#066x}")
    say(f"  escrow {escrow.address:#066x}")
    fees = market.fees
    say(
        f"  fee split: provider {fees.provider_bps} / gas {fees.gas_bps} / "
        f"treasury {fees.treasury_bps} bps"
    )
    steps: list[Step] = []
    say("transactions:")

    market.fund(DEMANDER, 100 * ONE_TOKEN)
    payload = encode_json(PAYLOAD)
    created = _timed(
        "create_task (escrows 25 tokens)",
        lambda: escrow.invoke(
            "create_task",
            kind=int.from_bytes(b"matmul", "big"),
            payload=payload,
            requirements=REQUIREMENTS,
            amount=TASK_AMOUNT,
            caller=DEMANDER,
        ),
        steps,
        say,
    )
    task_id: int = escrow.decode("create_task", created.retdata)
    _timed(
        "register_node (tier 2, 8 threads)",
        lambda: escrow.invoke(
            "register_node", tier=2, gpu=False, cpu_threads=8, ram_gb=16, caller=PROVIDER
        ),
        steps,
        say,
    )
    _timed(
        "assign_task (scheduler)",
        lambda: escrow.invoke(
            "assign_task", task_id=task_id, node=PROVIDER, caller=roles.scheduler
        ),
        steps,
        say,
    )
    # The provider reads the payload from the TaskCreated event, as it would from chain.
    (announced,) = escrow.events(created, "TaskCreated")
    task_payload: dict[str, Any] = decode_json(announced.values["payload"])
    result = encode_json(matmul(task_payload["matrix_a"], task_payload["matrix_b"]))
    chain.advance_time(42)
    _timed(
        "submit_proof_and_claim (provider)",
        lambda: escrow.invoke(
            "submit_proof_and_claim",
            task_id=task_id,
            result_hash=payload_hash(result),
            result=result,
            caller=PROVIDER,
        ),
        steps,
        say,
    )

    task = escrow.call("get_task", task_id=task_id)
    say(f"task {task_id}: status {task['status']} (3 = Completed), result {decode_json(result)}")
    say("payout of 25 tokens:")
    for name, address in (
        ("provider", PROVIDER),
        ("gas subsidy", roles.gas_recipient),
        ("treasury", roles.treasury),
        ("escrow (left)", escrow.address),
    ):
        say(f"  {name:<14} {_tokens(market.balance(address)):>12}")
    earned = escrow.call("get_user_earnings", provider=PROVIDER)
    say(f"provider earnings on chain: {_tokens(earned)}")
    return steps
