"""Cairo steps and wall time of each escrow operation, with and without the engine's speedups.

    .venv/bin/python scripts/bench_contracts.py [--repeat 5] [--stateful-examples 10]

Each operation runs ``--repeat`` times on a fresh copy of the same chain state (restored from a
snapshot), so every run executes exactly the same Cairo code; the step count must be identical
with and without speedups, and the table says so. The last section runs the hypothesis stateful
test's machine for a few examples and reports rule steps per second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from smainer.demo import REQUIREMENTS
from smainer.engine import CallResult, speedups
from smainer.payload import encode_json, payload_hash
from smainer.sandbox import ONE_TOKEN, Marketplace, deploy_sandbox

USER, NODE = 0xA11, 0xB0D
PAYLOAD = encode_json({"algorithm": "matrix_multiplication", "matrix_a": [[1, 2], [3, 4]]})
RESULT = encode_json([[19, 22], [43, 50]])


@dataclass(frozen=True)
class Measurement:
    name: str
    steps: int
    millis: list[float]


def _create(m: Marketplace) -> CallResult:
    return m.escrow.invoke(
        "create_task",
        kind=1,
        payload=PAYLOAD,
        requirements=REQUIREMENTS,
        amount=10 * ONE_TOKEN,
        caller=USER,
    )


def _setup(m: Marketplace, stage: str) -> None:
    """Bring the chain to the state an operation needs (done before timing)."""
    m.fund(USER, 1000 * ONE_TOKEN)
    if stage == "fresh":
        return
    _create(m)
    m.escrow.invoke("register_node", tier=3, gpu=True, cpu_threads=8, ram_gb=32, caller=NODE)
    if stage == "open":
        return
    m.escrow.invoke("assign_task", task_id=1, node=NODE, caller=m.roles.scheduler)
    if stage == "expired":
        m.chain.advance_time(601)


OPERATIONS: list[tuple[str, str, Callable[[Marketplace], CallResult]]] = [
    ("create_task", "fresh", _create),
    (
        "register_node",
        "fresh",
        lambda m: m.escrow.invoke(
            "register_node", tier=3, gpu=True, cpu_threads=8, ram_gb=32, caller=NODE
        ),
    ),
    ("heartbeat", "open", lambda m: m.escrow.invoke("heartbeat", caller=NODE)),
    ("cancel_task", "open", lambda m: m.escrow.invoke("cancel_task", task_id=1, caller=USER)),
    (
        "assign_task",
        "open",
        lambda m: m.escrow.invoke("assign_task", task_id=1, node=NODE, caller=m.roles.scheduler),
    ),
    (
        "submit_proof_and_claim",
        "assigned",
        lambda m: m.escrow.invoke(
            "submit_proof_and_claim",
            task_id=1,
            result_hash=payload_hash(RESULT),
            result=RESULT,
            caller=NODE,
        ),
    ),
    (
        "reclaim_expired",
        "expired",
        lambda m: m.escrow.invoke("reclaim_expired", task_id=1, caller=USER),
    ),
    (
        "get_task (view)",
        "assigned",
        lambda m: m.chain.call(m.escrow.address, "get_task", m.escrow.calldata("get_task", 1)),
    ),
    (
        "token balance_of (view)",
        "fresh",
        lambda m: m.chain.call(m.token.address, "balance_of", [USER]),
    ),
]


def measure(market: Marketplace, repeat: int) -> list[Measurement]:
    base = market.chain.snapshot()
    results = []
    for name, stage, operation in OPERATIONS:
        market.chain.restore(base)
        _setup(market, stage)
        ready = market.chain.snapshot()
        millis, steps = [], 0
        for _ in range(repeat):
            market.chain.restore(ready)
            start = time.perf_counter()
            steps = operation(market).steps
            millis.append((time.perf_counter() - start) * 1000)
        results.append(Measurement(name, steps, millis))
    market.chain.restore(base)
    return results


def stateful_rate(examples: int) -> tuple[int, float] | None:
    """Rule steps per second of the hypothesis state machine, if the test suite is present."""
    tests = Path(__file__).resolve().parents[1] / "tests" / "cairo"
    if not (tests / "test_escrow_stateful.py").exists():
        return None
    sys.path.insert(0, str(tests))
    from hypothesis import settings
    from hypothesis.stateful import invariant, run_state_machine_as_test
    from test_escrow_stateful import EscrowMachine  # type: ignore[import-not-found]

    counted = {"checks": 0}

    class Counting(EscrowMachine):
        # Invariants run once after set-up and once after every rule step.
        @invariant()
        def count_steps(self) -> None:
            counted["checks"] += 1

    start = time.perf_counter()
    run_state_machine_as_test(
        Counting,
        settings=settings(max_examples=examples, deadline=None, derandomize=True, database=None),
    )
    return counted["checks"] - examples, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per operation and mode")
    parser.add_argument("--stateful-examples", type=int, default=10, help="0 to skip")
    args = parser.parse_args()

    print("deploying the marketplace on an in-process chain ...", flush=True)
    market = deploy_sandbox()
    fast = measure(market, args.repeat)
    with speedups.disabled():
        stock = measure(market, args.repeat)

    print(f"\nmedian of {args.repeat} runs; 'stock' is cairo-lang 0.14.0.1 without our speedups\n")
    header = (
        f"{'operation':<26} {'steps':>6} {'ms':>8} {'stock ms':>9} {'speedup':>8} {'steps/s':>8}"
    )
    print(header)
    print("-" * len(header))
    for f, s in zip(fast, stock, strict=True):
        if f.steps != s.steps:
            print(f"!! {f.name}: {f.steps} steps with speedups, {s.steps} without", flush=True)
            return 1
        fm, sm = statistics.median(f.millis), statistics.median(s.millis)
        print(
            f"{f.name:<26} {f.steps:>6} {fm:>8.1f} {sm:>9.1f} {sm / fm:>7.2f}x "
            f"{f.steps / fm * 1000:>8.0f}"
        )
    total_f = sum(statistics.median(f.millis) for f in fast)
    total_s = sum(statistics.median(s.millis) for s in stock)
    print(
        f"{'all operations':<26} {'':>6} {total_f:>8.1f} {total_s:>9.1f} {total_s / total_f:>7.2f}x"
    )

    if args.stateful_examples:
        rate = stateful_rate(args.stateful_examples)
        if rate is None:
            print("\nstateful test not found; skipped")
        else:
            rules, seconds = rate
            print(
                f"\nstateful test: {args.stateful_examples} examples, {rules} rule steps in "
                f"{seconds:.1f} s = {rules / seconds:.1f} steps/s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
