"""Unit tests of the Escrow contract (cairo/escrow.cairo), run in the in-process engine.

Every external function: the happy path (views, token balances, the exact events, keys and data
as raw felts) and each revert with its exact message, a revert leaving the chain state untouched
(``helpers.reverts``). Specification: docs/protocol.md.
"""

from typing import Any

import pytest

from smainer.artifacts import load_contract
from smainer.engine import Chain, EntryPointNotFoundError, ExecutionRevertedError
from smainer.engine.contract import DeployedContract
from smainer.payload import encode_json, payload_hash
from smainer.sandbox import ONE_TOKEN
from tests.cairo.conftest import DEFAULT_REQUIREMENTS, START_TIME
from tests.cairo.helpers import (
    ALICE,
    BOB,
    DEFAULT_NODE_SPEC,
    DEFAULT_PAYLOAD,
    MAX_U64,
    MAX_U256,
    NODE,
    NODE2,
    STRANGER,
    assert_events,
    assign,
    create_task,
    deploy_at,
    event_named,
    node,
    register_node,
    requirements,
    reverts,
    state_of,
    submit,
    task,
    u256,
)

FUNDS = 1000 * ONE_TOKEN
TASK_AMOUNT = 12_345_678_901_234_567
RESULT = encode_json({"exit_code": 0, "stdout": "hello\n"})
DEADLINE = START_TIME + DEFAULT_REQUIREMENTS["max_execution_time"]
OPEN, ASSIGNED, COMPLETED, CANCELLED, EXPIRED = 1, 2, 3, 4, 5
ACTIVE, INACTIVE, SUSPENDED = 1, 2, 3
NEW_OWNER = 0x0E11E
# The bound on a task's max_execution_time at deployment (7 days) and the highest bound the
# owner may set (365 days).
DEFAULT_MAX_TIME = 604_800
MAX_TIME_CAP = 31_536_000
# The sandbox's fee split (smainer.sandbox.FeeSplit), as Task.fees reads it.
DEFAULT_FEES = {"provider_bps": 9300, "gas_bps": 200, "treasury_bps": 500}
NEW_FEES = {"provider_bps": 7000, "gas_bps": 1000, "treasury_bps": 2000}


# ---------------------------------------------------------------- scenes
#
# Built once per module and restored per test (a dict copy): "ready" has ALICE and BOB funded
# (FUNDS each, approved to the escrow) and NODE registered with DEFAULT_NODE_SPEC; "open" adds
# ALICE's task 1 of TASK_AMOUNT; "assigned" assigns it to NODE at START_TIME.


@pytest.fixture(scope="module")
def scenes(_fresh_marketplace):
    market, fresh = _fresh_marketplace
    chain = market.chain
    chain.restore(fresh)
    for user in (ALICE, BOB):
        market.fund(user, FUNDS)
    register_node(market, NODE)
    ready = chain.snapshot()
    create_task(market, ALICE, TASK_AMOUNT)
    opened = chain.snapshot()
    assign(market, 1, NODE)
    return market, {"ready": ready, "open": opened, "assigned": chain.snapshot()}


def _scene(scenes, name):
    market, snapshots = scenes
    market.chain.restore(snapshots[name])
    return market


@pytest.fixture
def ready(scenes):
    return _scene(scenes, "ready")


@pytest.fixture
def opened(scenes):
    return _scene(scenes, "open")


@pytest.fixture
def assigned(scenes):
    return _scene(scenes, "assigned")


def req_felts(req: dict[str, Any]) -> list[int]:
    return [
        req["min_tier"],
        int(req["gpu_required"]),
        req["cpu_threads"],
        req["ram_gb"],
        req["max_execution_time"],
    ]


def expected_task(task_id, status, **changes):
    base = {
        "id": task_id,
        "creator": ALICE,
        "kind": 1,
        "payload_hash": payload_hash(DEFAULT_PAYLOAD),
        "requirements": dict(DEFAULT_REQUIREMENTS),
        "amount": TASK_AMOUNT,
        "fees": DEFAULT_FEES,
        "status": status,
        "node": 0,
        "created_at": START_TIME,
        "assigned_at": 0,
        "deadline": 0,
        "completed_at": 0,
        "result_hash": 0,
    }
    return {**base, **changes}


def expected_node(**changes):
    base = {
        **DEFAULT_NODE_SPEC,
        "status": ACTIVE,
        "registered_at": START_TIME,
        "last_heartbeat": 0,
        "completed_tasks": 0,
        "failed_tasks": 0,
        "earnings": 0,
    }
    return {**base, **changes}


def balance(market, user):
    return market.token.call("balance_of", account=user)


def escrowed(market):
    return market.escrow.call("escrowed_amount")


def fee_felts(fees):
    return [fees["provider_bps"], fees["gas_bps"], fees["treasury_bps"]]


def set_fees(market, fees):
    return owner_invoke(market, "set_fee_config", **fees)


def owner_invoke(market, fn, **kwargs):
    return market.escrow.invoke(fn, caller=market.roles.owner, **kwargs)


# ---------------------------------------------------------------- constructor and views


def test_deployment_views(market):
    escrow, roles, fees = market.escrow, market.roles, market.fees
    assert escrow.call("owner") == roles.owner
    assert escrow.call("pending_owner") == 0
    assert escrow.call("scheduler") == roles.scheduler
    assert escrow.call("treasury") == roles.treasury
    assert escrow.call("gas_recipient") == roles.gas_recipient
    assert escrow.call("payment_token") == market.token.address
    assert escrow.call("is_paused") is False
    assert dict(escrow.call("get_fee_config")) == {
        "provider_bps": fees.provider_bps,
        "gas_bps": fees.gas_bps,
        "treasury_bps": fees.treasury_bps,
    }
    assert escrow.call("max_execution_time") == DEFAULT_MAX_TIME
    assert escrow.call("escrowed_amount") == 0
    assert escrow.call("get_task_count") == 0
    assert escrow.call("get_user_task_count", user=ALICE) == 0
    assert escrow.call("get_user_tasks", user=ALICE, offset=0, limit=10) == []
    assert escrow.call("get_user_earnings", provider=NODE) == 0
    assert node(market, NODE) == dict.fromkeys(expected_node(), 0) | {"gpu": False}
    assert escrow.call("get_node_status", node=NODE) == 0


CONSTRUCTOR_ARGS = {
    "owner": 0x0111,
    "payment_token": 0x0222,
    "scheduler": 0x0333,
    "treasury": 0x0444,
    "gas_recipient": 0x0555,
    "provider_bps": 7000,
    "gas_bps": 1000,
    "treasury_bps": 2000,
}


def deploy_escrow(market, **changes):
    artifact = load_contract("Escrow")
    return DeployedContract.deploy(
        market.chain,
        artifact.class_hash,
        artifact.sierra,
        salt=77,
        **{**CONSTRUCTOR_ARGS, **changes},
    )


def test_constructor_emits_every_setting(market):
    escrow, deployed = deploy_escrow(market)
    a = CONSTRUCTOR_ARGS
    assert_events(
        deployed.result,
        [
            (
                escrow.address,
                "EscrowInitialized",
                [a["owner"], a["payment_token"]],
                [a["scheduler"], a["treasury"], a["gas_recipient"], 7000, 1000, 2000, 604_800],
            )
        ],
    )
    # The views agree with the event.
    for view in ("owner", "payment_token", "scheduler", "treasury", "gas_recipient"):
        assert escrow.call(view) == a[view], view
    assert dict(escrow.call("get_fee_config")) == NEW_FEES
    assert escrow.call("max_execution_time") == DEFAULT_MAX_TIME
    assert escrow.call("pending_owner") == 0
    assert escrow.call("escrowed_amount") == 0


def deploy_escrow_at(market, address, **changes):
    artifact = load_contract("Escrow")
    return deploy_at(
        market.chain,
        artifact.class_hash,
        artifact.sierra,
        address,
        **{**CONSTRUCTOR_ARGS, **changes},
    )


ESCROW_AT = 0xE5C0


