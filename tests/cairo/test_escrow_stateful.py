"""Stateful property test: random call sequences against the compiled Escrow and Token.

Hypothesis drives the real contracts (the sandbox's Token and Escrow on the in-process engine,
plus a second token held by the escrow) through random sequences of task, node,
administration, rescue and time-moving calls, by the right caller or by someone else, with
valid and invalid arguments. Roles move: the owner hands the scheduler, treasury and gas
recipient to other addresses and ownership itself to a pending owner who may accept it; a node
also creates tasks and a creator may register as a node; the fee split and the execution-time
bound change between creations; users send tokens straight to the escrow and the owner rescues
the surplus. Each example starts with a task (Open, or already assigned), NODE_2 Active,
Inactive or Suspended, and maybe an ownership transfer pending, so that two-call paths
(suspend then reinstate, transfer then accept, a fee change then a claim) fit in its steps.

A small Python model only *predicts*: whether each call must succeed or revert (and with which
documented message, in the documented check order, docs/protocol.md), exactly which events it
emits in which order (the escrow's one event first, then the token's Approval and Transfers),
and what the payout split is. The contracts stay the ground truth: after every step they are
read back.

Invariants:

* token balances (raw storage, both tokens): every known balance is what the model predicts and
  they sum to the total supply;
* after every step that changed the escrow (its storage or its event log; its views read
  nothing else, no block time, so after a reverted call or a move of time they would repeat
  the last read), *everything* is re-read through the views: ``get_task`` of every task id
  1..``get_task_count()``; ``get_node`` and ``get_user_earnings`` of every node that ever
  registered (``get_node_status`` of the candidates that did not); ``get_user_task_count`` of
  every creator and candidate creator and their ``get_user_tasks``, page by page, plus one
  more page at offsets and limits around the list's ends and the 100-id cap; and every
  setting (``owner``, ``pending_owner``, ``payment_token``, ``scheduler``, ``treasury``,
  ``gas_recipient``, ``get_fee_config``, ``max_execution_time``, ``is_paused``,
  ``escrowed_amount``, ``get_task_count``). Then:

  - a task's status moves only along a documented edge (None->Open, Open->Cancelled,
    Open->Assigned, Assigned->Completed, Assigned->Expired) between two reads;
  - every field equals the model's prediction (a task's ``fees`` are the split current when it
    was created, whatever ``set_fee_config`` did since; a reinstated node has the status it
    had when suspended);
  - every field equals the *event replay*: the escrow's whole event log since its constructor
    (``EscrowInitialized`` first), folded from scratch by tests/cairo/replay_model.py with no
    view call, as an indexer would (test_escrow_replay.py shows that a replay with one rule
    wrong fails this);
  - ``escrowed_amount()`` is the sum of the Open and Assigned amounts and at most
    ``balance_of(escrow)``, which is that sum plus the tokens that strayed in and were not
    rescued;
  - every Assigned task can end: ``deadline == assigned_at + max_execution_time``, below
    2^64 - 1 and at most 365 days after assignment;

* in the rules themselves: the three parts of a ``TaskCompleted`` are the floor divisions of
  the task's own split and sum to its amount, and go to the current payees; right after each
  assignment a dry run (a call, nothing kept) of ``reclaim_expired`` one second after the new
  deadline succeeds, and so does the real one whenever a rule moves time there;
  ``rescue_tokens`` moves at most the surplus of the payment token.

Every invoke costs 0.1-0.6 s in this VM and a full re-read about half a second, so the
marketplace is deployed, funded and given two nodes once per process, and each example starts
from a ``Chain.snapshot()`` of that state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from starknet_py.hash.selector import get_selector_from_name

from smainer.artifacts import load_contract
from smainer.engine import CallResult, Chain, Event, ExecutionRevertedError, Snapshot
from smainer.engine.contract import DeployedContract
from smainer.payload import encode_json, payload_hash
from smainer.sandbox import FeeSplit, Marketplace, Roles
from tests.cairo.replay_model import (
    EscrowReplay,
    EscrowView,
    decode,
    deploy_logged_marketplace,
    differences,
    read_views,
)

pytestmark = pytest.mark.slow

START_TIME = 1_700_000_000  # as tests/cairo/conftest.py
FELT_PRIME = 2**251 + 17 * 2**192 + 1
U64_MAX = 2**64 - 1
U128_MASK = 2**128 - 1
U256_MAX = 2**256 - 1
INFINITE_ALLOWANCE = U256_MAX
MAX_FELTS = 256
DEFAULT_MAX_EXECUTION_TIME = 7 * 24 * 3600  # the escrow's bound at deployment
MAX_EXECUTION_TIME_CAP = 365 * 24 * 3600  # the highest bound the owner may set
STRAY_AT_START = 777  # payment tokens sent to the escrow by mistake before the first example
OTHER_AT_START = 10**9  # the other token's whole supply, minted to the escrow

# Task status (docs/protocol.md, "Task state machine").
NONE, OPEN, ASSIGNED, COMPLETED, CANCELLED, EXPIRED = range(6)
STATUS_NAMES = ["None", "Open", "Assigned", "Completed", "Cancelled", "Expired"]
EDGES = {
    (NONE, OPEN),
    (OPEN, CANCELLED),
    (OPEN, ASSIGNED),
    (ASSIGNED, COMPLETED),
    (ASSIGNED, EXPIRED),
}
# Node status.
NODE_NONE, NODE_ACTIVE, NODE_INACTIVE, NODE_SUSPENDED = range(4)


@dataclass(frozen=True)
class Actor:
    """An address with a name, so that a failing sequence reads ``caller=ALICE``."""

    name: str
    address: int

    def __repr__(self) -> str:
        return self.name

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.name)  # Hypothesis prints dataclasses field by field otherwise


ROLES = Roles()
# The roles the escrow is deployed with; the machine may move each of them elsewhere.
OWNER = Actor("OWNER", ROLES.owner)
SCHEDULER = Actor("SCHEDULER", ROLES.scheduler)
TREASURY = Actor("TREASURY", ROLES.treasury)
GAS_RECIPIENT = Actor("GAS_RECIPIENT", ROLES.gas_recipient)
ALICE = Actor("ALICE", 0xA11)  # huge balance, infinite allowance; may register as a node
BOB = Actor("BOB", 0xB0B)  # huge balance, finite allowance above it
CAROL = Actor("CAROL", 0xCA201)  # small balance, finite allowance below it
STRANGER = Actor("STRANGER", 0x5757)  # no tokens, no allowance, no role
NODE_1 = Actor("NODE_1", 0xE1)  # a node that also creates tasks (funded, finite allowance)
NODE_2 = Actor("NODE_2", 0xE2)
NODE_3 = Actor("NODE_3", 0xE3)
NODES = (NODE_1, NODE_2, NODE_3)
ZERO = Actor("ZERO", 0)
# Stand-ins resolved in the rules: the task's creator / assigned node, the current holder of a
# role, and the escrow's own address (known once deployed).
THE_CREATOR = Actor("THE_CREATOR", -1)
THE_ASSIGNED_NODE = Actor("THE_ASSIGNED_NODE", -2)
THE_OWNER = Actor("THE_OWNER", -3)
THE_SCHEDULER = Actor("THE_SCHEDULER", -4)
THE_PENDING_OWNER = Actor("THE_PENDING_OWNER", -5)
THE_ESCROW = Actor("THE_ESCROW", -6)

KNOWN_ACTORS = (OWNER, SCHEDULER, TREASURY, GAS_RECIPIENT, ALICE, BOB, CAROL, STRANGER, *NODES)
CREATORS = (ALICE, BOB, NODE_1, CAROL, STRANGER)
NODE_CANDIDATES = (*NODES, ALICE)
INITIAL_FUNDS = {ALICE: 2**250, BOB: 2**250, CAROL: 10**6, NODE_1: 10**30}
# BOB has sent STRAY_AT_START tokens straight to the escrow (no task): a surplus to rescue.
INITIAL_BALANCES = {**INITIAL_FUNDS, BOB: INITIAL_FUNDS[BOB] - STRAY_AT_START}
INITIAL_ALLOWANCES = {
    ALICE: INFINITE_ALLOWANCE,
    BOB: 2**252,
    CAROL: 5 * 10**5,
    NODE_1: 10**30,
}
# Registered in the snapshot (tier, gpu, cpu_threads, ram_gb); NODE_3 and ALICE start
# unregistered.
INITIAL_NODES = {NODE_1: (5, True, 16, 64), NODE_2: (2, False, 4, 8)}

SEL = {
    name: get_selector_from_name(name)
    for name in (
        "Transfer",
        "Approval",
        "TaskCreated",
        "TaskCancelled",
        "TaskAssigned",
        "TaskCompleted",
        "TaskExpired",
        "NodeRegistered",
        "NodeDeactivated",
        "NodeHeartbeat",
        "NodeSuspended",
        "NodeReinstated",
        "SchedulerUpdated",
        "TreasuryUpdated",
        "GasRecipientUpdated",
        "FeeConfigUpdated",
        "MaxExecutionTimeUpdated",
        "TokensRescued",
        "Paused",
        "Unpaused",
        "OwnershipTransferStarted",
        "OwnershipTransferred",
    )
}


def u256(value: int) -> list[int]:
    return [value & U128_MASK, value >> 128]


@functools.cache
def slot(var: str, *keys: int) -> int:
    return Chain.storage_address(var, *keys)


# ------------------------------------------------------------------------------- deployment


@dataclass(frozen=True)
class Deployment:
    market: Marketplace
    other: DeployedContract  # a second ERC-20, all of it held by the escrow (to rescue)
    snapshot: Snapshot
    log: tuple[Event, ...]  # every event the escrow emitted, its constructor's first


@functools.cache
def _deployment() -> Deployment:
    """Token + Escrow (+ another token) deployed once per process, users funded, stray tokens
    in the escrow, NODE_1/NODE_2 registered; with the escrow's events so far."""
    chain = Chain()
    chain.set_block(number=1, timestamp=START_TIME)
    market, log = deploy_logged_marketplace(chain)
    escrow, token = market.escrow, market.token
    token_class = load_contract("Token")
    other, _ = DeployedContract.deploy(
        chain,
        token_class.class_hash,
        token_class.sierra,
        salt=3,
        name=int.from_bytes(b"Other Token", "big"),
        symbol=int.from_bytes(b"OTH", "big"),
        decimals=6,
        initial_supply=OTHER_AT_START,
        recipient=escrow.address,
        owner=OWNER.address,
    )
    for user, amount in INITIAL_FUNDS.items():
        token.invoke("mint", recipient=user.address, amount=amount, caller=OWNER.address)
        token.invoke(
            "approve",
            spender=escrow.address,
            amount=INITIAL_ALLOWANCES[user],
            caller=user.address,
        )
    token.invoke("transfer", recipient=escrow.address, amount=STRAY_AT_START, caller=BOB.address)
    for node, (tier, gpu, cpu, ram) in INITIAL_NODES.items():
        result = escrow.invoke(
            "register_node", tier=tier, gpu=gpu, cpu_threads=cpu, ram_gb=ram, caller=node.address
        )
        log.extend(e for e in result.events if e.from_address == escrow.address)
    # The invariants read balances from raw storage; check once that it agrees with the views.
    for user, amount in INITIAL_BALANCES.items():
        assert token.call("balance_of", account=user.address) == amount
        assert _raw_u256(chain, token.address, "ERC20_balances", user.address) == amount
    assert other.call("balance_of", account=escrow.address) == OTHER_AT_START
    return Deployment(market, other, chain.snapshot(), tuple(log))


