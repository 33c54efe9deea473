"""Nested traces (:mod:`devnet.methods.traces`): each call of a tx's call tree at its own level,
as the spec's ``FUNCTION_INVOCATION.calls`` nests them, with its own events and messages.

One in-process devnet runs the real marketplace: the Escrow declared and deployed through the
UDC (the account calling the UDC calling the Escrow's constructor), then a user's multicall that
approves the escrow on STRK and creates a task (the account calling the escrow calling STRK's
``transfer_from``). Every answer is validated against the spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.client_models import Call

from devnet.state import Devnet
from smainer.artifacts import load_contract
from smainer.payload import encode_json
from tests.devnet.spec import Spec
from tests.devnet.test_node_helpers import ONE_STRK, make_devnet, rpc, send, signed_invoke
from tests.devnet.test_transactions import _declare

AMOUNT = 5 * ONE_STRK
EXECUTE = get_selector_from_name("__execute__")
DEPLOY = get_selector_from_name("deploy_contract")
APPROVE = get_selector_from_name("approve")
CREATE_TASK = get_selector_from_name("create_task")
TRANSFER_FROM = get_selector_from_name("transfer_from")
TASK_CREATED = get_selector_from_name("TaskCreated")


@dataclass
class Scenario:
    devnet: Devnet
    user: int
    escrow: int
    deploy_tx: str
    task_tx: str
    task_block: int


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    devnet = make_devnet(accounts=2)
    owner, user = devnet.predeployed_accounts
    escrow_class = load_contract("Escrow")
    send(devnet, _declare(devnet, owner, escrow_class.sierra, escrow_class.compiled_class_hash, 0))
    strk = devnet.fee_token_address
    constructor = [owner.address, strk, owner.address, owner.address, owner.address, 9300, 200, 500]
    udc = devnet.udc_address
    assert udc is not None
    deploy = Call(udc, DEPLOY, [escrow_class.class_hash, 1, 0, len(constructor), *constructor])
    deployed = send(devnet, signed_invoke(devnet, owner, deploy))
    assert deployed["execution_status"] == "SUCCEEDED", deployed
    (announced,) = [e for e in deployed["events"] if e["from_address"] == hex(udc)]
    escrow = int(announced["data"][0], 16)  # ContractDeployed(address, ...)
    payload = encode_json({"algorithm": "matrix_multiplication"})
    requirements = [1, 0, 2, 4, 600]  # min_tier, gpu_required, cpu_threads, ram_gb, seconds
    calls = [
        Call(strk, APPROVE, [escrow, AMOUNT, 0]),
        Call(
            escrow,
            CREATE_TASK,
            [int.from_bytes(b"matmul", "big"), len(payload), *payload, *requirements, AMOUNT, 0],
        ),
    ]
    receipt = send(devnet, signed_invoke(devnet, user, calls))
    assert receipt["execution_status"] == "SUCCEEDED", receipt
    return Scenario(
        devnet,
        user.address,
        escrow,
        deployed["transaction_hash"],
        receipt["transaction_hash"],
        receipt["block_number"],
    )


def _walk(call: dict[str, Any], depth: int = 1) -> Iterator[tuple[int, dict[str, Any]]]:
    yield depth, call
    for inner in call["calls"]:
        yield from _walk(inner, depth + 1)


def test_a_multicall_nests_the_escrow_and_its_token_transfer(scenario: Scenario, spec: Spec):
    devnet = scenario.devnet
    trace = rpc(devnet, "starknet_traceTransaction", [scenario.task_tx])
    spec.validate_result("starknet_traceTransaction", trace)
    execute = trace["execute_invocation"]
    strk = hex(devnet.fee_token_address)
    user, escrow = hex(scenario.user), hex(scenario.escrow)
    assert (execute["contract_address"], execute["caller_address"]) == (user, "0x0")
    assert execute["entry_point_selector"] == hex(EXECUTE)
    approve, create = execute["calls"]
    assert (approve["contract_address"], approve["entry_point_selector"]) == (strk, hex(APPROVE))
    assert (create["contract_address"], create["entry_point_selector"]) == (
        escrow,
        hex(CREATE_TASK),
    )
    assert approve["caller_address"] == create["caller_address"] == user
    assert approve["calls"] == []
    (pull,) = create["calls"]
    assert (pull["contract_address"], pull["entry_point_selector"]) == (strk, hex(TRANSFER_FROM))
    assert pull["caller_address"] == escrow
    assert pull["calldata"][:2] == [user, escrow]
    assert max(depth for depth, _ in _walk(execute)) == 3
    for _, call in _walk(execute):
        assert call["call_type"] == "CALL"
        assert call["entry_point_type"] == "EXTERNAL"
        assert call["is_reverted"] is False
        assert call["class_hash"] == rpc(
            devnet, "starknet_getClassHashAt", ["latest", call["contract_address"]]
        )
    # Each call lists its own events: the escrow's TaskCreated on the escrow, the token's
    # Approval and Transfer on the token calls, none on the account.
    assert execute["events"] == []
    assert [event["keys"][0] for event in create["events"]] == [hex(TASK_CREATED)]
    assert approve["events"]
    assert pull["events"]
    # Together, in their orders, they are the receipt's events (less the fee transfer's).
    receipt = rpc(devnet, "starknet_getTransactionReceipt", [scenario.task_tx])
    owned = sorted(
        ((event["order"], call["contract_address"], event["keys"], event["data"]))
        for _, call in _walk(execute)
        for event in call["events"]
    )
    assert [order for order, *_ in owned] == list(range(len(owned)))
    expected = [(e["from_address"], e["keys"], e["data"]) for e in receipt["events"]]
    assert [tuple(rest) for _, *rest in owned] == expected[: len(owned)]
    assert len(expected) == len(owned) + 1  # the fee transfer's Transfer comes last
    # Resources cover each call's subtree: a parent uses more than its children together.
    for _, call in _walk(execute):
        below = sum(inner["execution_resources"]["l2_gas"] for inner in call["calls"])
        assert call["execution_resources"]["l2_gas"] > below


def test_a_udc_deploy_nests_the_constructor(scenario: Scenario, spec: Spec):
    trace = rpc(scenario.devnet, "starknet_traceTransaction", [scenario.deploy_tx])
    spec.validate_result("starknet_traceTransaction", trace)
    (udc_call,) = trace["execute_invocation"]["calls"]
    assert udc_call["entry_point_selector"] == hex(DEPLOY)
    (constructor,) = udc_call["calls"]
    assert constructor["entry_point_type"] == "CONSTRUCTOR"
    assert constructor["contract_address"] == hex(scenario.escrow)
    assert constructor["caller_address"] == udc_call["contract_address"]
    assert constructor["events"], "the escrow's constructor emits EscrowInitialized"


def test_block_traces_nest_the_same(scenario: Scenario, spec: Spec):
    devnet = scenario.devnet
    traces = rpc(devnet, "starknet_traceBlockTransactions", [{"block_number": scenario.task_block}])
    spec.validate_result("starknet_traceBlockTransactions", traces)
    (entry,) = traces
    assert entry["transaction_hash"] == scenario.task_tx
    assert entry["trace_root"] == rpc(devnet, "starknet_traceTransaction", [scenario.task_tx])
    # The fee transfer is its own top-level call, made by the account.
    fee_transfer = entry["trace_root"]["fee_transfer_invocation"]
    assert fee_transfer["caller_address"] == hex(scenario.user)
    assert fee_transfer["calls"] == []


def test_nested_traces_survive_dump_and_load(scenario: Scenario, tmp_path: Path):
    devnet = scenario.devnet
    before = rpc(devnet, "starknet_traceTransaction", [scenario.task_tx])
    devnet.dump(tmp_path / "state.json")
    loaded = make_devnet(accounts=2)
    loaded.load(tmp_path / "state.json")
    assert rpc(loaded, "starknet_traceTransaction", [scenario.task_tx]) == before


def test_a_simulated_multicall_nests_the_same(scenario: Scenario, spec: Spec):
    """``starknet_simulateTransactions`` renders its traces like the trace API: nested, each
    call with its own events (the token's transfer_from under the escrow's create_task)."""
    devnet = scenario.devnet
    user = next(a for a in devnet.predeployed_accounts if a.address == scenario.user)
    approve = Call(devnet.fee_token_address, APPROVE, [scenario.escrow, AMOUNT, 0])
    wire = signed_invoke(devnet, user, [approve])
    simulated = rpc(devnet, "starknet_simulateTransactions", ["latest", [wire], []])
    spec.validate_result("starknet_simulateTransactions", simulated)
    execute = simulated[0]["transaction_trace"]["execute_invocation"]
    (inner,) = execute["calls"]
    assert inner["entry_point_selector"] == hex(APPROVE)
    assert inner["caller_address"] == hex(scenario.user)
    assert execute["events"] == []
    assert [event["order"] for event in inner["events"]] == [0]