def test_constructor_at_fixed_address(market):
    # deploy_escrow_at itself works: what the SELF_ADDRESS cases below revert is only the
    # address they name.
    escrow, deployed = deploy_escrow_at(market, ESCROW_AT, scheduler=ESCROW_AT)
    assert escrow.address == deployed.address == ESCROW_AT
    assert escrow.call("scheduler") == ESCROW_AT  # the scheduler has no SELF_ADDRESS rule
    assert escrow.call("treasury") == CONSTRUCTOR_ARGS["treasury"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"treasury": ESCROW_AT}, "SELF_ADDRESS"),
        ({"gas_recipient": ESCROW_AT}, "SELF_ADDRESS"),
        ({"treasury": ESCROW_AT, "gas_recipient": 0}, "SELF_ADDRESS"),
        ({"treasury": 0, "gas_recipient": ESCROW_AT}, "ZERO_ADDRESS"),
        ({"gas_recipient": ESCROW_AT, "provider_bps": 1}, "SELF_ADDRESS"),
    ],
    ids=["treasury", "gas-recipient", "treasury-first", "zero-treasury-first", "before-fees"],
)
def test_constructor_refuses_own_address(market, changes, reason):
    before = state_of(market.chain)
    with pytest.raises(ExecutionRevertedError) as e:
        deploy_escrow_at(market, ESCROW_AT, **changes)
    assert e.value.reason == reason
    assert state_of(market.chain) == before
    assert not market.chain.is_deployed(ESCROW_AT)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"owner": 0}, "ZERO_ADDRESS"),
        ({"payment_token": 0}, "ZERO_ADDRESS"),
        ({"scheduler": 0}, "ZERO_ADDRESS"),
        ({"treasury": 0}, "ZERO_ADDRESS"),
        ({"gas_recipient": 0}, "ZERO_ADDRESS"),
        ({"gas_recipient": 0, "provider_bps": 7001}, "ZERO_ADDRESS"),
        ({"provider_bps": 7001}, "INVALID_FEE_SPLIT"),
        ({"provider_bps": 6999, "treasury_bps": 2001}, "TREASURY_FEE_TOO_HIGH"),
        ({"provider_bps": 6999, "gas_bps": 1001}, "GAS_FEE_TOO_HIGH"),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, dict) else v,
)
def test_constructor_reverts(market, changes, reason):
    before = state_of(market.chain)
    with pytest.raises(ExecutionRevertedError) as e:
        deploy_escrow(market, **changes)
    assert e.value.reason == reason
    assert state_of(market.chain) == before


@pytest.mark.parametrize("task_id", [0, 2, MAX_U64])
def test_get_task_not_found(opened, task_id):
    with pytest.raises(ExecutionRevertedError) as e:
        opened.escrow.call("get_task", task_id=task_id)
    assert e.value.reason == "TASK_NOT_FOUND"
    assert task(opened, 1) == expected_task(1, OPEN)


def test_get_user_tasks_pagination(ready):
    escrow = ready.escrow
    ids = []
    for creator in (ALICE, BOB, ALICE, ALICE, BOB, ALICE, ALICE):
        task_id, _ = create_task(ready, creator, 1)
        if creator == ALICE:
            ids.append(task_id)
    assert ids == [1, 3, 4, 6, 7]
    assert escrow.call("get_task_count") == 7
    assert escrow.call("get_user_task_count", user=ALICE) == 5
    assert escrow.call("get_user_task_count", user=BOB) == 2
    assert escrow.call("get_user_tasks", user=BOB, offset=0, limit=100) == [2, 5]
    assert escrow.call("get_user_tasks", user=STRANGER, offset=0, limit=100) == []
    pages = {
        (0, 10): ids,
        (0, 5): ids,
        (0, 2): [1, 3],
        (1, 2): [3, 4],
        (3, 10): [6, 7],
        (4, 1): [7],
        (4, 0): [],
        (5, 1): [],
        (100, 5): [],
        (2, MAX_U64): [4, 6, 7],
        (MAX_U64, MAX_U64): [],
    }
    for (offset, limit), expected in pages.items():
        got = escrow.call("get_user_tasks", user=ALICE, offset=offset, limit=limit)
        assert got == expected, (offset, limit)


def test_get_user_tasks_caps_pages_at_100(ready):
    chain, escrow = ready.chain, ready.escrow
    # 150 tasks through create_task would take a minute: write the index the way create_task
    # does (checked against one real task first), then page through it.
    create_task(ready, ALICE, 1)
    assert chain.get_storage(escrow.address, Chain.storage_address("user_tasks", ALICE, 0)) == 1
    count_key = Chain.storage_address("user_task_count", ALICE)
    assert chain.get_storage(escrow.address, count_key) == 1
    for index in range(1, 150):
        key = Chain.storage_address("user_tasks", ALICE, index)
        chain.set_storage(escrow.address, key, 1000 + index)
    chain.set_storage(escrow.address, count_key, 150)
    every = [1, *range(1001, 1150)]
    # (Each id read costs ~20 ms in this VM: two full pages are enough.)
    assert escrow.call("get_user_tasks", user=ALICE, offset=30, limit=MAX_U64) == every[30:130]
    assert escrow.call("get_user_tasks", user=ALICE, offset=120, limit=100) == every[120:]
    assert escrow.call("get_user_tasks", user=ALICE, offset=149, limit=100) == [1149]
    assert escrow.call("get_user_tasks", user=ALICE, offset=150, limit=100) == []


# ---------------------------------------------------------------- create_task


def test_create_task_locks_amount_and_emits_task_created(ready):
    escrow, token = ready.escrow, ready.token
    req = requirements(min_tier=2, gpu_required=True, cpu_threads=8, ram_gb=32)
    ready.chain.advance_time(42)
    task_id, result = create_task(ready, ALICE, TASK_AMOUNT, kind=0xC0DE, **req)
    assert task_id == 1
    created_at = START_TIME + 42
    # The escrow's event first (all effects are done before the token is called), then the
    # token's events of the transfer_from.
    assert_events(
        result,
        [
            (
                escrow.address,
                "TaskCreated",
                [1, ALICE],
                [
                    0xC0DE,
                    payload_hash(DEFAULT_PAYLOAD),
                    len(DEFAULT_PAYLOAD),
                    *DEFAULT_PAYLOAD,
                    *req_felts(req),
                    *u256(TASK_AMOUNT),
                    9300,
                    200,
                    500,
                    created_at,
                ],
            ),
            (token.address, "Approval", [ALICE, escrow.address], u256(FUNDS - TASK_AMOUNT)),
            (token.address, "Transfer", [ALICE, escrow.address], u256(TASK_AMOUNT)),
        ],
    )
    assert task(ready, 1) == expected_task(
        1, OPEN, kind=0xC0DE, requirements=req, created_at=created_at
    )
    # The documented 21-felt layout of Task, as a client reads it.
    raw = ready.chain.call(escrow.address, "get_task", [1]).retdata
    assert raw == [
        1,
        ALICE,
        0xC0DE,
        payload_hash(DEFAULT_PAYLOAD),
        *req_felts(req),
        *u256(TASK_AMOUNT),
        9300,
        200,
        500,
        OPEN,
        0,
        created_at,
        0,
        0,
        0,
        0,
    ]
    assert balance(ready, ALICE) == FUNDS - TASK_AMOUNT
    assert balance(ready, escrow.address) == TASK_AMOUNT
    assert escrowed(ready) == TASK_AMOUNT
    assert escrow.call("get_task_count") == 1
    assert escrow.call("get_user_tasks", user=ALICE, offset=0, limit=10) == [1]
    # Ids grow by one across creators; the escrowed total adds up.
    second, _ = create_task(ready, BOB, 5)
    assert second == 2
    assert escrow.call("get_user_tasks", user=BOB, offset=0, limit=10) == [2]
    assert balance(ready, escrow.address) == TASK_AMOUNT + 5
    assert escrowed(ready) == TASK_AMOUNT + 5


def _word_payload(n_bytes):
    return encode_json("x" * (n_bytes - 2))  # a JSON string: two quote bytes


@pytest.mark.parametrize(
    "payload",
    [[0], [1, 0x41], [31, 7], [32, 7, 9], _word_payload(255 * 31)],
    ids=["empty-string", "one-byte", "one-full-word", "two-words", "max-256-felts"],
)
def test_create_task_accepts_valid_payloads(ready, payload):
    _, result = create_task(ready, ALICE, 1, payload=payload)
    data = event_named(result, "TaskCreated").data
    assert data[1] == payload_hash(payload)
    assert data[2 : 3 + len(payload)] == [len(payload), *payload]
    assert task(ready, 1)["payload_hash"] == payload_hash(payload)


@pytest.mark.parametrize(
    "req",
    [
        requirements(min_tier=0),
        requirements(min_tier=5, gpu_required=True, cpu_threads=2**16 - 1, ram_gb=2**16 - 1),
        requirements(max_execution_time=1),
        requirements(max_execution_time=DEFAULT_MAX_TIME),
    ],
    ids=["tier-0", "tier-5-max-specs", "one-second", "max-time"],
)
def test_create_task_accepts_requirement_bounds(ready, req):
    create_task(ready, ALICE, 1, **req)
    assert task(ready, 1)["requirements"] == req