def _raw_u256(chain: Chain, address: int, var: str, *keys: int) -> int:
    key = slot(var, *keys)
    return chain.get_storage(address, key) + (chain.get_storage(address, key + 1) << 128)


# ------------------------------------------------------------------------------- strategies


@dataclass(frozen=True)
class Felts:
    """A felt array with a short label for the printed sequence."""

    label: str
    felts: tuple[int, ...]

    def __repr__(self) -> str:
        return self.label

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.label)


@dataclass(frozen=True)
class Req:
    min_tier: int
    gpu_required: bool
    cpu_threads: int
    ram_gb: int
    max_execution_time: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "min_tier": self.min_tier,
            "gpu_required": self.gpu_required,
            "cpu_threads": self.cpu_threads,
            "ram_gb": self.ram_gb,
            "max_execution_time": self.max_execution_time,
        }

    def felts(self) -> list[int]:
        return [
            self.min_tier,
            int(self.gpu_required),
            self.cpu_threads,
            self.ram_gb,
            self.max_execution_time,
        ]


def weighted(*options: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Draw from each strategy in proportion to its weight; shrinks towards the first.

    (``st.one_of`` drops repeated branches, so repeating one does not weigh it.)
    """
    indices = [i for i, (weight, _) in enumerate(options) for _ in range(weight)]
    return st.sampled_from(indices).flatmap(lambda i: options[i][1])


def _json_payload(value: Any) -> Felts:
    return Felts(f"json({value!r})", tuple(encode_json(value)))


valid_payloads = st.one_of(
    st.text(max_size=40).map(_json_payload),
    st.fixed_dictionaries(
        {"op": st.sampled_from(["matmul", "conv2d", "é∑"]), "n": st.integers(0, 10**6)}
    ).map(_json_payload),
    st.sampled_from([Felts("empty_bytes", (0,)), Felts("max_payload", (255 * 31, *range(255)))]),
)
payloads = weighted(
    (4, valid_payloads),
    (
        1,
        st.sampled_from(
            [
                Felts("no_felts", ()),
                Felts("missing_word", (40, 1)),
                Felts("extra_word", (0, 5)),
                Felts("len_over_u32", (2**32, *range(4))),
                Felts("over_256_felts", (256 * 31, *range(256))),
            ]
        ),
    ),
)


def _result(values: list[int]) -> Felts:
    return Felts(f"result({values})", tuple(values))


results = weighted(
    (4, st.lists(st.integers(0, 1000) | st.just(FELT_PRIME - 1), max_size=3).map(_result)),
    (
        1,
        st.sampled_from(
            [
                Felts("max_result", tuple(range(MAX_FELTS))),
                Felts("over_256_result", tuple(range(MAX_FELTS + 1))),
            ]
        ),
    ),
)

valid_amounts = st.one_of(
    st.sampled_from([1, 19, 1999, 9999, 10000, 10001, 12_345_678_901_234_567]),
    st.integers(1, 10**6),
    st.integers(1, 10**30),
    st.integers(2**128 - 2, 2**128 + 2),
    st.integers(2**200, 2**249),  # above 2**256 // 10000 a naive amount * bps overflows
)
amounts = weighted(
    (4, valid_amounts),
    (1, st.sampled_from([0, 2**256 - 1]) | st.integers(2**250 + 1, 2**252)),  # 0 or unfunded
)

# Within the deployment's bound (7 days), so the first task is always valid.
execution_times_in_default_bound = st.one_of(
    st.sampled_from([3600, 60, 1, DEFAULT_MAX_EXECUTION_TIME]), st.integers(1, 200_000)
)
# Around the bounds: the default 7 days and the 365-day cap (valid only once the owner raised
# the bound), and u64::MAX, which no bound admits.
execution_times = weighted(
    (3, execution_times_in_default_bound),
    (
        1,
        st.sampled_from(
            [
                DEFAULT_MAX_EXECUTION_TIME + 1,
                MAX_EXECUTION_TIME_CAP,
                MAX_EXECUTION_TIME_CAP + 1,
                U64_MAX,
            ]
        ),
    ),
)
valid_requirements = st.builds(
    Req,
    min_tier=st.sampled_from([0, 1, 2, 3, 5]),
    gpu_required=st.booleans(),
    # 17 threads / 65 GB: more than the snapshot's nodes have (NOT_ENOUGH_CPU / _RAM).
    cpu_threads=st.sampled_from([0, 2, 4, 8, 16, 0, 2, 4, 8, 16, 17]),
    ram_gb=st.sampled_from([0, 4, 8, 16, 64, 0, 4, 8, 16, 64, 65]),
    max_execution_time=execution_times,
)
requirements = weighted(
    (4, valid_requirements),
    (
        1,
        st.builds(
            Req,
            min_tier=st.sampled_from([6, 255, 0]),
            gpu_required=st.booleans(),
            cpu_threads=st.just(0),
            ram_gb=st.just(0),
            max_execution_time=st.sampled_from([0, 3600]),
        ),
    ),
)

kinds = st.sampled_from([1, 0, int.from_bytes(b"jax.matmul", "big"), FELT_PRIME - 1])

node_tiers = st.sampled_from([1, 2, 3, 4, 5, 1, 3, 5, 0, 6])
node_cpus = st.sampled_from([4, 16, 0, 2, 8, 65535])
node_rams = st.sampled_from([8, 64, 0, 4, 16, 65535])


def _valid_split(gas: int, treasury: int) -> tuple[int, int, int]:
    return (10000 - gas - treasury, gas, treasury)


valid_fee_splits = st.builds(_valid_split, st.integers(0, 1000), st.integers(0, 2000))
fee_splits = weighted(
    (3, valid_fee_splits),
    (
        3,
        st.sampled_from(
            [
                (10000, 0, 0),
                (7000, 1000, 2000),
                (9300, 200, 500),
                (7999, 0, 2001),  # TREASURY_FEE_TOO_HIGH
                (8999, 1001, 0),  # GAS_FEE_TOO_HIGH
                (6998, 1001, 2001),  # both too high: the treasury is checked first
                (9300, 200, 501),  # INVALID_FEE_SPLIT
                (65535, 1, 10000),  # sums to 10000 only modulo 2**16
                (0, 0, 0),
            ]
        ),
    ),
    (1, st.tuples(st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 65535))),
)

max_execution_time_settings = weighted(
    (
        3,
        st.sampled_from([MAX_EXECUTION_TIME_CAP, 3600, 1, DEFAULT_MAX_EXECUTION_TIME, 60]),
    ),
    (2, st.integers(1, MAX_EXECUTION_TIME_CAP)),
    (1, st.sampled_from([0, MAX_EXECUTION_TIME_CAP + 1, U64_MAX])),  # the two errors
)

# Mostly short: the deadline boundaries are what submit_proof_and_claim and reclaim_expired
# move time to themselves, and long jumps expire every Assigned task at once.
time_steps = weighted(
    (3, st.integers(0, 120)),
    (1, st.sampled_from([3599, 3600, 3601])),
    (1, st.integers(3600, 10**6)),
)

MISSING_TASK_IDS = (0, 10**9)
# (offset, limit) of a get_user_tasks page, given how many tasks the user has.
PAGES = (
    lambda n: (1, 1),
    lambda n: (0, 2),
    lambda n: (max(n - 1, 0), 100),
    lambda n: (n, 1),
    lambda n: (0, 0),
    lambda n: (U64_MAX, U64_MAX),
    lambda n: (1, 101),
)


def mostly(right: Actor, *others: Actor) -> st.SearchStrategy[Actor]:
    """The caller the protocol allows, 3 times in 3 + len(others) (what failures shrink to)."""
    return st.sampled_from([right, right, right, *others])


# The current owner, mostly; else the deployment's owner (the same until ownership moves).
owner_or_not = mostly(THE_OWNER, OWNER, SCHEDULER, STRANGER)


@dataclass(frozen=True)
class AdminCall:
    """An owner-only call and its arguments, printed as it reads: ``set_treasury(ALICE)``."""

    fn: str
    args: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        return f"{self.fn}({', '.join(map(repr, self.args))})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _calls(fn: str, *arguments: st.SearchStrategy[Any]) -> st.SearchStrategy[AdminCall]:
    return st.tuples(*arguments).map(lambda args: AdminCall(fn, args))


# New holders of a role: users, a node, the deployment's holders, and the two refused ones.
role_holders = st.sampled_from(
    [ALICE, NODE_1, SCHEDULER, TREASURY, GAS_RECIPIENT, STRANGER, ZERO, THE_ESCROW]
)
# The terms of new work: pause, fee split, execution-time bound.
term_calls = st.one_of(
    # Pausing blocks creation and assignment, so unpausing is drawn twice as often.
    st.sampled_from([AdminCall("unpause"), AdminCall("unpause"), AdminCall("pause")]),
    fee_splits.map(lambda fees: AdminCall("set_fee_config", fees)),
    _calls("set_max_execution_time", max_execution_time_settings),
)
# Who holds a role.
role_calls = st.one_of(
    st.builds(
        AdminCall,
        st.sampled_from(["set_treasury", "set_scheduler", "set_gas_recipient"]),
        st.tuples(role_holders),
    ),
    _calls("transfer_ownership", st.sampled_from([ALICE, NODE_1, ZERO, OWNER, STRANGER])),
)
# Tokens sent straight to the escrow (no task): (sender, amount).
stray_transfers = st.tuples(
    st.sampled_from([BOB, CAROL]), st.sampled_from([1, 10**6, 12_345]) | st.integers(1, 10**30)
)


# ------------------------------------------------------------------------------- model


@dataclass
class TaskModel:
    id: int
    creator: int
    kind: int
    payload_hash: int
    requirements: Req
    amount: int
    fees: tuple[int, int, int]  # the split current at creation, which the claim pays by
    created_at: int
    status: int = OPEN
    node: int = 0
    assigned_at: int = 0
    deadline: int = 0
    completed_at: int = 0
    result_hash: int = 0

    def view(self) -> dict[str, Any]:
        """What ``get_task`` must return."""
        return {
            "id": self.id,
            "creator": self.creator,
            "kind": self.kind,
            "payload_hash": self.payload_hash,
            "requirements": self.requirements.as_dict(),
            "amount": self.amount,
            "fees": fee_dict(self.fees),
            "status": self.status,
            "node": self.node,
            "created_at": self.created_at,
            "assigned_at": self.assigned_at,
            "deadline": self.deadline,
            "completed_at": self.completed_at,
            "result_hash": self.result_hash,
        }


@dataclass
class NodeModel:
    status: int = NODE_NONE
    tier: int = 0
    gpu: bool = False
    cpu_threads: int = 0
    ram_gb: int = 0
    registered_at: int = 0
    last_heartbeat: int = 0
    completed_tasks: int = 0
    failed_tasks: int = 0
    earnings: int = 0  # sum of provider_amount over this node's TaskCompleted events
    suspended_from: int = NODE_NONE  # the status reinstate_node gives back

    def view(self) -> dict[str, Any]:
        """What ``get_node`` must return."""
        return {
            "tier": self.tier,
            "gpu": self.gpu,
            "cpu_threads": self.cpu_threads,
            "ram_gb": self.ram_gb,
            "status": self.status,
            "registered_at": self.registered_at,
            "last_heartbeat": self.last_heartbeat,
            "completed_tasks": self.completed_tasks,
            "failed_tasks": self.failed_tasks,
            "earnings": self.earnings,
        }


def fee_dict(fees: tuple[int, int, int]) -> dict[str, int]:
    return dict(zip(("provider_bps", "gas_bps", "treasury_bps"), fees, strict=True))


def payload_is_valid(felts: tuple[int, ...]) -> bool:
    """docs/protocol.md: ``[byte_len, w_1..w_n]``, n = ceil(byte_len / 31), 1..=256 felts."""
    if not 1 <= len(felts) <= MAX_FELTS or felts[0] >= 2**32:
        return False
    return -(-felts[0] // 31) == len(felts) - 1


def split(amount: int, fees: tuple[int, int, int]) -> tuple[int, int, int]:
    """(provider, gas, treasury): gas and treasury round down, the provider gets the rest."""
    _, gas_bps, treasury_bps = fees
    gas = amount * gas_bps // 10000
    treasury = amount * treasury_bps // 10000
    return amount - gas - treasury, gas, treasury


# ------------------------------------------------------------------------------- machine


class EscrowMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        deployment = _deployment()
        deployment.market.chain.restore(deployment.snapshot)
        self.chain = deployment.market.chain
        self.escrow = deployment.market.escrow
        self.token = deployment.market.token
        self.other = deployment.other
        # Every event the escrow emitted, in order (the replay's only input).
        self.log: list[Event] = list(deployment.log)
        fees = FeeSplit()
        self.fees = (fees.provider_bps, fees.gas_bps, fees.treasury_bps)
        self.max_execution_time = DEFAULT_MAX_EXECUTION_TIME
        self.paused = False
        self.owner = OWNER.address
        self.pending_owner = 0
        self.scheduler = SCHEDULER.address
        self.treasury = TREASURY.address
        self.gas_recipient = GAS_RECIPIENT.address
        escrow = self.escrow.address
        self.balances = {a.address: 0 for a in KNOWN_ACTORS}
        self.balances.update({a.address: v for a, v in INITIAL_BALANCES.items()})
        self.balances[escrow] = STRAY_AT_START
        self.total_supply = sum(INITIAL_FUNDS.values())
        self.other_balances = {a.address: 0 for a in KNOWN_ACTORS}
        self.other_balances[escrow] = OTHER_AT_START
        self.allowances = {a.address: v for a, v in INITIAL_ALLOWANCES.items()}
        self.tasks_model: dict[int, TaskModel] = {}
        self.user_tasks: dict[int, list[int]] = {}
        self.nodes = {a.address: NodeModel() for a in NODE_CANDIDATES}
        for node, (tier, gpu, cpu, ram) in INITIAL_NODES.items():
            self.nodes[node.address] = NodeModel(
                NODE_ACTIVE, tier, gpu, cpu, ram, registered_at=START_TIME
            )
        # Task statuses as the views last showed them, and what the chain looked like then.
        self.seen_status: dict[int, int] = {}
        self.last_read: tuple[int, dict[tuple[int, int], int]] | None = None
        self.reads = 0

    @property
    def now(self) -> int:
        return self.chain.block.timestamp

    def _resolve(self, actor: Actor, task: TaskModel | None = None) -> Actor:
        """The address behind a stand-in (ALICE where there is none, e.g. no task)."""
        if actor is THE_CREATOR:
            return replace(actor, address=task.creator if task else ALICE.address)
        if actor is THE_ASSIGNED_NODE:
            return replace(actor, address=task.node if task and task.node else NODE_1.address)
        if actor is THE_OWNER:
            return replace(actor, address=self.owner)
        if actor is THE_SCHEDULER:
            return replace(actor, address=self.scheduler)
        if actor is THE_PENDING_OWNER:
            return replace(actor, address=self.pending_owner or ALICE.address)
        if actor is THE_ESCROW:
            return replace(actor, address=self.escrow.address)
        return actor

    # -- calling ------------------------------------------------------------------------

    def _invoke(
        self, contract: Any, fn: str, caller: Actor, expected_error: str | None, **kwargs: Any
    ) -> CallResult | None:
        """Invoke; assert it reverts with exactly ``expected_error``, or succeeds if None.

        The escrow's events of a successful call go to the log the replay reads."""
        label = expected_error or "ok"
        event(f"{fn}: {label}")
        try:
            result = contract.invoke(fn, caller=caller.address, **kwargs)
        except ExecutionRevertedError as exc:
            reason = exc.reason
        else:
            assert expected_error is None, (
                f"{fn} by {caller} succeeded; the protocol says it reverts {expected_error!r}"
            )
            self.log.extend(e for e in result.events if e.from_address == self.escrow.address)
            return result
        assert expected_error is not None, (
            f"{fn} by {caller} reverted {reason!r}; the protocol says it succeeds"
        )
        assert reason == expected_error, (
            f"{fn} by {caller} reverted {reason!r}, expected {expected_error!r}"
        )
        return None

    def _check_events(
        self,
        result: CallResult,
        escrow_event: tuple[str, list[int], list[int]] | None,
        transfers: list[tuple[int, int, int]],
        approval: tuple[int, int, int] | None = None,
        token: DeployedContract | None = None,
    ) -> None:
        """Exactly these events in this order: the escrow's one event (if any), then the token's
        Approval (if any) and Transfers; the model's balances follow the transfers."""
        token = token or self.token
        expected: list[tuple[int, list[int], list[int]]] = []
        if escrow_event is not None:
            name, keys, data = escrow_event
            expected.append((self.escrow.address, [SEL[name], *keys], data))
        if approval is not None:
            owner, spender, value = approval
            expected.append((token.address, [SEL["Approval"], owner, spender], u256(value)))
        for sender, recipient, value in transfers:
            expected.append((token.address, [SEL["Transfer"], sender, recipient], u256(value)))
        actual = [(e.from_address, e.keys, e.data) for e in result.events]
        assert actual == expected, f"events {actual}, expected {expected}"
        balances = self.balances if token is self.token else self.other_balances
        for sender, recipient, value in transfers:
            balances[sender] -= value
            balances[recipient] += value

    def _task(self, task_id: int) -> TaskModel | None:
        return self.tasks_model.get(task_id)

    def _has_tasks(self) -> bool:
        return bool(self.tasks_model)

    def _ids(self, status: int) -> list[int]:
        """Ids of the tasks in ``status``, newest first: draws shrink towards the newest task,
        which stays the same task when the shrinker deletes earlier steps."""
        return [
            i
            for i in sorted(self.tasks_model, reverse=True)
            if self.tasks_model[i].status == status
        ]

    def _pick_task(self, data: st.DataObject, prefer: int) -> int:
        """A task id: mostly one in the status the call needs, else any task or a missing id."""
        preferred = self._ids(prefer)
        everything = sorted(self.tasks_model, reverse=True)
        candidates = [*preferred * 6, *everything * 3, *MISSING_TASK_IDS]
        task_id: int = data.draw(st.sampled_from(candidates), label="task_id")
        return task_id

    def _pick_node(self, data: st.DataObject, task: TaskModel | None) -> Actor:
        """A node: mostly an Active one meeting the task's requirements, if any, else any."""
        everyone = list(NODE_CANDIDATES)
        matching = [n for n in everyone if task and self._can_run(self.nodes[n.address], task)]
        node: Actor = data.draw(st.sampled_from([*matching * 3, *everyone]), label="node")
        return node

    @staticmethod
    def _can_run(node: NodeModel, task: TaskModel) -> bool:
        req = task.requirements
        return (
            node.status == NODE_ACTIVE
            and node.tier >= req.min_tier
            and (node.gpu or not req.gpu_required)
            and node.cpu_threads >= req.cpu_threads
            and node.ram_gb >= req.ram_gb
        )

    def _escrowed(self) -> int:
        return sum(t.amount for t in self.tasks_model.values() if t.status in (OPEN, ASSIGNED))

    # -- tasks --------------------------------------------------------------------------

    @rule(
        creator=st.sampled_from([ALICE, BOB, NODE_1, ALICE, BOB, CAROL, STRANGER]),
        amount=amounts,
        req=requirements,
        payload=payloads,
        kind=kinds,
    )
    def create_task(self, creator: Actor, amount: int, req: Req, payload: Felts, kind: int) -> None:
        self._create_task(creator, amount, req, payload, kind)

    # Every example starts with one task (a funded creator, valid arguments, requirements
    # NODE_1 meets), Open or, with ``assigned``, already assigned to NODE_1: claims, expiries
    # and their deadline boundaries are then reachable within the few steps an example has.
    # With ``new_fees`` the owner then changes the fee split, which that task must not feel.
    @initialize(
        creator=st.sampled_from([ALICE, BOB]),
        amount=valid_amounts,
        req=st.builds(
            Req,
            min_tier=st.sampled_from([0, 1, 2, 3, 5]),
            gpu_required=st.booleans(),
            cpu_threads=st.sampled_from([0, 2, 4, 8, 16]),
            ram_gb=st.sampled_from([0, 4, 8, 16, 64]),
            max_execution_time=execution_times_in_default_bound,
        ),
        payload=valid_payloads,
        kind=kinds,
        assigned=st.sampled_from([True, True, False]),
        new_fees=st.none() | valid_fee_splits,
    )
    def first_task(
        self,
        creator: Actor,
        amount: int,
        req: Req,
        payload: Felts,
        kind: int,
        assigned: bool,
        new_fees: tuple[int, int, int] | None,
    ) -> None:
        self._create_task(creator, amount, req, payload, kind)
        if assigned:
            self.seen_status[1] = OPEN  # its creation was checked; the read sees Assigned
            self._assign(SCHEDULER, 1, NODE_1)
        if new_fees is not None:
            self._set_fee_config(OWNER, "set_fee_config", *new_fees)

    def _create_task(
        self, creator: Actor, amount: int, req: Req, payload: Felts, kind: int
    ) -> None:
        allowance = self.allowances.get(creator.address, 0)
        balance = self.balances[creator.address]
        if self.paused:
            error = "PAUSED"
        elif amount == 0:
            error = "ZERO_AMOUNT"
        elif req.max_execution_time == 0:
            error = "INVALID_EXECUTION_TIME"
        elif req.max_execution_time > self.max_execution_time:
            error = "EXECUTION_TIME_TOO_LONG"
        elif req.min_tier > 5:
            error = "INVALID_TIER"
        elif not payload_is_valid(payload.felts):
            error = "INVALID_PAYLOAD"
        elif self._escrowed() + amount > U256_MAX:
            # The escrow adds the amount to escrowed_amount() before it pulls the tokens, so
            # an amount nobody can hold (above 2^256 - 1 - escrowed) overflows there, before
            # the token's INSUFFICIENT_ALLOWANCE / _BALANCE that docs/protocol.md lists next.
            error = "u256_add Overflow"
        elif allowance != INFINITE_ALLOWANCE and allowance < amount:
            error = "INSUFFICIENT_ALLOWANCE"
        elif balance < amount:
            error = "INSUFFICIENT_BALANCE"
        else:
            error = None
        result = self._invoke(
            self.escrow,
            "create_task",
            creator,
            error,
            kind=kind,
            payload=list(payload.felts),
            requirements=req.as_dict(),
            amount=amount,
        )
        if result is None:
            return
        task_id = len(self.tasks_model) + 1
        assert self.escrow.decode("create_task", result.retdata) == task_id
        task = TaskModel(
            id=task_id,
            creator=creator.address,
            kind=kind,
            payload_hash=payload_hash(payload.felts),
            requirements=req,
            amount=amount,
            fees=self.fees,
            created_at=self.now,
        )
        approval = None
        if allowance != INFINITE_ALLOWANCE:
            self.allowances[creator.address] = allowance - amount
            approval = (creator.address, self.escrow.address, allowance - amount)
        self._check_events(
            result,
            (
                "TaskCreated",
                [task_id, creator.address],
                [
                    kind,
                    task.payload_hash,
                    len(payload.felts),
                    *payload.felts,
                    *req.felts(),
                    *u256(amount),
                    *self.fees,
                    self.now,
                ],
            ),
            [(creator.address, self.escrow.address, amount)],
            approval,
        )
        self.tasks_model[task_id] = task
        self.user_tasks.setdefault(creator.address, []).append(task_id)

    @precondition(_has_tasks)
    @rule(data=st.data(), caller=mostly(THE_CREATOR, ALICE, BOB, STRANGER))
    def cancel_task(self, data: st.DataObject, caller: Actor) -> None:
        task_id = self._pick_task(data, OPEN)
        task = self._task(task_id)
        caller = self._resolve(caller, task)
        if task is None:
            error = "TASK_NOT_FOUND"
        elif caller.address != task.creator:
            error = "NOT_TASK_CREATOR"
        elif task.status != OPEN:
            error = "TASK_NOT_OPEN"
        else:
            error = None
        result = self._invoke(self.escrow, "cancel_task", caller, error, task_id=task_id)
        if result is None:
            return
        assert task is not None
        self._check_events(
            result,
            ("TaskCancelled", [task_id, task.creator], u256(task.amount)),
            [(self.escrow.address, task.creator, task.amount)],
        )
        task.status = CANCELLED

    @precondition(_has_tasks)
    @rule(data=st.data(), caller=mostly(THE_SCHEDULER, SCHEDULER, OWNER, ALICE))
    def assign_task(self, data: st.DataObject, caller: Actor) -> None:
        task_id = self._pick_task(data, OPEN)
        node = self._pick_node(data, self._task(task_id))
        self._assign(self._resolve(caller), task_id, node)

    def _assign(self, caller: Actor, task_id: int, node: Actor) -> None:
        task = self._task(task_id)
        spec = self.nodes[node.address]
        if caller.address != self.scheduler:
            error = "NOT_SCHEDULER"
        elif self.paused:
            error = "PAUSED"
        elif task is None:
            error = "TASK_NOT_FOUND"
        elif task.status != OPEN:
            error = "TASK_NOT_OPEN"
        elif spec.status != NODE_ACTIVE:
            error = "NODE_NOT_ACTIVE"
        elif spec.tier < task.requirements.min_tier:
            error = "NODE_TIER_TOO_LOW"
        elif task.requirements.gpu_required and not spec.gpu:
            error = "GPU_REQUIRED"
        elif spec.cpu_threads < task.requirements.cpu_threads:
            error = "NOT_ENOUGH_CPU"
        elif spec.ram_gb < task.requirements.ram_gb:
            error = "NOT_ENOUGH_RAM"
        else:
            error = None
        result = self._invoke(
            self.escrow, "assign_task", caller, error, task_id=task_id, node=node.address
        )
        if result is None:
            return
        assert task is not None
        # No saturation: the bound on max_execution_time keeps the sum far below u64::MAX.
        deadline = self.now + task.requirements.max_execution_time
        self._check_events(
            result,
            ("TaskAssigned", [task_id, node.address, task.creator], [self.now, deadline]),
            [],
        )
        task.status = ASSIGNED
        task.node = node.address
        task.assigned_at = self.now
        task.deadline = deadline
        self._check_can_expire(task)

    @precondition(lambda self: self._ids(ASSIGNED))
    @rule(
        data=st.data(),
        caller=mostly(THE_ASSIGNED_NODE, NODE_2, ALICE),
        result=results,
        wrong_hash=st.sampled_from([False, False, False, True]),
        when=st.sampled_from(["at_deadline", "now", "now", "at_deadline", "late"]),
    )
    def submit_proof_and_claim(
        self, data: st.DataObject, caller: Actor, result: Felts, wrong_hash: bool, when: str
    ) -> None:
        """Submit now, or first move time to the deadline's very second or one second later."""
        task_id = self._pick_task(data, ASSIGNED)
        self._move_to_deadline(task_id, {"now": None, "at_deadline": 0, "late": 1}[when])
        self._submit(task_id, caller, result, wrong_hash)

    # The paid path's twin: the assigned node claims a task still in time, now or in the
    # deadline's very second. With a dozen rules enabled at once, the general rule above
    # rarely gets there (a wrong caller, hash, or second; a task that expired meanwhile).
    @precondition(lambda self: self._in_time())
    @rule(data=st.data(), result=results, at_deadline=st.booleans())
    def claim_in_time(self, data: st.DataObject, result: Felts, at_deadline: bool) -> None:
        task_id: int = data.draw(st.sampled_from(self._in_time()), label="task_id")
        self._move_to_deadline(task_id, 0 if at_deadline else None)
        self._submit(task_id, THE_ASSIGNED_NODE, result, wrong_hash=False)

    def _in_time(self) -> list[int]:
        return [i for i in self._ids(ASSIGNED) if self.now <= self.tasks_model[i].deadline]

    def _submit(self, task_id: int, caller: Actor, result: Felts, wrong_hash: bool) -> None:
        task = self._task(task_id)
        caller = self._resolve(caller, task)
        result_hash = payload_hash(result.felts)
        if wrong_hash:
            result_hash = (result_hash + 1) % FELT_PRIME
        if task is None:
            error = "TASK_NOT_FOUND"
        elif task.status != ASSIGNED:
            error = "TASK_NOT_ASSIGNED"
        elif caller.address != task.node:
            error = "NOT_ASSIGNED_NODE"
        elif self.now > task.deadline:
            error = "TASK_EXPIRED"
        elif len(result.felts) > MAX_FELTS:
            error = "RESULT_TOO_LONG"
        elif wrong_hash:
            error = "RESULT_HASH_MISMATCH"
        else:
            error = None
        call = self._invoke(
            self.escrow,
            "submit_proof_and_claim",
            caller,
            error,
            task_id=task_id,
            result_hash=result_hash,
            result=list(result.felts),
        )
        if call is None:
            return
        assert task is not None
        # Payout: the three parts in TaskCompleted sum to the amount and are the floor
        # divisions of the task's own split (the one current when it was created).
        completed = [e for e in call.events if e.from_address == self.escrow.address]
        assert len(completed) == 1
        payout = decode(completed[0])
        assert payout.name == "TaskCompleted"
        provider, gas, treasury = (
            payout.fields[part] for part in ("provider_amount", "gas_amount", "treasury_amount")
        )
        assert provider + gas + treasury == task.amount, "payout parts do not sum to the amount"
        assert gas == task.amount * task.fees[1] // 10000, "gas part is not floor(amount * bps)"
        assert treasury == task.amount * task.fees[2] // 10000, "treasury part is not floor(...)"
        assert (provider, gas, treasury) == split(task.amount, task.fees)
        event(
            "payout: dust to provider"
            if provider * 10000 != task.amount * task.fees[0]
            else "exact"
        )
        if task.fees != self.fees:
            event("payout: fee split changed since creation")
        transfers = [
            (self.escrow.address, recipient, part)
            for recipient, part in (
                (task.node, provider),
                (self.gas_recipient, gas),
                (self.treasury, treasury),
            )
            if part  # zero parts are not transferred
        ]
        self._check_events(
            call,
            (
                "TaskCompleted",
                [task_id, task.node, task.creator],
                [
                    result_hash,
                    len(result.felts),
                    *result.felts,
                    *u256(provider),
                    *u256(gas),
                    *u256(treasury),
                    self.now,
                ],
            ),
            transfers,
        )
        task.status = COMPLETED
        task.completed_at = self.now
        task.result_hash = result_hash
        node = self.nodes[task.node]
        node.completed_tasks += 1
        node.earnings += provider

    @precondition(lambda self: self._ids(ASSIGNED))
    @rule(
        data=st.data(),
        caller=st.sampled_from([STRANGER, THE_CREATOR, NODE_1, OWNER]),
        when=st.sampled_from(["after_deadline", "now", "at_deadline"]),
    )
    def reclaim_expired(self, data: st.DataObject, caller: Actor, when: str) -> None:
        """Reclaim now, or first move time to one second after the deadline (then it must
        succeed: every deadline is reachable), or onto it."""
        task_id = self._pick_task(data, ASSIGNED)
        self._move_to_deadline(task_id, {"now": None, "at_deadline": 0, "after_deadline": 1}[when])
        self._reclaim(caller, task_id)

    def _move_to_deadline(self, task_id: int, offset: int | None) -> None:
        task = self._task(task_id)
        if offset is not None and task is not None and task.status == ASSIGNED:
            self._advance_to(task.deadline + offset)

    def _reclaim(self, caller: Actor, task_id: int) -> None:
        task = self._task(task_id)
        caller = self._resolve(caller, task)
        if task is None:
            error = "TASK_NOT_FOUND"
        elif task.status != ASSIGNED:
            error = "TASK_NOT_ASSIGNED"
        elif self.now <= task.deadline:
            error = "TASK_NOT_EXPIRED"
        else:
            error = None
        result = self._invoke(self.escrow, "reclaim_expired", caller, error, task_id=task_id)
        if result is None:
            return
        assert task is not None
        self._check_events(
            result,
            ("TaskExpired", [task_id, task.node, task.creator], u256(task.amount)),
            [(self.escrow.address, task.creator, task.amount)],
        )
        task.status = EXPIRED
        self.nodes[task.node].failed_tasks += 1

    def _check_can_expire(self, task: TaskModel) -> None:
        """Dry run (a call: nothing is kept) of reclaim_expired one second after the deadline
        of a task just assigned: it can end without its node, so it never locks its amount."""
        block = self.chain.block
        try:
            self.chain.set_block(timestamp=task.deadline + 1)
            result = self.chain.call(self.escrow.address, "reclaim_expired", [task.id])
        finally:
            self.chain.set_block(block)
        names = [e.keys[0] for e in result.events if e.from_address == self.escrow.address]
        assert names == [SEL["TaskExpired"]], f"task {task.id} cannot expire"

    # -- nodes --------------------------------------------------------------------------

    @rule(
        node=st.sampled_from(NODE_CANDIDATES),
        tier=node_tiers,
        gpu=st.booleans(),
        cpu_threads=node_cpus,
        ram_gb=node_rams,
    )
    def register_node(
        self, node: Actor, tier: int, gpu: bool, cpu_threads: int, ram_gb: int
    ) -> None:
        model = self.nodes[node.address]
        if not 1 <= tier <= 5:
            error = "INVALID_TIER"
        elif model.status == NODE_SUSPENDED:
            error = "NODE_SUSPENDED"
        else:
            error = None
        result = self._invoke(
            self.escrow,
            "register_node",
            node,
            error,
            tier=tier,
            gpu=gpu,
            cpu_threads=cpu_threads,
            ram_gb=ram_gb,
        )
        if result is None:
            return
        registered_at = self.now if model.status == NODE_NONE else model.registered_at
        self._check_events(
            result,
            (
                "NodeRegistered",
                [node.address],
                [tier, int(gpu), cpu_threads, ram_gb, registered_at],
            ),
            [],
        )
        self.nodes[node.address] = replace(
            model,
            status=NODE_ACTIVE,
            tier=tier,
            gpu=gpu,
            cpu_threads=cpu_threads,
            ram_gb=ram_gb,
            registered_at=registered_at,
        )

    @rule(
        fn=st.sampled_from(["heartbeat", "deactivate_node"]),
        node=st.sampled_from([*NODES, ALICE, BOB]),
    )
    def heartbeat_or_deactivate(self, fn: str, node: Actor) -> None:
        self._node_call(fn, node)

    def _node_call(self, fn: str, node: Actor) -> None:
        model = self.nodes.get(node.address, NodeModel())
        expected_event: tuple[str, list[int], list[int]]
        if fn == "deactivate_node":
            error = None if model.status == NODE_ACTIVE else "NODE_NOT_ACTIVE"
            expected_event = ("NodeDeactivated", [node.address], [])
        else:
            if model.status == NODE_NONE:
                error = "NODE_NOT_REGISTERED"
            elif model.status == NODE_SUSPENDED:
                error = "NODE_SUSPENDED"
            else:
                error = None
            expected_event = ("NodeHeartbeat", [node.address], [self.now])
        result = self._invoke(self.escrow, fn, node, error)
        if result is None:
            return
        self._check_events(result, expected_event, [])
        if fn == "deactivate_node":
            model.status = NODE_INACTIVE
        else:
            model.last_heartbeat = self.now

    @rule(
        caller=owner_or_not,
        fn=st.sampled_from(["toggle", "toggle", "suspend_node", "reinstate_node"]),
        node=st.sampled_from([NODE_2, NODE_1, NODE_3, ALICE]),
    )
    def suspend_or_reinstate(self, caller: Actor, fn: str, node: Actor) -> None:
        """``toggle``: suspend the node, or reinstate it if it is suspended."""
        if fn == "toggle":
            suspended = self.nodes[node.address].status == NODE_SUSPENDED
            fn = "reinstate_node" if suspended else "suspend_node"
        self._suspend_or_reinstate(self._resolve(caller), fn, node)

    # NODE_2 starts Active, Inactive, or Suspended from either (reinstate_node must give that
    # status back), and an ownership transfer may be pending: the paths that need two calls
    # are then reachable within the few steps an example has.
    @initialize(
        node_2=st.sampled_from(["active", "suspended", "inactive", "inactive_suspended"]),
        pending_owner=st.sampled_from([None, ALICE, NODE_1]),
    )
    def nodes_and_ownership(self, node_2: str, pending_owner: Actor | None) -> None:
        if node_2.startswith("inactive"):
            self._node_call("deactivate_node", NODE_2)
        if node_2.endswith("suspended"):
            self._suspend_or_reinstate(OWNER, "suspend_node", NODE_2)
        if pending_owner is not None:
            self._transfer_ownership(OWNER, "transfer_ownership", pending_owner)

    # -- administration -----------------------------------------------------------------

    # The owner's calls share a few rules (and one caller draw each), so that they do not
    # crowd out the task rules: each step picks uniformly among the rules that are enabled.
    @rule(caller=owner_or_not, call=term_calls)
    def set_terms(self, caller: Actor, call: AdminCall) -> None:
        self._administer(caller, call)

    @rule(caller=owner_or_not, call=role_calls)
    def move_role(self, caller: Actor, call: AdminCall) -> None:
        self._administer(caller, call)

    @rule(
        caller=owner_or_not,
        which=st.sampled_from(["payment", "other"]),
        to=st.sampled_from([ALICE, TREASURY, STRANGER, ZERO, THE_ESCROW]),
        how_much=st.sampled_from(
            ["surplus", "half", "one", "surplus", "above", "everything", "zero"]
        ),
        stray=st.none() | stray_transfers,
    )
    def rescue_tokens(
        self, caller: Actor, which: str, to: Actor, how_much: str, stray: tuple[Actor, int] | None
    ) -> None:
        """Maybe a user first sends payment tokens straight to the escrow; then the owner
        rescues some of the payment token's surplus or of the other token."""
        if stray is not None:
            self._stray_transfer(*stray)
        self._rescue_tokens(self._resolve(caller), "rescue_tokens", which, to, how_much)

    def _administer(self, caller: Actor, call: AdminCall) -> None:
        methods: dict[str, Callable[..., None]] = {
            "pause": self._pause_or_unpause,
            "unpause": self._pause_or_unpause,
            "set_fee_config": self._set_fee_config,
            "set_max_execution_time": self._set_max_execution_time,
            "set_scheduler": self._set_role,
            "set_treasury": self._set_role,
            "set_gas_recipient": self._set_role,
            "transfer_ownership": self._transfer_ownership,
        }
        methods[call.fn](self._resolve(caller), call.fn, *call.args)

    def _suspend_or_reinstate(self, caller: Actor, fn: str, node: Actor) -> None:
        model = self.nodes[node.address]
        suspending = fn == "suspend_node"
        if caller.address != self.owner:
            error = "NOT_OWNER"
        elif suspending and model.status == NODE_NONE:
            error = "NODE_NOT_REGISTERED"
        elif suspending and model.status == NODE_SUSPENDED:
            error = "NODE_ALREADY_SUSPENDED"
        elif not suspending and model.status != NODE_SUSPENDED:
            error = "NODE_NOT_SUSPENDED"
        else:
            error = None
        result = self._invoke(self.escrow, fn, caller, error, node=node.address)
        if result is None:
            return
        if suspending:
            self._check_events(result, ("NodeSuspended", [node.address], []), [])
            model.suspended_from, model.status = model.status, NODE_SUSPENDED
        else:
            # The status it had when suspended: a node that had deactivated stays Inactive.
            restored = model.suspended_from
            event(f"reinstate_node: back to {['-', 'Active', 'Inactive'][restored]}")
            self._check_events(result, ("NodeReinstated", [node.address], [restored]), [])
            model.status = restored

    def _pause_or_unpause(self, caller: Actor, fn: str) -> None:
        pausing = fn == "pause"
        if caller.address != self.owner:
            error = "NOT_OWNER"
        elif pausing and self.paused:
            error = "ALREADY_PAUSED"
        elif not pausing and not self.paused:
            error = "NOT_PAUSED"
        else:
            error = None
        result = self._invoke(self.escrow, fn, caller, error)
        if result is None:
            return
        name = "Paused" if pausing else "Unpaused"
        self._check_events(result, (name, [caller.address], []), [])
        self.paused = pausing

    def _set_fee_config(
        self, caller: Actor, fn: str, provider_bps: int, gas_bps: int, treasury_bps: int
    ) -> None:
        """Changes the split of tasks created from now on only (the model's tasks keep theirs)."""
        if caller.address != self.owner:
            error = "NOT_OWNER"
        elif provider_bps + gas_bps + treasury_bps != 10000:
            error = "INVALID_FEE_SPLIT"
        elif treasury_bps > 2000:
            error = "TREASURY_FEE_TOO_HIGH"
        elif gas_bps > 1000:
            error = "GAS_FEE_TOO_HIGH"
        else:
            error = None
        result = self._invoke(
            self.escrow,
            fn,
            caller,
            error,
            provider_bps=provider_bps,
            gas_bps=gas_bps,
            treasury_bps=treasury_bps,
        )
        if result is None:
            return
        fees = (provider_bps, gas_bps, treasury_bps)
        self._check_events(result, ("FeeConfigUpdated", [], list(fees)), [])
        self.fees = fees

    def _set_max_execution_time(self, caller: Actor, fn: str, seconds: int) -> None:
        """Bounds the max_execution_time of tasks created from now on."""
        if caller.address != self.owner:
            error = "NOT_OWNER"
        elif seconds == 0:
            error = "INVALID_EXECUTION_TIME"
        elif seconds > MAX_EXECUTION_TIME_CAP:
            error = "EXECUTION_TIME_TOO_LONG"
        else:
            error = None
        result = self._invoke(self.escrow, fn, caller, error, seconds=seconds)
        if result is None:
            return
        self._check_events(
            result, ("MaxExecutionTimeUpdated", [], [self.max_execution_time, seconds]), []
        )
        self.max_execution_time = seconds

    def _set_role(self, caller: Actor, fn: str, new: Actor) -> None:
        """The scheduler, treasury or gas recipient moves (the payees never to the escrow)."""
        new = self._resolve(new)
        role, argument, name = {
            "set_scheduler": ("scheduler", "new_scheduler", "SchedulerUpdated"),
            "set_treasury": ("treasury", "new_treasury", "TreasuryUpdated"),
            "set_gas_recipient": ("gas_recipient", "new_gas_recipient", "GasRecipientUpdated"),
        }[fn]
        if caller.address != self.owner:
            error = "NOT_OWNER"
        elif new.address == 0:
            error = "ZERO_ADDRESS"
        elif role != "scheduler" and new.address == self.escrow.address:
            error = "SELF_ADDRESS"
        else:
            error = None
        result = self._invoke(self.escrow, fn, caller, error, **{argument: new.address})
        if result is None:
            return
        self._check_events(result, (name, [getattr(self, role), new.address], []), [])
        setattr(self, role, new.address)

    def _transfer_ownership(self, caller: Actor, fn: str, new_owner: Actor) -> None:
        """Starts (or, to ZERO, cancels) a two-step transfer: nothing moves until accepted."""
        error = None if caller.address == self.owner else "NOT_OWNER"
        result = self._invoke(self.escrow, fn, caller, error, new_owner=new_owner.address)
        if result is None:
            return
        self._check_events(
            result, ("OwnershipTransferStarted", [self.owner, new_owner.address], []), []
        )
        self.pending_owner = new_owner.address

    def _rescue_tokens(self, caller: Actor, fn: str, which: str, to: Actor, how_much: str) -> None:
        """The owner moves tokens nobody is owed: of the payment token only the balance above
        the Open and Assigned amounts; of another token anything the escrow holds."""
        to = self._resolve(to)
        token = self.token if which == "payment" else self.other
        escrow = self.escrow.address
        held = (self.balances if which == "payment" else self.other_balances)[escrow]
        free = held - self._escrowed() if which == "payment" else held
        assert free >= 0
        amount = {
            "surplus": free,
            "half": free // 2,
            "one": 1,
            "above": free + 1,
            "everything": held,
            "zero": 0,
        }[how_much]
        if caller.address != self.owner:
            error = "NOT_OWNER"
        elif to.address == 0:
            error = "ZERO_ADDRESS"
        elif amount == 0:
            error = "ZERO_AMOUNT"
        elif which == "payment" and amount > free:
            error = "RESCUE_EXCEEDS_SURPLUS"
        elif amount > held:
            error = "INSUFFICIENT_BALANCE"  # the other token's own check
        else:
            error = None
        result = self._invoke(
            self.escrow, fn, caller, error, token=token.address, to=to.address, amount=amount
        )
        if result is None:
            return
        self._check_events(
            result,
            ("TokensRescued", [token.address, to.address], u256(amount)),
            [(escrow, to.address, amount)],
            token=token,
        )

    @precondition(lambda self: self.pending_owner)
    @rule(caller=mostly(THE_PENDING_OWNER, ALICE, THE_OWNER, STRANGER))
    def accept_ownership(self, caller: Actor) -> None:
        caller = self._resolve(caller)
        if not self.pending_owner or caller.address != self.pending_owner:
            error = "NOT_PENDING_OWNER"
        else:
            error = None
        result = self._invoke(self.escrow, "accept_ownership", caller, error)
        if result is None:
            return
        self._check_events(result, ("OwnershipTransferred", [self.owner, caller.address], []), [])
        self.owner, self.pending_owner = caller.address, 0

    def _stray_transfer(self, sender: Actor, amount: int) -> None:
        """A user sends payment tokens straight to the escrow (no task): a surplus to rescue."""
        error = None if self.balances[sender.address] >= amount else "INSUFFICIENT_BALANCE"
        result = self._invoke(
            self.token, "transfer", sender, error, recipient=self.escrow.address, amount=amount
        )
        if result is None:
            return
        self._check_events(result, None, [(sender.address, self.escrow.address, amount)])

    # -- reads and time -----------------------------------------------------------------

    @rule(seconds=time_steps)
    def advance_time(self, seconds: int) -> None:
        self.chain.advance_time(seconds)

    def _advance_to(self, target: int) -> None:
        """Move time to ``target`` unless it is past."""
        if self.now <= target:
            event("time: moved to a deadline")
            self.chain.advance_time(target - self.now)

    # -- invariants ---------------------------------------------------------------------

    def _expected_view(self, users: list[int], nodes: list[int], others: list[int]) -> EscrowView:
        """What the views must show, by the model."""
        return EscrowView(
            settings={
                "owner": self.owner,
                "pending_owner": self.pending_owner,
                "payment_token": self.token.address,
                "scheduler": self.scheduler,
                "treasury": self.treasury,
                "gas_recipient": self.gas_recipient,
                "get_fee_config": fee_dict(self.fees),
                "max_execution_time": self.max_execution_time,
                "is_paused": self.paused,
                "escrowed_amount": self._escrowed(),
                "get_task_count": len(self.tasks_model),
            },
            tasks={i: t.view() for i, t in self.tasks_model.items()},
            nodes={n: self._node(n).view() for n in nodes},
            node_status={n: self._node(n).status for n in others},
            user_tasks={u: list(self.user_tasks[u]) for u in users if u in self.user_tasks},
            user_task_count={u: len(self.user_tasks.get(u, [])) for u in users},
            earnings={n: self._node(n).earnings for n in nodes},
        )

    def _node(self, address: int) -> NodeModel:
        return self.nodes.get(address, NodeModel())

    def _read_back(self) -> None:
        """Re-read every task, node, user and setting through the views and hold them against
        the model and against the replay of the event log (see the module docstring).

        Skipped when neither the escrow's storage nor its event log changed since the last
        read: the views read nothing else (no block time), so they would say the same."""
        escrow = self.escrow.address
        storage = {k: v for k, v in self.chain.state.storage.items() if k[0] == escrow}
        state = (len(self.log), storage)
        if state == self.last_read:
            return
        self.last_read = state
        replay = EscrowReplay.from_events(self.log)
        users = sorted({a.address for a in CREATORS} | set(self.user_tasks) | replay.known_users())
        # get_node for every node the model or the replay knows; get_node_status for the
        # candidates that never registered.
        nodes = sorted(
            {a for a, n in self.nodes.items() if n.status != NODE_NONE} | replay.known_nodes()
        )
        others = sorted({a.address for a in NODE_CANDIDATES} - set(nodes))
        views = read_views(self.escrow, users, nodes, others)

        for task_id, task in views.tasks.items():
            previous, status = self.seen_status.get(task_id, NONE), task["status"]
            assert previous == status or (previous, status) in EDGES, (
                f"task {task_id} moved {STATUS_NAMES[previous]} -> {STATUS_NAMES[status]}"
            )
            self.seen_status[task_id] = status

        wrong = differences(self._expected_view(users, nodes, others), views)
        assert not wrong, "views (right) differ from the model (left):\n" + "\n".join(wrong)
        wrong = differences(replay.view(users, nodes, others), views)
        assert not wrong, "views (right) differ from the event replay (left):\n" + "\n".join(wrong)

        # One more page of get_user_tasks per read, cycling through users, offsets and limits
        # (around the list's ends and the 100-id cap).
        self.reads += 1
        user = users[self.reads % len(users)]
        ids = self.user_tasks.get(user, [])
        offset, limit = PAGES[self.reads % len(PAGES)](len(ids))
        page = self.escrow.call("get_user_tasks", user=user, offset=offset, limit=limit)
        assert page == ids[offset : offset + min(limit, 100)], f"page {offset}, {limit}"

        locked = sum(t["amount"] for t in views.tasks.values() if t["status"] in (OPEN, ASSIGNED))
        assert views.settings["escrowed_amount"] == locked
        balance = self.token.call("balance_of", account=escrow)
        assert balance == self.balances[escrow]
        assert locked <= balance, "the escrow holds less than it owes"
        for task in views.tasks.values():
            if task["status"] == ASSIGNED:
                assigned_at = task["assigned_at"]
                execution_time = task["requirements"]["max_execution_time"]
                assert task["deadline"] == assigned_at + execution_time
                assert task["deadline"] < U64_MAX
                assert task["deadline"] <= assigned_at + MAX_EXECUTION_TIME_CAP

    @invariant()
    def views_match_the_model_and_the_event_replay(self) -> None:
        self._read_back()

    @invariant()
    def tokens_are_conserved(self) -> None:
        for token, model, supply in (
            (self.token, self.balances, self.total_supply),
            (self.other, self.other_balances, OTHER_AT_START),
        ):
            address = token.address
            raw_supply = _raw_u256(self.chain, address, "ERC20_total_supply")
            balances = {a: _raw_u256(self.chain, address, "ERC20_balances", a) for a in model}
            assert raw_supply == supply
            assert sum(balances.values()) == supply, "tokens left the known addresses"
            assert balances == model


# Only the fields set here override the loaded profile (tests/conftest.py: `ci` derandomizes);
# settings() copies the rest from settings.default, which conftest loaded before collection.
_loaded = settings.default
assert _loaded is not None
EscrowMachine.TestCase.settings = settings(
    _loaded,
    max_examples=200,
    stateful_step_count=15,
    deadline=None,
    # Each example takes seconds, so shrink one failure well rather than several halfway.
    report_multiple_bugs=False,
    suppress_health_check=[*_loaded.suppress_health_check, HealthCheck.too_slow],
)
TestEscrow = EscrowMachine.TestCase