BAD_PAYLOADS = {
    "no-felts": [],
    "missing-word": [32, 1],
    "extra-word": [31, 1, 2],
    "length-without-word": [1],
    "words-without-length": [0, 5],
    "257-felts": [256 * 31, *range(256)],
    "length-not-u32": [2**32, *range(10)],
    "length-negative": [-1 % (2**251 + 17 * 2**192 + 1), 1],
}


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ({"paused": True}, "PAUSED"),
        ({"paused": True, "amount": 0}, "PAUSED"),
        ({"amount": 0}, "ZERO_AMOUNT"),
        ({"amount": 0, "max_execution_time": 0}, "ZERO_AMOUNT"),
        ({"max_execution_time": 0}, "INVALID_EXECUTION_TIME"),
        ({"max_execution_time": 0, "min_tier": 6}, "INVALID_EXECUTION_TIME"),
        ({"max_execution_time": DEFAULT_MAX_TIME + 1}, "EXECUTION_TIME_TOO_LONG"),
        ({"max_execution_time": MAX_U64}, "EXECUTION_TIME_TOO_LONG"),
        ({"max_execution_time": MAX_TIME_CAP}, "EXECUTION_TIME_TOO_LONG"),
        ({"paused": True, "max_execution_time": MAX_U64}, "PAUSED"),
        ({"amount": 0, "max_execution_time": MAX_U64}, "ZERO_AMOUNT"),
        ({"max_execution_time": MAX_U64, "min_tier": 6, "payload": []}, "EXECUTION_TIME_TOO_LONG"),
        ({"min_tier": 6}, "INVALID_TIER"),
        ({"min_tier": 255, "payload": []}, "INVALID_TIER"),
        *[({"payload": p}, "INVALID_PAYLOAD") for p in BAD_PAYLOADS.values()],
        ({"payload": [], "amount": FUNDS + 1}, "INVALID_PAYLOAD"),
        ({"amount": FUNDS + 1}, "INSUFFICIENT_ALLOWANCE"),
        ({"creator": STRANGER}, "INSUFFICIENT_ALLOWANCE"),
        ({"creator": STRANGER, "approve_only": True}, "INSUFFICIENT_BALANCE"),
    ],
    ids=[
        "paused",
        "paused-before-zero-amount",
        "zero-amount",
        "zero-amount-before-time",
        "zero-time",
        "time-before-tier",
        "time-max-plus-1",
        "time-u64-max",
        "time-cap-over-default-max",
        "paused-before-too-long",
        "zero-amount-before-too-long",
        "too-long-before-tier",
        "tier-6",
        "tier-before-payload",
        *[f"payload-{name}" for name in BAD_PAYLOADS],
        "payload-before-token",
        "over-allowance",
        "no-allowance",
        "no-balance",
    ],
)
def test_create_task_reverts(ready, case, reason):
    case = dict(case)
    if case.pop("paused", False):
        owner_invoke(ready, "pause")
    creator = case.pop("creator", ALICE)
    if case.pop("approve_only", False):
        ready.token.invoke("approve", spender=ready.escrow.address, amount=FUNDS, caller=creator)
    amount = case.pop("amount", 1)
    with reverts(ready.chain, reason):  # no task, nothing escrowed: the state is unchanged
        create_task(ready, creator, amount, **case)


# ---------------------------------------------------------------- cancel_task


def test_cancel_task_refunds_creator(opened):
    escrow, token = opened.escrow, opened.token
    owner_invoke(opened, "pause")  # cancelling works while paused
    result = escrow.invoke("cancel_task", task_id=1, caller=ALICE)
    assert_events(
        result,
        [
            (escrow.address, "TaskCancelled", [1, ALICE], u256(TASK_AMOUNT)),
            (token.address, "Transfer", [escrow.address, ALICE], u256(TASK_AMOUNT)),
        ],
    )
    assert task(opened, 1) == expected_task(1, CANCELLED)
    assert balance(opened, ALICE) == FUNDS
    assert balance(opened, escrow.address) == 0
    assert escrowed(opened) == 0
    # Still listed among the creator's tasks.
    assert escrow.call("get_user_tasks", user=ALICE, offset=0, limit=10) == [1]


@pytest.mark.parametrize(
    ("scene", "task_id", "caller", "reason"),
    [
        ("open", 0, ALICE, "TASK_NOT_FOUND"),
        ("open", 2, ALICE, "TASK_NOT_FOUND"),
        ("open", 1, BOB, "NOT_TASK_CREATOR"),
        ("open", 1, "scheduler", "NOT_TASK_CREATOR"),
        ("open", 1, "owner", "NOT_TASK_CREATOR"),
        ("assigned", 1, BOB, "NOT_TASK_CREATOR"),
        ("assigned", 1, ALICE, "TASK_NOT_OPEN"),
        ("cancelled", 1, ALICE, "TASK_NOT_OPEN"),
        ("completed", 1, ALICE, "TASK_NOT_OPEN"),
        ("expired", 1, ALICE, "TASK_NOT_OPEN"),
    ],
)
def test_cancel_task_reverts(scenes, scene, task_id, caller, reason):
    market = _scene(scenes, "open" if scene in ("open", "cancelled") else "assigned")
    if scene == "cancelled":
        market.escrow.invoke("cancel_task", task_id=1, caller=ALICE)
    elif scene == "completed":
        submit(market, 1, NODE, RESULT)
    elif scene == "expired":
        market.chain.advance_time(DEFAULT_REQUIREMENTS["max_execution_time"] + 1)
        market.escrow.invoke("reclaim_expired", task_id=1, caller=STRANGER)
    caller = getattr(market.roles, caller) if isinstance(caller, str) else caller
    with reverts(market.chain, reason):
        market.escrow.invoke("cancel_task", task_id=task_id, caller=caller)


# ---------------------------------------------------------------- nodes


def test_register_node_new(market):
    market.chain.advance_time(5)
    result = market.escrow.invoke(
        "register_node", tier=1, gpu=False, cpu_threads=4, ram_gb=8, caller=NODE2
    )
    assert_events(
        result,
        [(market.escrow.address, "NodeRegistered", [NODE2], [1, 0, 4, 8, START_TIME + 5])],
    )
    assert node(market, NODE2) == expected_node(
        tier=1, gpu=False, cpu_threads=4, ram_gb=8, registered_at=START_TIME + 5
    )
    assert market.escrow.call("get_node_status", node=NODE2) == ACTIVE
    # The documented 11-felt layout of Node.
    raw = market.chain.call(market.escrow.address, "get_node", [NODE2]).retdata
    assert raw == [1, 0, 4, 8, ACTIVE, START_TIME + 5, 0, 0, 0, 0, 0]


def test_register_node_update_keeps_history(assigned):
    escrow = assigned.escrow
    assigned.chain.advance_time(100)
    escrow.invoke("heartbeat", caller=NODE)
    submit(assigned, 1, NODE, RESULT)  # completed_tasks 1, earnings
    task_id, _ = create_task(assigned, ALICE, 1)
    assign(assigned, task_id, NODE)
    assigned.chain.advance_time(DEFAULT_REQUIREMENTS["max_execution_time"] + 1)
    escrow.invoke("reclaim_expired", task_id=task_id, caller=ALICE)  # failed_tasks 1
    history = {
        "status": ACTIVE,
        "registered_at": START_TIME,
        "last_heartbeat": START_TIME + 100,
        "completed_tasks": 1,
        "failed_tasks": 1,
        "earnings": split(TASK_AMOUNT, 200, 500)[0],
    }
    assert node(assigned, NODE) == DEFAULT_NODE_SPEC | history
    # An update from Active, then one from Inactive: new spec, same history, Active.
    for spec in (
        {"tier": 5, "gpu": False, "cpu_threads": 1, "ram_gb": 2},
        {"tier": 1, "gpu": True, "cpu_threads": 2**16 - 1, "ram_gb": 2**16 - 1},
    ):
        result = escrow.invoke("register_node", caller=NODE, **spec)
        assert_events(
            result,
            [(escrow.address, "NodeRegistered", [NODE], [*map(int, spec.values()), START_TIME])],
        )
        assert node(assigned, NODE) == spec | history
        escrow.invoke("deactivate_node", caller=NODE)
        assert node(assigned, NODE)["status"] == INACTIVE


@pytest.mark.parametrize(
    ("tier", "suspended", "reason"),
    [
        (0, False, "INVALID_TIER"),
        (6, False, "INVALID_TIER"),
        (3, True, "NODE_SUSPENDED"),
        (0, True, "INVALID_TIER"),
    ],
    ids=["tier-0", "tier-6", "suspended", "tier-before-suspended"],
)
def test_register_node_reverts(ready, tier, suspended, reason):
    if suspended:
        owner_invoke(ready, "suspend_node", node=NODE)
    with reverts(ready.chain, reason):
        register_node(ready, NODE, tier=tier)
    if not suspended:  # a new node is refused too (and stays unregistered: state unchanged)
        with reverts(ready.chain, reason):
            register_node(ready, NODE2, tier=tier)


def test_deactivate_node(ready):
    result = ready.escrow.invoke("deactivate_node", caller=NODE)
    assert_events(result, [(ready.escrow.address, "NodeDeactivated", [NODE], [])])
    assert node(ready, NODE) == expected_node(status=INACTIVE)


@pytest.mark.parametrize("state", ["unregistered", "inactive", "suspended"])
def test_deactivate_node_reverts(ready, state):
    who = NODE2 if state == "unregistered" else NODE
    if state == "inactive":
        ready.escrow.invoke("deactivate_node", caller=NODE)
    elif state == "suspended":
        owner_invoke(ready, "suspend_node", node=NODE)
    with reverts(ready.chain, "NODE_NOT_ACTIVE"):
        ready.escrow.invoke("deactivate_node", caller=who)


@pytest.mark.parametrize("inactive", [False, True], ids=["active", "inactive"])
def test_heartbeat_records_block_timestamp(ready, inactive):
    escrow = ready.escrow
    if inactive:
        escrow.invoke("deactivate_node", caller=NODE)
    for timestamp in (START_TIME + 60, START_TIME + 61, START_TIME + 10_000):
        ready.chain.set_block(timestamp=timestamp)
        result = escrow.invoke("heartbeat", caller=NODE)
        assert_events(result, [(escrow.address, "NodeHeartbeat", [NODE], [timestamp])])
        assert node(ready, NODE)["last_heartbeat"] == timestamp
    assert node(ready, NODE)["status"] == (INACTIVE if inactive else ACTIVE)


@pytest.mark.parametrize(
    ("who", "reason"), [(NODE2, "NODE_NOT_REGISTERED"), (NODE, "NODE_SUSPENDED")]
)
def test_heartbeat_reverts(ready, who, reason):
    owner_invoke(ready, "suspend_node", node=NODE)
    ready.chain.advance_time(10)
    with reverts(ready.chain, reason):
        ready.escrow.invoke("heartbeat", caller=who)


@pytest.mark.parametrize("status", [ACTIVE, INACTIVE], ids=["active", "inactive"])
def test_suspend_and_reinstate_node_restores_status(opened, status):
    escrow = opened.escrow
    if status == INACTIVE:
        escrow.invoke("deactivate_node", caller=NODE)
    result = owner_invoke(opened, "suspend_node", node=NODE)
    assert_events(result, [(escrow.address, "NodeSuspended", [NODE], [])])
    assert node(opened, NODE) == expected_node(status=SUSPENDED)
    result = owner_invoke(opened, "reinstate_node", node=NODE)
    # The node gets back the status it had when suspended, and the event says which.
    assert_events(result, [(escrow.address, "NodeReinstated", [NODE], [status])])
    assert node(opened, NODE) == expected_node(status=status)
    assert escrow.call("get_node_status", node=NODE) == status
    if status == INACTIVE:  # still out of the assignment pool until it registers again
        with reverts(opened.chain, "NODE_NOT_ACTIVE"):
            assign(opened, 1, NODE)
        register_node(opened, NODE)
    assign(opened, 1, NODE)


def test_reinstate_restores_status_of_latest_suspension(ready):
    escrow = ready.escrow
    # Active -> suspended -> Active; then Inactive -> suspended -> Inactive; then Active again.
    for status, before_suspension in ((ACTIVE, None), (INACTIVE, "deactivate"), (ACTIVE, "reg")):
        if before_suspension == "deactivate":
            escrow.invoke("deactivate_node", caller=NODE)
        elif before_suspension == "reg":
            register_node(ready, NODE)
        assert node(ready, NODE)["status"] == status
        owner_invoke(ready, "suspend_node", node=NODE)
        result = owner_invoke(ready, "reinstate_node", node=NODE)
        assert_events(result, [(escrow.address, "NodeReinstated", [NODE], [status])])
        assert node(ready, NODE)["status"] == status


@pytest.mark.parametrize(
    ("fn", "target", "reason"),
    [
        ("suspend_node", NODE2, "NODE_NOT_REGISTERED"),
        ("suspend_node", NODE, "NODE_ALREADY_SUSPENDED"),
        ("reinstate_node", NODE2, "NODE_NOT_SUSPENDED"),
        ("reinstate_node", "active", "NODE_NOT_SUSPENDED"),
        ("reinstate_node", "inactive", "NODE_NOT_SUSPENDED"),
    ],
)
def test_suspend_reinstate_reverts(ready, fn, target, reason):
    if target == NODE:
        owner_invoke(ready, "suspend_node", node=NODE)
    elif target == "inactive":
        ready.escrow.invoke("deactivate_node", caller=NODE)
    target = NODE if isinstance(target, str) else target
    with reverts(ready.chain, reason):
        owner_invoke(ready, fn, node=target)


# ---------------------------------------------------------------- assign_task


def test_assign_task(opened):
    escrow = opened.escrow
    opened.chain.advance_time(7)
    result = assign(opened, 1, NODE)
    assert_events(
        result,
        [(escrow.address, "TaskAssigned", [1, NODE, ALICE], [START_TIME + 7, DEADLINE + 7])],
    )
    assert task(opened, 1) == expected_task(
        1, ASSIGNED, node=NODE, assigned_at=START_TIME + 7, deadline=DEADLINE + 7
    )
    assert balance(opened, escrow.address) == TASK_AMOUNT  # nothing moves yet
    assert escrowed(opened) == TASK_AMOUNT  # still owed


@pytest.mark.parametrize(
    ("req", "spec"),
    [
        ({"min_tier": 0}, {"tier": 1, "gpu": False, "cpu_threads": 2, "ram_gb": 4}),
        (
            {"min_tier": 4, "gpu_required": True, "cpu_threads": 12, "ram_gb": 48},
            {"tier": 4, "gpu": True, "cpu_threads": 12, "ram_gb": 48},
        ),
        ({"gpu_required": False}, {"gpu": True}),
    ],
    ids=["any-tier", "exactly-met", "gpu-not-required"],
)
def test_assign_task_requirements_met(ready, req, spec):
    task_id, _ = create_task(ready, ALICE, 1, **req)
    register_node(ready, NODE2, **spec)
    assign(ready, task_id, NODE2)
    assert task(ready, task_id)["node"] == NODE2


@pytest.mark.parametrize("bound", [DEFAULT_MAX_TIME, MAX_TIME_CAP], ids=["7-days", "365-days"])
def test_longest_execution_time_gives_reachable_deadline(ready, bound):
    escrow, token = ready.escrow, ready.token
    if bound != DEFAULT_MAX_TIME:
        owner_invoke(ready, "set_max_execution_time", seconds=bound)
    create_task(ready, ALICE, TASK_AMOUNT, max_execution_time=bound)
    ready.chain.advance_time(11)
    assigned_at = START_TIME + 11
    result = assign(ready, 1, NODE)
    deadline = assigned_at + bound
    assert_events(
        result, [(escrow.address, "TaskAssigned", [1, NODE, ALICE], [assigned_at, deadline])]
    )
    assert task(ready, 1)["deadline"] == deadline
    # At the deadline the task is still the node's; one second later anyone can reclaim it.
    ready.chain.set_block(timestamp=deadline)
    with reverts(ready.chain, "TASK_NOT_EXPIRED"):
        escrow.invoke("reclaim_expired", task_id=1, caller=STRANGER)
    ready.chain.set_block(timestamp=deadline + 1)
    result = escrow.invoke("reclaim_expired", task_id=1, caller=STRANGER)
    assert_events(
        result,
        [
            (escrow.address, "TaskExpired", [1, NODE, ALICE], u256(TASK_AMOUNT)),
            (token.address, "Transfer", [escrow.address, ALICE], u256(TASK_AMOUNT)),
        ],
    )
    assert task(ready, 1)["status"] == EXPIRED
    assert balance(ready, ALICE) == FUNDS
    assert escrowed(ready) == 0


def test_lowered_bound_does_not_shorten_existing_tasks(ready):
    create_task(ready, ALICE, 1, max_execution_time=DEFAULT_MAX_TIME)
    owner_invoke(ready, "set_max_execution_time", seconds=60)
    result = assign(ready, 1, NODE)
    assert event_named(result, "TaskAssigned").data == [START_TIME, START_TIME + DEFAULT_MAX_TIME]
    assert task(ready, 1)["requirements"]["max_execution_time"] == DEFAULT_MAX_TIME


# Node NODE2 is (tier 2, no gpu, 8 threads, 16 GB); each case lists the task requirements.
WEAK_NODE = {"tier": 2, "gpu": False, "cpu_threads": 8, "ram_gb": 16}


@pytest.mark.parametrize(
    ("req", "reason"),
    [
        ({"min_tier": 3}, "NODE_TIER_TOO_LOW"),
        ({"min_tier": 3, "gpu_required": True}, "NODE_TIER_TOO_LOW"),
        ({"gpu_required": True}, "GPU_REQUIRED"),
        ({"gpu_required": True, "cpu_threads": 9}, "GPU_REQUIRED"),
        ({"cpu_threads": 9}, "NOT_ENOUGH_CPU"),
        ({"cpu_threads": 9, "ram_gb": 17}, "NOT_ENOUGH_CPU"),
        ({"ram_gb": 17}, "NOT_ENOUGH_RAM"),
    ],
    ids=lambda v: "-".join(f"{k}" for k in v) if isinstance(v, dict) else v,
)
def test_assign_task_requirement_mismatch(ready, req, reason):
    task_id, _ = create_task(
        ready, ALICE, 1, **{"min_tier": 2, "cpu_threads": 8, "ram_gb": 16, **req}
    )
    register_node(ready, NODE2, **WEAK_NODE)
    with reverts(ready.chain, reason):
        assign(ready, task_id, NODE2)


@pytest.mark.parametrize(
    ("setup", "task_id", "who", "caller", "reason"),
    [
        ((), 1, NODE, "owner", "NOT_SCHEDULER"),
        ((), 1, NODE, ALICE, "NOT_SCHEDULER"),
        (("pause",), 1, NODE, NODE, "NOT_SCHEDULER"),
        (("pause",), 1, NODE, "scheduler", "PAUSED"),
        (("pause",), 9, NODE, "scheduler", "PAUSED"),
        ((), 0, NODE, "scheduler", "TASK_NOT_FOUND"),
        ((), 2, NODE2, "scheduler", "TASK_NOT_FOUND"),
        (("assign",), 1, NODE, "scheduler", "TASK_NOT_OPEN"),
        (("assign",), 1, NODE2, "scheduler", "TASK_NOT_OPEN"),
        (("cancel",), 1, NODE, "scheduler", "TASK_NOT_OPEN"),
        ((), 1, NODE2, "scheduler", "NODE_NOT_ACTIVE"),
        ((), 1, 0, "scheduler", "NODE_NOT_ACTIVE"),
        (("deactivate",), 1, NODE, "scheduler", "NODE_NOT_ACTIVE"),
        (("suspend",), 1, NODE, "scheduler", "NODE_NOT_ACTIVE"),
    ],
    ids=[
        "owner",
        "creator",
        "not-scheduler-before-paused",
        "paused",
        "paused-before-not-found",
        "id-0",
        "id-2",
        "assigned",
        "assigned-other-node",
        "cancelled",
        "unregistered-node",
        "zero-node",
        "inactive-node",
        "suspended-node",
    ],
)
def test_assign_task_reverts(opened, setup, task_id, who, caller, reason):
    escrow = opened.escrow
    for step in setup:
        if step == "pause":
            owner_invoke(opened, "pause")
        elif step == "assign":
            assign(opened, 1, NODE)
        elif step == "cancel":
            escrow.invoke("cancel_task", task_id=1, caller=ALICE)
        elif step == "deactivate":
            escrow.invoke("deactivate_node", caller=NODE)
        elif step == "suspend":
            owner_invoke(opened, "suspend_node", node=NODE)
    caller = getattr(opened.roles, caller) if isinstance(caller, str) else caller
    with reverts(opened.chain, reason):
        escrow.invoke("assign_task", task_id=task_id, node=who, caller=caller)


# ---------------------------------------------------------------- submit_proof_and_claim


def split(amount, gas_bps, treasury_bps):
    gas, treasury = amount * gas_bps // 10000, amount * treasury_bps // 10000
    return amount - gas - treasury, gas, treasury


def claim_and_check(market, amount, result_felts, expected_split, fees=DEFAULT_FEES):
    """Create, assign and claim a task of ``amount`` (created under the fee split ``fees``);
    check payouts, events and state."""
    escrow, token, roles = market.escrow, market.token, market.roles
    market.fund(BOB, amount)
    start = market.chain.block.timestamp
    task_id, created = create_task(market, BOB, amount)
    assert event_named(created, "TaskCreated").data[-4:-1] == fee_felts(fees)
    assign(market, task_id, NODE)
    market.chain.advance_time(1800)
    payees = (NODE, roles.gas_recipient, roles.treasury, escrow.address)
    before = {who: balance(market, who) for who in payees}
    owed = escrowed(market)
    history = node(market, NODE)
    result = submit(market, task_id, NODE, result_felts)

    provider, gas, treasury = expected_split
    payouts = [(NODE, provider), (roles.gas_recipient, gas), (roles.treasury, treasury)]
    assert_events(
        result,
        [
            (
                escrow.address,
                "TaskCompleted",
                [task_id, NODE, BOB],
                [
                    payload_hash(result_felts),
                    len(result_felts),
                    *result_felts,
                    *u256(provider),
                    *u256(gas),
                    *u256(treasury),
                    start + 1800,
                ],
            ),
            *[
                (token.address, "Transfer", [escrow.address, who], u256(value))
                for who, value in payouts
                if value  # zero parts are not transferred
            ],
        ],
    )
    for who, value in payouts:
        assert balance(market, who) == before[who] + value
    # Exactly the task's amount left the escrow and is no longer owed.
    assert balance(market, escrow.address) == before[escrow.address] - amount
    assert escrowed(market) == owed - amount
    assert escrow.call("get_user_earnings", provider=NODE) == history["earnings"] + provider
    assert node(market, NODE) == history | {
        "completed_tasks": history["completed_tasks"] + 1,
        "earnings": history["earnings"] + provider,
    }
    assert task(market, task_id) == expected_task(
        task_id,
        COMPLETED,
        creator=BOB,
        amount=amount,
        fees=fees,
        node=NODE,
        created_at=start,
        assigned_at=start,
        deadline=start + DEFAULT_REQUIREMENTS["max_execution_time"],
        completed_at=start + 1800,
        result_hash=payload_hash(result_felts),
    )
    return task_id


AMOUNTS = {
    "1": 1,
    "19": 19,
    "20": 20,
    "9999": 9_999,
    "10000": 10_000,
    "10001": 10_001,
    "1.2e16": 12_345_678_901_234_567,
    "2^255-1": 2**255 - 1,
    "2^256-1": MAX_U256,
}


@pytest.mark.parametrize("amount", AMOUNTS.values(), ids=AMOUNTS.keys())
def test_submit_splits_amount_default_fees(market, amount):
    register_node(market, NODE)
    claim_and_check(market, amount, RESULT, split(amount, 200, 500))


# The worked examples of docs/protocol.md (split 8500 / 500 / 1000), literally.
@pytest.mark.parametrize(
    ("amount", "provider", "gas", "treasury"),
    [
        (
            12_345_678_901_234_567,
            10_493_827_066_049_383,
            617_283_945_061_728,
            1_234_567_890_123_456,
        ),
        (1_999, 1_701, 99, 199),
        (19, 18, 0, 1),
    ],
)
def test_submit_split_matches_documented_examples(market, amount, provider, gas, treasury):
    fees = {"provider_bps": 8500, "gas_bps": 500, "treasury_bps": 1000}
    set_fees(market, fees)
    register_node(market, NODE)
    claim_and_check(market, amount, RESULT, (provider, gas, treasury), fees)


def test_fee_terms_fixed_at_creation(assigned):
    escrow, roles = assigned.escrow, assigned.roles
    # Task 1 was created under the default split; the owner changes the split twice.
    set_fees(assigned, NEW_FEES)
    assert dict(escrow.call("get_fee_config")) == NEW_FEES
    assert task(assigned, 1)["fees"] == DEFAULT_FEES
    # A task created now gets the new split, and its claim pays by it.
    claim_and_check(assigned, 10**18 + 3, RESULT, split(10**18 + 3, 1000, 2000), NEW_FEES)
    set_fees(assigned, {"provider_bps": 10000, "gas_bps": 0, "treasury_bps": 0})
    # Task 1's claim still pays by the split it was created with.
    gas_before = balance(assigned, roles.gas_recipient)
    treasury_before = balance(assigned, roles.treasury)
    earned = escrow.call("get_user_earnings", provider=NODE)
    result = submit(assigned, 1, NODE, [])
    provider, gas, treasury = split(TASK_AMOUNT, 200, 500)
    assert event_named(result, "TaskCompleted").data == [
        payload_hash([]),
        0,
        *u256(provider),
        *u256(gas),
        *u256(treasury),
        START_TIME + 1800,
    ]
    assert balance(assigned, roles.gas_recipient) == gas_before + gas
    assert balance(assigned, roles.treasury) == treasury_before + treasury
    assert task(assigned, 1)["fees"] == DEFAULT_FEES
    # Earnings and completed tasks add up over both tasks.
    assert escrow.call("get_user_earnings", provider=NODE) == earned + provider
    assert node(assigned, NODE)["completed_tasks"] == 2
    assert escrowed(assigned) == 0


@pytest.mark.parametrize(
    "change",
    ["pause", "deactivate", "suspend", "max-result", "at-deadline"],
)
def test_submit_succeeds(assigned, change):
    result_felts = RESULT
    if change == "pause":
        owner_invoke(assigned, "pause")
    elif change == "deactivate":
        assigned.escrow.invoke("deactivate_node", caller=NODE)
    elif change == "suspend":
        owner_invoke(assigned, "suspend_node", node=NODE)
    elif change == "max-result":
        result_felts = list(range(256))
    assigned.chain.set_block(timestamp=DEADLINE)  # the deadline itself is still in time
    result = submit(assigned, 1, NODE, result_felts)
    assert event_named(result, "TaskCompleted").data[1 : 2 + len(result_felts)] == [
        len(result_felts),
        *result_felts,
    ]
    assert task(assigned, 1)["status"] == COMPLETED
    assert task(assigned, 1)["completed_at"] == DEADLINE
    assert balance(assigned, NODE) == split(TASK_AMOUNT, 200, 500)[0]


@pytest.mark.parametrize(
    ("scene", "task_id", "caller", "time", "result_felts", "hash_of", "reason"),
    [
        ("assigned", 0, NODE, 0, RESULT, RESULT, "TASK_NOT_FOUND"),
        ("assigned", 2, NODE, 0, RESULT, RESULT, "TASK_NOT_FOUND"),
        ("open", 1, NODE, 0, RESULT, RESULT, "TASK_NOT_ASSIGNED"),
        ("cancelled", 1, NODE, 0, RESULT, RESULT, "TASK_NOT_ASSIGNED"),
        ("completed", 1, NODE, 0, RESULT, RESULT, "TASK_NOT_ASSIGNED"),
        ("expired", 1, NODE, 0, RESULT, RESULT, "TASK_NOT_ASSIGNED"),
        ("assigned", 1, NODE2, 0, RESULT, RESULT, "NOT_ASSIGNED_NODE"),
        ("assigned", 1, ALICE, 0, RESULT, RESULT, "NOT_ASSIGNED_NODE"),
        ("assigned", 1, "scheduler", 0, RESULT, RESULT, "NOT_ASSIGNED_NODE"),
        ("assigned", 1, NODE2, DEADLINE + 1, RESULT, RESULT, "NOT_ASSIGNED_NODE"),
        ("assigned", 1, NODE, DEADLINE + 1, RESULT, RESULT, "TASK_EXPIRED"),
        ("assigned", 1, NODE, DEADLINE + 1, list(range(257)), RESULT, "TASK_EXPIRED"),
        ("assigned", 1, NODE, 0, list(range(257)), list(range(257)), "RESULT_TOO_LONG"),
        ("assigned", 1, NODE, 0, list(range(257)), RESULT, "RESULT_TOO_LONG"),
        ("assigned", 1, NODE, 0, RESULT, RESULT[:-1], "RESULT_HASH_MISMATCH"),
        ("assigned", 1, NODE, 0, [], [0], "RESULT_HASH_MISMATCH"),
        ("assigned", 1, NODE, 0, RESULT, "zero", "RESULT_HASH_MISMATCH"),
    ],
    ids=[
        "id-0",
        "id-2",
        "open",
        "cancelled",
        "completed-twice",
        "expired",
        "other-node",
        "creator",
        "scheduler",
        "other-node-before-expired",
        "just-after-deadline",
        "expired-before-too-long",
        "257-felts",
        "too-long-before-hash",
        "hash-of-other-result",
        "hash-of-other-empty",
        "zero-hash",
    ],
)
def test_submit_reverts(scenes, scene, task_id, caller, time, result_felts, hash_of, reason):
    market = _scene(scenes, "open" if scene in ("open", "cancelled") else "assigned")
    if scene == "cancelled":
        market.escrow.invoke("cancel_task", task_id=1, caller=ALICE)
    elif scene == "completed":
        submit(market, 1, NODE, RESULT)
    elif scene == "expired":
        market.chain.set_block(timestamp=DEADLINE + 1)
        market.escrow.invoke("reclaim_expired", task_id=1, caller=STRANGER)
    register_node(market, NODE2)
    if time:
        market.chain.set_block(timestamp=time)
    caller = getattr(market.roles, caller) if isinstance(caller, str) else caller
    result_hash = 0 if hash_of == "zero" else payload_hash(hash_of)
    with reverts(market.chain, reason):
        market.escrow.invoke(
            "submit_proof_and_claim",
            task_id=task_id,
            result_hash=result_hash,
            result=result_felts,
            caller=caller,
        )


# ---------------------------------------------------------------- reclaim_expired


@pytest.mark.parametrize(
    "caller", [STRANGER, ALICE, NODE, 0], ids=["anyone", "creator", "node", "zero"]
)
def test_reclaim_expired_refunds_creator(assigned, caller):
    escrow, token = assigned.escrow, assigned.token
    owner_invoke(assigned, "pause")  # works while paused
    assigned.chain.set_block(timestamp=DEADLINE + 1)
    result = escrow.invoke("reclaim_expired", task_id=1, caller=caller)
    assert_events(
        result,
        [
            (escrow.address, "TaskExpired", [1, NODE, ALICE], u256(TASK_AMOUNT)),
            (token.address, "Transfer", [escrow.address, ALICE], u256(TASK_AMOUNT)),
        ],
    )
    assert task(assigned, 1) == expected_task(
        1, EXPIRED, node=NODE, assigned_at=START_TIME, deadline=DEADLINE
    )
    assert node(assigned, NODE) == expected_node(failed_tasks=1)
    assert balance(assigned, ALICE) == FUNDS
    assert balance(assigned, escrow.address) == 0
    assert balance(assigned, NODE) == 0
    assert escrowed(assigned) == 0


@pytest.mark.parametrize(
    ("scene", "task_id", "time", "reason"),
    [
        ("assigned", 1, START_TIME, "TASK_NOT_EXPIRED"),
        ("assigned", 1, DEADLINE, "TASK_NOT_EXPIRED"),
        ("assigned", 0, DEADLINE + 1, "TASK_NOT_FOUND"),
        ("assigned", 2, DEADLINE + 1, "TASK_NOT_FOUND"),
        ("open", 1, DEADLINE + 1, "TASK_NOT_ASSIGNED"),
        ("cancelled", 1, DEADLINE + 1, "TASK_NOT_ASSIGNED"),
        ("completed", 1, DEADLINE + 1, "TASK_NOT_ASSIGNED"),
        ("expired", 1, DEADLINE + 1, "TASK_NOT_ASSIGNED"),
    ],
    ids=[
        "right-away",
        "at-deadline",
        "id-0",
        "id-2",
        "open",
        "cancelled",
        "completed",
        "expired-twice",
    ],
)
def test_reclaim_expired_reverts(scenes, scene, task_id, time, reason):
    market = _scene(scenes, "open" if scene in ("open", "cancelled") else "assigned")
    if scene == "cancelled":
        market.escrow.invoke("cancel_task", task_id=1, caller=ALICE)
    elif scene == "completed":
        submit(market, 1, NODE, RESULT)
    market.chain.set_block(timestamp=time)
    if scene == "expired":
        market.escrow.invoke("reclaim_expired", task_id=1, caller=STRANGER)
    with reverts(market.chain, reason):
        market.escrow.invoke("reclaim_expired", task_id=task_id, caller=STRANGER)


# ---------------------------------------------------------------- administration

OWNER_ONLY = [
    ("suspend_node", {"node": NODE}),
    ("reinstate_node", {"node": NODE}),
    ("set_scheduler", {"new_scheduler": STRANGER}),
    ("set_treasury", {"new_treasury": STRANGER}),
    ("set_gas_recipient", {"new_gas_recipient": STRANGER}),
    ("set_fee_config", {"provider_bps": 9000, "gas_bps": 500, "treasury_bps": 500}),
    ("set_max_execution_time", {"seconds": 3600}),
    ("set_max_execution_time", {"seconds": 0}),  # NOT_OWNER before INVALID_EXECUTION_TIME
    ("rescue_tokens", {"token": "payment", "to": STRANGER, "amount": 1}),
    ("rescue_tokens", {"token": "payment", "to": 0, "amount": 0}),  # before ZERO_ADDRESS
    ("pause", {}),
    ("unpause", {}),
    ("transfer_ownership", {"new_owner": STRANGER}),
    ("upgrade", {"new_class_hash": "token"}),
]


@pytest.mark.parametrize(
    ("fn", "kwargs"), OWNER_ONLY, ids=[f"{fn}-{i}" for i, (fn, _) in enumerate(OWNER_ONLY)]
)
@pytest.mark.parametrize("caller", ["scheduler", STRANGER], ids=["scheduler", "stranger"])
def test_owner_only(ready, fn, kwargs, caller):
    placeholders = {"token": load_contract("Token").class_hash, "payment": ready.token.address}
    kwargs = {k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    if fn == "rescue_tokens":  # a surplus the owner could rescue
        ready.token.invoke(
            "mint", recipient=ready.escrow.address, amount=5, caller=ready.roles.owner
        )
    caller = getattr(ready.roles, caller) if isinstance(caller, str) else caller
    with reverts(ready.chain, "NOT_OWNER"):
        ready.escrow.invoke(fn, caller=caller, **kwargs)


ADDRESS_SETTERS = [
    ("set_scheduler", "new_scheduler", "scheduler", "SchedulerUpdated"),
    ("set_treasury", "new_treasury", "treasury", "TreasuryUpdated"),
    ("set_gas_recipient", "new_gas_recipient", "gas_recipient", "GasRecipientUpdated"),
]


@pytest.mark.parametrize(
    ("fn", "arg", "view", "event"), ADDRESS_SETTERS, ids=[s[0] for s in ADDRESS_SETTERS]
)
def test_address_setters(market, fn, arg, view, event):
    old = getattr(market.roles, view)
    result = owner_invoke(market, fn, **{arg: STRANGER})
    assert_events(result, [(market.escrow.address, event, [old, STRANGER], [])])
    assert market.escrow.call(view) == STRANGER
    with reverts(market.chain, "ZERO_ADDRESS"):
        owner_invoke(market, fn, **{arg: 0})
    with reverts(market.chain, "NOT_OWNER"):
        market.escrow.invoke(fn, caller=STRANGER, **{arg: 0})


@pytest.mark.parametrize(
    ("fn", "arg"),
    [("set_treasury", "new_treasury"), ("set_gas_recipient", "new_gas_recipient")],
    ids=["treasury", "gas-recipient"],
)
def test_payee_setters_refuse_own_address(market, fn, arg):
    escrow = market.escrow
    with reverts(market.chain, "SELF_ADDRESS"):
        owner_invoke(market, fn, **{arg: escrow.address})
    with reverts(market.chain, "NOT_OWNER"):
        escrow.invoke(fn, caller=STRANGER, **{arg: escrow.address})
    # Any other non-zero address is accepted, the token's included.
    owner_invoke(market, fn, **{arg: market.token.address})
    assert escrow.call(fn.removeprefix("set_")) == market.token.address


def test_new_scheduler_assigns_and_new_recipients_are_paid(opened):
    roles = opened.roles
    owner_invoke(opened, "set_scheduler", new_scheduler=STRANGER)
    owner_invoke(opened, "set_treasury", new_treasury=0x7EA52)
    owner_invoke(opened, "set_gas_recipient", new_gas_recipient=0x6A52)
    with reverts(opened.chain, "NOT_SCHEDULER"):
        assign(opened, 1, NODE)
    opened.escrow.invoke("assign_task", task_id=1, node=NODE, caller=STRANGER)
    submit(opened, 1, NODE, RESULT)
    _, gas, treasury = split(TASK_AMOUNT, 200, 500)
    assert balance(opened, 0x7EA52) == treasury
    assert balance(opened, 0x6A52) == gas
    assert balance(opened, roles.treasury) == balance(opened, roles.gas_recipient) == 0


@pytest.mark.parametrize(
    "fees", [(7000, 1000, 2000), (10000, 0, 0), (8000, 0, 2000), (9000, 1000, 0)]
)
def test_set_fee_config(market, fees):
    result = owner_invoke(
        market, "set_fee_config", provider_bps=fees[0], gas_bps=fees[1], treasury_bps=fees[2]
    )
    assert_events(result, [(market.escrow.address, "FeeConfigUpdated", [], list(fees))])
    as_dict = dict(zip(("provider_bps", "gas_bps", "treasury_bps"), fees, strict=True))
    assert dict(market.escrow.call("get_fee_config")) == as_dict
    # The next task is created under it.
    market.fund(ALICE, 10)
    _, created = create_task(market, ALICE, 10)
    assert event_named(created, "TaskCreated").data[-4:-1] == list(fees)
    assert task(market, 1)["fees"] == as_dict


@pytest.mark.parametrize(
    ("fees", "reason"),
    [
        ((9300, 200, 501), "INVALID_FEE_SPLIT"),
        ((9300, 199, 500), "INVALID_FEE_SPLIT"),
        ((0, 0, 0), "INVALID_FEE_SPLIT"),
        ((65535, 65535, 65535), "INVALID_FEE_SPLIT"),
        ((65535, 10001, 0), "INVALID_FEE_SPLIT"),  # 10000 modulo 2**16: summed without wrap
        ((7000, 1001, 2001), "INVALID_FEE_SPLIT"),
        ((7999, 0, 2001), "TREASURY_FEE_TOO_HIGH"),
        ((6899, 1100, 2001), "TREASURY_FEE_TOO_HIGH"),
        ((8999, 1001, 0), "GAS_FEE_TOO_HIGH"),
        ((0, 10000, 0), "GAS_FEE_TOO_HIGH"),
    ],
)
def test_set_fee_config_reverts(market, fees, reason):
    with reverts(market.chain, reason):
        owner_invoke(
            market, "set_fee_config", provider_bps=fees[0], gas_bps=fees[1], treasury_bps=fees[2]
        )


# ---------------------------------------------------------------- max execution time


@pytest.mark.parametrize("seconds", [1, 3600, DEFAULT_MAX_TIME + 1, MAX_TIME_CAP])
def test_set_max_execution_time(market, seconds):
    escrow = market.escrow
    result = owner_invoke(market, "set_max_execution_time", seconds=seconds)
    assert_events(
        result, [(escrow.address, "MaxExecutionTimeUpdated", [], [DEFAULT_MAX_TIME, seconds])]
    )
    assert escrow.call("max_execution_time") == seconds
    # The next change reports this value as the old one.
    result = owner_invoke(market, "set_max_execution_time", seconds=77)
    assert_events(result, [(escrow.address, "MaxExecutionTimeUpdated", [], [seconds, 77])])
    assert escrow.call("max_execution_time") == 77


@pytest.mark.parametrize(
    ("seconds", "reason"),
    [
        (0, "INVALID_EXECUTION_TIME"),
        (MAX_TIME_CAP + 1, "EXECUTION_TIME_TOO_LONG"),
        (MAX_U64, "EXECUTION_TIME_TOO_LONG"),
    ],
    ids=["zero", "cap-plus-1", "u64-max"],
)
def test_set_max_execution_time_reverts(market, seconds, reason):
    with reverts(market.chain, reason):
        owner_invoke(market, "set_max_execution_time", seconds=seconds)


def test_max_execution_time_bounds_create_task(ready):
    def create(seconds):
        return create_task(ready, ALICE, 1, max_execution_time=seconds)

    # At deployment: exactly the bound passes, one second more fails.
    with reverts(ready.chain, "EXECUTION_TIME_TOO_LONG"):
        create(DEFAULT_MAX_TIME + 1)
    create(DEFAULT_MAX_TIME)
    # Lowered: the old bound fails now, the new one passes.
    owner_invoke(ready, "set_max_execution_time", seconds=3600)
    for seconds in (3601, DEFAULT_MAX_TIME):
        with reverts(ready.chain, "EXECUTION_TIME_TOO_LONG"):
            create(seconds)
    create(3600)
    # Raised to the cap: the cap passes, one second more fails.
    owner_invoke(ready, "set_max_execution_time", seconds=MAX_TIME_CAP)
    with reverts(ready.chain, "EXECUTION_TIME_TOO_LONG"):
        create(MAX_TIME_CAP + 1)
    create(DEFAULT_MAX_TIME + 1)
    create(MAX_TIME_CAP)
    times = [task(ready, i)["requirements"]["max_execution_time"] for i in range(1, 5)]
    assert times == [DEFAULT_MAX_TIME, 3600, DEFAULT_MAX_TIME + 1, MAX_TIME_CAP]
    # Lowered to one second: only one-second tasks.
    owner_invoke(ready, "set_max_execution_time", seconds=1)
    with reverts(ready.chain, "EXECUTION_TIME_TOO_LONG"):
        create(2)
    create(1)


# ---------------------------------------------------------------- rescue_tokens

SURPLUS = 1_000


def donate(market, amount):
    """Payment tokens sent to the escrow outside any task (minted straight to it)."""
    market.token.invoke(
        "mint", recipient=market.escrow.address, amount=amount, caller=market.roles.owner
    )


def rescue(market, amount, token=None, to=STRANGER):
    token = market.token.address if token is None else token
    return owner_invoke(market, "rescue_tokens", token=token, to=to, amount=amount)


def rescued_events(market, token, amount, to=STRANGER):
    escrow = market.escrow.address
    return [
        (escrow, "TokensRescued", [token, to], u256(amount)),
        (token, "Transfer", [escrow, to], u256(amount)),
    ]


def test_rescue_moves_only_the_surplus_while_tasks_are_owed(assigned):
    escrow, token = assigned.escrow, assigned.token
    # Task 1 is Assigned (TASK_AMOUNT); BOB opens task 2 (7); task 3 is assigned and expires.
    create_task(assigned, BOB, 7)
    create_task(assigned, BOB, 11, max_execution_time=60)
    assign(assigned, 3, NODE)
    owed = TASK_AMOUNT + 7 + 11
    assert escrowed(assigned) == balance(assigned, escrow.address) == owed
    # Nothing above what is owed: nothing to rescue.
    with reverts(assigned.chain, "RESCUE_EXCEEDS_SURPLUS"):
        rescue(assigned, 1)
    donate(assigned, SURPLUS)
    with reverts(assigned.chain, "RESCUE_EXCEEDS_SURPLUS"):
        rescue(assigned, SURPLUS + 1)
    result = rescue(assigned, 400)
    assert_events(result, rescued_events(assigned, token.address, 400))
    assert balance(assigned, STRANGER) == 400
    assert escrowed(assigned) == owed
    with reverts(assigned.chain, "RESCUE_EXCEEDS_SURPLUS"):
        rescue(assigned, SURPLUS - 400 + 1)
    result = rescue(assigned, SURPLUS - 400, to=BOB)
    assert_events(result, rescued_events(assigned, token.address, SURPLUS - 400, to=BOB))
    assert balance(assigned, escrow.address) == owed
    with reverts(assigned.chain, "RESCUE_EXCEEDS_SURPLUS"):
        rescue(assigned, 1)
    # Every task still settles in full: a cancel, a claim and an expiry.
    escrow.invoke("cancel_task", task_id=2, caller=BOB)
    assert escrowed(assigned) == TASK_AMOUNT + 11
    submit(assigned, 1, NODE, RESULT)
    assert escrowed(assigned) == 11
    assigned.chain.advance_time(61)
    escrow.invoke("reclaim_expired", task_id=3, caller=STRANGER)
    assert escrowed(assigned) == balance(assigned, escrow.address) == 0
    assert balance(assigned, BOB) == FUNDS + SURPLUS - 400
    assert balance(assigned, NODE) == split(TASK_AMOUNT, 200, 500)[0]
    # Later surplus is rescuable whole, and no more.
    donate(assigned, 5)
    with reverts(assigned.chain, "RESCUE_EXCEEDS_SURPLUS"):
        rescue(assigned, 6)
    rescue(assigned, 5)
    assert balance(assigned, escrow.address) == 0


def test_rescue_without_tasks_moves_whole_balance(ready):
    donate(ready, SURPLUS)
    with reverts(ready.chain, "RESCUE_EXCEEDS_SURPLUS"):
        rescue(ready, SURPLUS + 1)
    result = rescue(ready, SURPLUS)
    assert_events(result, rescued_events(ready, ready.token.address, SURPLUS))
    assert balance(ready, ready.escrow.address) == 0
    assert balance(ready, STRANGER) == SURPLUS


def test_rescue_when_balance_is_below_escrowed(opened):
    # A token that left the escrow short (simulated by writing its balance): the surplus is
    # zero, not an underflow.
    key = Chain.storage_address("ERC20_balances", opened.escrow.address)
    opened.chain.set_storage(opened.token.address, key, TASK_AMOUNT - 1)
    assert balance(opened, opened.escrow.address) < escrowed(opened) == TASK_AMOUNT
    with reverts(opened.chain, "RESCUE_EXCEEDS_SURPLUS"):
        rescue(opened, 1)


def deploy_other_token(market, supply, recipient):
    artifact = load_contract("Token")
    other, _ = DeployedContract.deploy(
        market.chain,
        artifact.class_hash,
        artifact.sierra,
        salt=55,
        name=1,
        symbol=2,
        decimals=6,
        initial_supply=supply,
        recipient=recipient,
        owner=market.roles.owner,
    )
    return other


def test_rescue_any_amount_of_another_token(opened):
    escrow = opened.escrow
    other = deploy_other_token(opened, 3 * SURPLUS, escrow.address)
    # The payment token has no surplus (all of it is owed); the other token is all rescuable.
    with reverts(opened.chain, "RESCUE_EXCEEDS_SURPLUS"):
        rescue(opened, 1)
    result = rescue(opened, SURPLUS, token=other.address)
    assert_events(result, rescued_events(opened, other.address, SURPLUS))
    result = rescue(opened, 2 * SURPLUS, token=other.address, to=ALICE)
    assert_events(result, rescued_events(opened, other.address, 2 * SURPLUS, to=ALICE))
    assert other.call("balance_of", account=escrow.address) == 0
    assert other.call("balance_of", account=STRANGER) == SURPLUS
    assert other.call("balance_of", account=ALICE) == 2 * SURPLUS
    # The payment token and what is owed are untouched.
    assert balance(opened, escrow.address) == escrowed(opened) == TASK_AMOUNT
    # Beyond the escrow's balance the token itself refuses.
    with reverts(opened.chain, "INSUFFICIENT_BALANCE"):
        rescue(opened, 1, token=other.address)


@pytest.mark.parametrize(
    ("token", "to", "amount", "reason"),
    [
        ("payment", 0, 1, "ZERO_ADDRESS"),
        ("payment", STRANGER, 0, "ZERO_AMOUNT"),
        ("payment", 0, 0, "ZERO_ADDRESS"),
        ("payment", 0, SURPLUS + 1, "ZERO_ADDRESS"),
        ("payment", STRANGER, SURPLUS + 1, "RESCUE_EXCEEDS_SURPLUS"),
        ("payment", STRANGER, MAX_U256, "RESCUE_EXCEEDS_SURPLUS"),
        ("other", 0, 1, "ZERO_ADDRESS"),
        ("other", STRANGER, 0, "ZERO_AMOUNT"),
    ],
    ids=[
        "to-zero",
        "zero-amount",
        "to-zero-before-zero-amount",
        "to-zero-before-surplus",
        "over-surplus",
        "u256-max",
        "other-token-to-zero",
        "other-token-zero-amount",
    ],
)
def test_rescue_reverts(opened, token, to, amount, reason):
    donate(opened, SURPLUS)
    other = deploy_other_token(opened, SURPLUS, opened.escrow.address)
    address = opened.token.address if token == "payment" else other.address
    with reverts(opened.chain, reason):
        rescue(opened, amount, token=address, to=to)


def test_pause_and_unpause(opened):
    escrow, owner = opened.escrow, opened.roles.owner
    result = owner_invoke(opened, "pause")
    assert_events(result, [(escrow.address, "Paused", [owner], [])])
    assert escrow.call("is_paused") is True
    with reverts(opened.chain, "ALREADY_PAUSED"):
        owner_invoke(opened, "pause")
    result = owner_invoke(opened, "unpause")
    assert_events(result, [(escrow.address, "Unpaused", [owner], [])])
    assert escrow.call("is_paused") is False
    with reverts(opened.chain, "NOT_PAUSED"):
        owner_invoke(opened, "unpause")
    # Node management is not paused; unpaused again, assignment works.
    owner_invoke(opened, "pause")
    register_node(opened, NODE2)
    opened.escrow.invoke("heartbeat", caller=NODE2)
    opened.escrow.invoke("deactivate_node", caller=NODE2)
    owner_invoke(opened, "unpause")
    assign(opened, 1, NODE)


def test_two_step_ownership_transfer(market):
    escrow, old = market.escrow, market.roles.owner
    result = owner_invoke(market, "transfer_ownership", new_owner=NEW_OWNER)
    assert_events(result, [(escrow.address, "OwnershipTransferStarted", [old, NEW_OWNER], [])])
    assert escrow.call("pending_owner") == NEW_OWNER
    assert escrow.call("owner") == old
    # Until accepted, the old owner keeps every right and the new one has none.
    with reverts(market.chain, "NOT_OWNER"):
        escrow.invoke("pause", caller=NEW_OWNER)
    for caller in (STRANGER, old, 0):
        with reverts(market.chain, "NOT_PENDING_OWNER"):
            escrow.invoke("accept_ownership", caller=caller)
    result = escrow.invoke("accept_ownership", caller=NEW_OWNER)
    assert_events(result, [(escrow.address, "OwnershipTransferred", [old, NEW_OWNER], [])])
    assert escrow.call("owner") == NEW_OWNER
    assert escrow.call("pending_owner") == 0
    with reverts(market.chain, "NOT_OWNER"):
        escrow.invoke("pause", caller=old)
    escrow.invoke("pause", caller=NEW_OWNER)
    with reverts(market.chain, "NOT_PENDING_OWNER"):  # accepting twice
        escrow.invoke("accept_ownership", caller=NEW_OWNER)


def test_transfer_ownership_replace_and_cancel(market):
    escrow, owner = market.escrow, market.roles.owner
    owner_invoke(market, "transfer_ownership", new_owner=STRANGER)
    owner_invoke(market, "transfer_ownership", new_owner=NEW_OWNER)
    with reverts(market.chain, "NOT_PENDING_OWNER"):  # replaced
        escrow.invoke("accept_ownership", caller=STRANGER)
    result = owner_invoke(market, "transfer_ownership", new_owner=0)
    assert_events(result, [(escrow.address, "OwnershipTransferStarted", [owner, 0], [])])
    assert escrow.call("pending_owner") == 0
    for caller in (NEW_OWNER, 0):  # cancelled: nobody, not even caller 0, may accept
        with reverts(market.chain, "NOT_PENDING_OWNER"):
            escrow.invoke("accept_ownership", caller=caller)
    assert escrow.call("owner") == owner


def test_accept_ownership_without_pending_transfer(market):
    for caller in (0, STRANGER, market.roles.owner):
        with reverts(market.chain, "NOT_PENDING_OWNER"):
            market.escrow.invoke("accept_ownership", caller=caller)


def test_upgrade_replaces_code_and_keeps_storage(opened):
    chain, escrow = opened.chain, opened.escrow
    token_class = load_contract("Token").class_hash
    result = owner_invoke(opened, "upgrade", new_class_hash=token_class)
    assert_events(result, [(escrow.address, "Upgraded", [token_class], [])])
    assert chain.get_class_hash_at(escrow.address) == token_class
    with pytest.raises(EntryPointNotFoundError):
        chain.call(escrow.address, "get_task_count")
    # The Token code now reads the escrow's storage: both keep the owner in a `owner` variable.
    as_token = DeployedContract(chain, escrow.address, load_contract("Token").sierra)
    assert as_token.call("owner") == opened.roles.owner
    # The escrow's funds are untouched (they live in the token contract).
    assert balance(opened, escrow.address) == TASK_AMOUNT


def test_upgrade_reverts(market):
    escrow_class = load_contract("Escrow").class_hash
    with reverts(market.chain, "ZERO_CLASS_HASH"):
        owner_invoke(market, "upgrade", new_class_hash=0)
    before = state_of(market.chain)
    with pytest.raises(ExecutionRevertedError) as e:
        owner_invoke(market, "upgrade", new_class_hash=0x1234)
    assert "UNDECLARED_CLASS" in e.value.reason
    assert state_of(market.chain) == before
    assert market.chain.get_class_hash_at(market.escrow.address) == escrow_class


def test_upgrade_to_same_class_keeps_working(opened):
    escrow_class = load_contract("Escrow").class_hash
    result = owner_invoke(opened, "upgrade", new_class_hash=escrow_class)
    assert_events(result, [(opened.escrow.address, "Upgraded", [escrow_class], [])])
    assert task(opened, 1) == expected_task(1, OPEN)
    assign(opened, 1, NODE)
