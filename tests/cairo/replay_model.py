"""The escrow rebuilt from its events alone: what an indexer relies on.

docs/protocol.md promises that every state change of the escrow emits an event and that the
constructor's ``EscrowInitialized`` carries every initial setting, so that tasks, nodes,
earnings and settings can be rebuilt from the event log with no view call. This module is
that indexer in miniature:

* :func:`decode` reads one raw event (``keys``/``data`` felts) by the layout the docs give
  (``keys[0]`` the selector of the event name, then the ``#[key]`` fields; ``data`` the other
  fields in order; u256 as low, high; arrays length-prefixed) and insists that every felt is
  consumed, so a changed layout fails loudly instead of shifting fields;
* :class:`EscrowReplay` folds decoded events, starting from ``EscrowInitialized``, into plain
  Python tasks, nodes, per-user task lists, earnings and settings. It is strict: an event that
  does not fit the state so far (an unknown task, an edge the state machine does not have, an
  ``old`` that is not the current value, payout parts that are not the task's split) raises
  :class:`ReplayError`;
* :meth:`EscrowReplay.view` and :func:`read_views` put the replayed state and the contract's
  views (``get_task``, ``get_node``, ``get_user_tasks``, ``get_user_task_count``,
  ``get_user_earnings``, ``get_node_status`` and every settings view) into the same
  :class:`EscrowView` shape, and :func:`differences` lists every field where two of them
  disagree.

The stateful test (test_escrow_stateful.py) replays the whole log after every step and
compares; test_escrow_replay.py checks the decoder against the ABI and that a broken replay
is caught.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starknet_py.hash.selector import get_selector_from_name

from smainer.engine import Chain, Event
from smainer.engine.contract import DeployedContract
from smainer.sandbox import FeeSplit, Marketplace, Roles, deploy_sandbox

# Task and node statuses (docs/protocol.md).
TASK_OPEN, TASK_ASSIGNED, TASK_COMPLETED, TASK_CANCELLED, TASK_EXPIRED = range(1, 6)
NODE_NONE, NODE_ACTIVE, NODE_INACTIVE, NODE_SUSPENDED = range(4)
TASK_EDGES = {
    (TASK_OPEN, TASK_CANCELLED),
    (TASK_OPEN, TASK_ASSIGNED),
    (TASK_ASSIGNED, TASK_COMPLETED),
    (TASK_ASSIGNED, TASK_EXPIRED),
}
BPS = 10000
U128 = 2**128

# ------------------------------------------------------------------------------- decoding

# Field kinds: felt (one felt, also addresses, u8..u64, class hashes), bool, u256 (low, high),
# array (length, then items), fees (FeeConfig: 3 felts), requirements (Requirements: 5 felts).
FIELD_WIDTHS = {"felt": 1, "bool": 1, "u256": 2, "fees": 3, "requirements": 5}

# name -> (key fields after the selector, data fields), each (field name, kind).
EVENT_LAYOUTS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {
    "EscrowInitialized": (
        (("owner", "felt"), ("payment_token", "felt")),
        (
            ("scheduler", "felt"),
            ("treasury", "felt"),
            ("gas_recipient", "felt"),
            ("fees", "fees"),
            ("max_execution_time", "felt"),
        ),
    ),
    "TaskCreated": (
        (("task_id", "felt"), ("creator", "felt")),
        (
            ("kind", "felt"),
            ("payload_hash", "felt"),
            ("payload", "array"),
            ("requirements", "requirements"),
            ("amount", "u256"),
            ("fees", "fees"),
            ("created_at", "felt"),
        ),
    ),
    "TaskCancelled": ((("task_id", "felt"), ("creator", "felt")), (("refund", "u256"),)),
    "TaskAssigned": (
        (("task_id", "felt"), ("node", "felt"), ("creator", "felt")),
        (("assigned_at", "felt"), ("deadline", "felt")),
    ),
    "TaskCompleted": (
        (("task_id", "felt"), ("node", "felt"), ("creator", "felt")),
        (
            ("result_hash", "felt"),
            ("result", "array"),
            ("provider_amount", "u256"),
            ("gas_amount", "u256"),
            ("treasury_amount", "u256"),
            ("completed_at", "felt"),
        ),
    ),
    "TaskExpired": (
        (("task_id", "felt"), ("node", "felt"), ("creator", "felt")),
        (("refund", "u256"),),
    ),
    "NodeRegistered": (
        (("node", "felt"),),
        (
            ("tier", "felt"),
            ("gpu", "bool"),
            ("cpu_threads", "felt"),
            ("ram_gb", "felt"),
            ("registered_at", "felt"),
        ),
    ),
    "NodeDeactivated": ((("node", "felt"),), ()),
    "NodeHeartbeat": ((("node", "felt"),), (("timestamp", "felt"),)),
    "NodeSuspended": ((("node", "felt"),), ()),
    "NodeReinstated": ((("node", "felt"),), (("status", "felt"),)),
    "SchedulerUpdated": ((("old", "felt"), ("new", "felt")), ()),
    "TreasuryUpdated": ((("old", "felt"), ("new", "felt")), ()),
    "GasRecipientUpdated": ((("old", "felt"), ("new", "felt")), ()),
    "FeeConfigUpdated": (
        (),
        (("provider_bps", "felt"), ("gas_bps", "felt"), ("treasury_bps", "felt")),
    ),
    "MaxExecutionTimeUpdated": ((), (("old", "felt"), ("new", "felt"))),
    "TokensRescued": ((("token", "felt"), ("to", "felt")), (("amount", "u256"),)),
    "Paused": ((("account", "felt"),), ()),
    "Unpaused": ((("account", "felt"),), ()),
    "OwnershipTransferStarted": ((("previous_owner", "felt"), ("new_owner", "felt")), ()),
    "OwnershipTransferred": ((("previous_owner", "felt"), ("new_owner", "felt")), ()),
    "Upgraded": ((("class_hash", "felt"),), ()),
}
EVENT_NAMES = {get_selector_from_name(name): name for name in EVENT_LAYOUTS}


class ReplayError(AssertionError):
    """An event the replay cannot decode, or one that does not fit the state replayed so far."""


@dataclass(frozen=True)
class DecodedEvent:
    name: str
    fields: dict[str, Any]


def _read(felts: Sequence[int], at: int, kind: str) -> tuple[Any, int]:
    """One field of ``kind`` from ``felts[at:]``: (value, position after it)."""
    if kind == "array":
        if at >= len(felts):
            raise ReplayError("array length missing")
        length = felts[at]
        end = at + 1 + length
        if end > len(felts):
            raise ReplayError(f"array of {length} felts overruns the event")
        return tuple(felts[at + 1 : end]), end
    end = at + FIELD_WIDTHS[kind]
    if end > len(felts):
        raise ReplayError(f"{kind} field overruns the event")
    part = felts[at:end]
    if kind == "felt":
        return part[0], end
    if kind == "bool":
        if part[0] not in (0, 1):
            raise ReplayError(f"bool felt {part[0]}")
        return bool(part[0]), end
    if kind == "u256":
        low, high = part
        if low >= U128 or high >= U128:
            raise ReplayError(f"u256 words out of range: {part}")
        return low + high * U128, end
    if kind == "fees":
        return dict(zip(("provider_bps", "gas_bps", "treasury_bps"), part, strict=True)), end
    # requirements
    names = ("min_tier", "gpu_required", "cpu_threads", "ram_gb", "max_execution_time")
    value = dict(zip(names, part, strict=True))
    if value["gpu_required"] not in (0, 1):
        raise ReplayError(f"gpu_required felt {value['gpu_required']}")
    value["gpu_required"] = bool(value["gpu_required"])
    return value, end


def _read_all(
    felts: Sequence[int], layout: Sequence[tuple[str, str]], where: str
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    at = 0
    for name, kind in layout:
        values[name], at = _read(felts, at, kind)
    if at != len(felts):
        raise ReplayError(f"{len(felts) - at} felts left over in {where}")
    return values


def decode(event: Event) -> DecodedEvent:
    """An escrow event by name and fields, from its raw felts (docs/protocol.md's layout)."""
    if not event.keys or event.keys[0] not in EVENT_NAMES:
        raise ReplayError(f"not an escrow event: {event}")
    name = EVENT_NAMES[event.keys[0]]
    key_layout, data_layout = EVENT_LAYOUTS[name]
    try:
        keys = _read_all(event.keys[1:], key_layout, "keys")
        data = _read_all(event.data, data_layout, "data")
    except ReplayError as exc:
        raise ReplayError(f"{name}: {exc} ({event})") from None
    return DecodedEvent(name, {**keys, **data})


# ------------------------------------------------------------------------------- the fold


@dataclass
class ReplayedTask:
    id: int
    creator: int
    kind: int
    payload_hash: int
    payload: tuple[int, ...]
    requirements: dict[str, Any]
    amount: int
    fees: dict[str, int]
    created_at: int
    status: int = TASK_OPEN
    node: int = 0
    assigned_at: int = 0
    deadline: int = 0
    completed_at: int = 0
    result_hash: int = 0
    result: tuple[int, ...] = ()

    def view(self) -> dict[str, Any]:
        """In the shape ``get_task`` decodes to."""
        return {
            "id": self.id,
            "creator": self.creator,
            "kind": self.kind,
            "payload_hash": self.payload_hash,
            "requirements": dict(self.requirements),
            "amount": self.amount,
            "fees": dict(self.fees),
            "status": self.status,
            "node": self.node,
            "created_at": self.created_at,
            "assigned_at": self.assigned_at,
            "deadline": self.deadline,
            "completed_at": self.completed_at,
            "result_hash": self.result_hash,
        }


@dataclass
class ReplayedNode:
    tier: int = 0
    gpu: bool = False
    cpu_threads: int = 0
    ram_gb: int = 0
    status: int = NODE_NONE
    registered_at: int = 0
    last_heartbeat: int = 0
    completed_tasks: int = 0
    failed_tasks: int = 0
    earnings: int = 0

    def view(self) -> dict[str, Any]:
        """In the shape ``get_node`` decodes to."""
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


@dataclass
class EscrowView:
    """The escrow as seen through its views (or as replayed), for a set of addresses."""

    settings: dict[str, Any]
    tasks: dict[int, dict[str, Any]]
    nodes: dict[int, dict[str, Any]]
    node_status: dict[int, int]
    user_tasks: dict[int, list[int]]
    user_task_count: dict[int, int]
    earnings: dict[int, int]


@dataclass
class EscrowReplay:
    """Tasks, nodes, earnings and settings folded from the escrow's events, in order."""

    initialized: bool = False
    owner: int = 0
    pending_owner: int = 0
    payment_token: int = 0
    scheduler: int = 0
    treasury: int = 0
    gas_recipient: int = 0
    fees: dict[str, int] = field(default_factory=dict)
    max_execution_time: int = 0
    paused: bool = False
    class_hash: int | None = None  # the last Upgraded class, if any
    tasks: dict[int, ReplayedTask] = field(default_factory=dict)
    nodes: dict[int, ReplayedNode] = field(default_factory=dict)
    user_tasks: dict[int, list[int]] = field(default_factory=dict)
    rescued: list[tuple[int, int, int]] = field(default_factory=list)  # (token, to, amount)

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> EscrowReplay:
        replay = cls()
        for number, event in enumerate(events):
            try:
                replay.apply(decode(event))
            except ReplayError as exc:
                raise ReplayError(f"event #{number}: {exc}") from None
        return replay

    def apply(self, event: DecodedEvent) -> None:
        if not self.initialized and event.name != "EscrowInitialized":
            raise ReplayError(f"{event.name} before EscrowInitialized")
        getattr(self, f"_on_{event.name}")(**event.fields)

    # -- settings ---------------------------------------------------------------------------

    def _on_EscrowInitialized(
        self,
        owner: int,
        payment_token: int,
        scheduler: int,
        treasury: int,
        gas_recipient: int,
        fees: dict[str, int],
        max_execution_time: int,
    ) -> None:
        if self.initialized:
            raise ReplayError("a second EscrowInitialized")
        self.initialized = True
        self.owner, self.payment_token, self.scheduler = owner, payment_token, scheduler
        self.treasury, self.gas_recipient = treasury, gas_recipient
        self.fees, self.max_execution_time = dict(fees), max_execution_time

    def _replace(self, attribute: str, old: int, new: int) -> None:
        if getattr(self, attribute) != old:
            raise ReplayError(
                f"{attribute} update from {old:#x}, but it is {getattr(self, attribute):#x}"
            )
        setattr(self, attribute, new)

    def _on_SchedulerUpdated(self, old: int, new: int) -> None:
        self._replace("scheduler", old, new)

    def _on_TreasuryUpdated(self, old: int, new: int) -> None:
        self._replace("treasury", old, new)

    def _on_GasRecipientUpdated(self, old: int, new: int) -> None:
        self._replace("gas_recipient", old, new)

    def _on_FeeConfigUpdated(self, provider_bps: int, gas_bps: int, treasury_bps: int) -> None:
        if provider_bps + gas_bps + treasury_bps != BPS:
            raise ReplayError("a fee split that does not sum to 10000")
        self.fees = {"provider_bps": provider_bps, "gas_bps": gas_bps, "treasury_bps": treasury_bps}

    def _on_MaxExecutionTimeUpdated(self, old: int, new: int) -> None:
        self._replace("max_execution_time", old, new)

    def _on_Paused(self, account: int) -> None:
        if self.paused or account != self.owner:
            raise ReplayError(f"Paused by {account:#x} (paused: {self.paused})")
        self.paused = True

    def _on_Unpaused(self, account: int) -> None:
        if not self.paused or account != self.owner:
            raise ReplayError(f"Unpaused by {account:#x} (paused: {self.paused})")
        self.paused = False

    def _on_OwnershipTransferStarted(self, previous_owner: int, new_owner: int) -> None:
        if previous_owner != self.owner:
            raise ReplayError(f"transfer started by {previous_owner:#x}, not the owner")
        self.pending_owner = new_owner

    def _on_OwnershipTransferred(self, previous_owner: int, new_owner: int) -> None:
        if previous_owner != self.owner or new_owner != self.pending_owner or not new_owner:
            raise ReplayError(f"ownership {previous_owner:#x} -> {new_owner:#x} not pending")
        self.owner, self.pending_owner = new_owner, 0

    def _on_Upgraded(self, class_hash: int) -> None:
        self.class_hash = class_hash

    def _on_TokensRescued(self, token: int, to: int, amount: int) -> None:
        self.rescued.append((token, to, amount))

    # -- tasks ------------------------------------------------------------------------------

    def _task(
        self, task_id: int, status: int, *, creator: int, node: int | None = None
    ) -> ReplayedTask:
        task = self.tasks.get(task_id)
        if task is None:
            raise ReplayError(f"task {task_id} was never created")
        if (task.status, status) not in TASK_EDGES:
            raise ReplayError(f"task {task_id}: no edge {task.status} -> {status}")
        if creator != task.creator or (node is not None and node != task.node):
            raise ReplayError(f"task {task_id}: creator/node keys do not match the task")
        return task

    def _on_TaskCreated(
        self,
        task_id: int,
        creator: int,
        kind: int,
        payload_hash: int,
        payload: tuple[int, ...],
        requirements: dict[str, Any],
        amount: int,
        fees: dict[str, int],
        created_at: int,
    ) -> None:
        if task_id != len(self.tasks) + 1:
            raise ReplayError(f"task id {task_id} after {len(self.tasks)} tasks")
        self.tasks[task_id] = ReplayedTask(
            task_id, creator, kind, payload_hash, payload, dict(requirements), amount, dict(fees),
            created_at,
        )  # fmt: skip
        self.user_tasks.setdefault(creator, []).append(task_id)

    def _on_TaskCancelled(self, task_id: int, creator: int, refund: int) -> None:
        task = self._task(task_id, TASK_CANCELLED, creator=creator)
        if refund != task.amount:
            raise ReplayError(f"task {task_id}: refund {refund} of {task.amount}")
        task.status = TASK_CANCELLED

    def _on_TaskAssigned(
        self, task_id: int, node: int, creator: int, assigned_at: int, deadline: int
    ) -> None:
        task = self._task(task_id, TASK_ASSIGNED, creator=creator)
        task.status, task.node = TASK_ASSIGNED, node
        task.assigned_at, task.deadline = assigned_at, deadline

    def _on_TaskCompleted(
        self,
        task_id: int,
        node: int,
        creator: int,
        result_hash: int,
        result: tuple[int, ...],
        provider_amount: int,
        gas_amount: int,
        treasury_amount: int,
        completed_at: int,
    ) -> None:
        task = self._task(task_id, TASK_COMPLETED, creator=creator, node=node)
        gas = task.amount * task.fees["gas_bps"] // BPS
        treasury = task.amount * task.fees["treasury_bps"] // BPS
        if (provider_amount, gas_amount, treasury_amount) != (
            task.amount - gas - treasury,
            gas,
            treasury,
        ):
            raise ReplayError(f"task {task_id}: payout is not the task's own split")
        task.status, task.completed_at = TASK_COMPLETED, completed_at
        task.result_hash, task.result = result_hash, result
        earner = self.nodes.setdefault(node, ReplayedNode())
        earner.completed_tasks += 1
        earner.earnings += provider_amount

    def _on_TaskExpired(self, task_id: int, node: int, creator: int, refund: int) -> None:
        task = self._task(task_id, TASK_EXPIRED, creator=creator, node=node)
        if refund != task.amount:
            raise ReplayError(f"task {task_id}: refund {refund} of {task.amount}")
        task.status = TASK_EXPIRED
        self.nodes.setdefault(node, ReplayedNode()).failed_tasks += 1

    # -- nodes ------------------------------------------------------------------------------

    def _node(self, node: int, *allowed: int) -> ReplayedNode:
        model = self.nodes.setdefault(node, ReplayedNode())
        if model.status not in allowed:
            raise ReplayError(f"node {node:#x} in status {model.status}")
        return model

    def _on_NodeRegistered(
        self, node: int, tier: int, gpu: bool, cpu_threads: int, ram_gb: int, registered_at: int
    ) -> None:
        model = self._node(node, NODE_NONE, NODE_ACTIVE, NODE_INACTIVE)
        if model.status != NODE_NONE and registered_at != model.registered_at:
            raise ReplayError(f"node {node:#x}: registered_at moved")
        model.tier, model.gpu, model.cpu_threads, model.ram_gb = tier, gpu, cpu_threads, ram_gb
        model.registered_at, model.status = registered_at, NODE_ACTIVE

    def _on_NodeDeactivated(self, node: int) -> None:
        self._node(node, NODE_ACTIVE).status = NODE_INACTIVE

    def _on_NodeHeartbeat(self, node: int, timestamp: int) -> None:
        self._node(node, NODE_ACTIVE, NODE_INACTIVE).last_heartbeat = timestamp

    def _on_NodeSuspended(self, node: int) -> None:
        self._node(node, NODE_ACTIVE, NODE_INACTIVE).status = NODE_SUSPENDED

    def _on_NodeReinstated(self, node: int, status: int) -> None:
        if status not in (NODE_ACTIVE, NODE_INACTIVE):
            raise ReplayError(f"node {node:#x} reinstated to status {status}")
        self._node(node, NODE_SUSPENDED).status = status

    # -- the views --------------------------------------------------------------------------

    def escrowed_amount(self) -> int:
        return sum(t.amount for t in self.tasks.values() if t.status in (TASK_OPEN, TASK_ASSIGNED))

    def known_users(self) -> set[int]:
        return set(self.user_tasks)

    def known_nodes(self) -> set[int]:
        return set(self.nodes)

    def view(
        self, users: Iterable[int], nodes: Iterable[int], status_only: Iterable[int] = ()
    ) -> EscrowView:
        """What the views must show: every task, and these users, nodes (``get_node``) and
        nodes of which only ``get_node_status`` is read."""
        return EscrowView(
            settings={
                "owner": self.owner,
                "pending_owner": self.pending_owner,
                "payment_token": self.payment_token,
                "scheduler": self.scheduler,
                "treasury": self.treasury,
                "gas_recipient": self.gas_recipient,
                "get_fee_config": dict(self.fees),
                "max_execution_time": self.max_execution_time,
                "is_paused": self.paused,
                "escrowed_amount": self.escrowed_amount(),
                "get_task_count": len(self.tasks),
            },
            tasks={i: t.view() for i, t in self.tasks.items()},
            nodes={n: self._node_view(n) for n in sorted(set(nodes))},
            node_status={n: self._node_view(n)["status"] for n in sorted(set(status_only))},
            user_tasks={
                u: list(self.user_tasks[u]) for u in sorted(set(users)) if u in self.user_tasks
            },
            user_task_count={u: len(self.user_tasks.get(u, [])) for u in sorted(set(users))},
            earnings={n: self._node_view(n)["earnings"] for n in sorted(set(nodes))},
        )

    def _node_view(self, node: int) -> dict[str, Any]:
        return self.nodes.get(node, ReplayedNode()).view()


# ------------------------------------------------------------------------------- the views

SETTINGS_VIEWS = (
    "owner",
    "pending_owner",
    "payment_token",
    "scheduler",
    "treasury",
    "gas_recipient",
    "get_fee_config",
    "max_execution_time",
    "is_paused",
    "escrowed_amount",
    "get_task_count",
)
PAGE = 100  # get_user_tasks returns at most this many ids


def read_views(
    escrow: DeployedContract,
    users: Iterable[int],
    nodes: Iterable[int],
    status_only: Iterable[int] = (),
) -> EscrowView:
    """Every setting and every task (ids 1..get_task_count), by view calls; ``get_node`` and
    ``get_user_earnings`` of ``nodes``, ``get_node_status`` of ``status_only``, and for each of
    ``users`` ``get_user_task_count`` and, when it is not 0, ``get_user_tasks`` page by page."""
    settings = {name: _plain(escrow.call(name)) for name in SETTINGS_VIEWS}
    user_task_count = {u: escrow.call("get_user_task_count", user=u) for u in sorted(set(users))}
    user_tasks: dict[int, list[int]] = {}
    for user, count in user_task_count.items():
        if not count:
            continue
        ids: list[int] = []
        while len(ids) < count:  # page by page, as a client would
            page = escrow.call("get_user_tasks", user=user, offset=len(ids), limit=PAGE)
            if not page:
                break
            ids.extend(page)
        user_tasks[user] = ids
    node_views = {n: _plain(escrow.call("get_node", node=n)) for n in sorted(set(nodes))}
    return EscrowView(
        settings=settings,
        tasks={
            i: _plain(escrow.call("get_task", task_id=i))
            for i in range(1, settings["get_task_count"] + 1)
        },
        nodes=node_views,
        node_status={n: escrow.call("get_node_status", node=n) for n in sorted(set(status_only))},
        user_tasks=user_tasks,
        user_task_count=user_task_count,
        earnings={n: escrow.call("get_user_earnings", provider=n) for n in node_views},
    )


def _plain(value: Any) -> Any:
    """starknet-py's OrderedDicts as plain dicts (for readable messages)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def differences(expected: EscrowView, actual: EscrowView) -> list[str]:
    """Every field where ``actual`` is not ``expected``, as ``path: expected != actual``."""
    found: list[str] = []

    def walk(path: str, want: Any, got: Any) -> None:
        if isinstance(want, Mapping) and isinstance(got, Mapping):
            for key in sorted(set(want) | set(got), key=str):
                label = f"{key:#x}" if isinstance(key, int) and key > 255 else str(key)
                walk(f"{path}.{label}", want.get(key, "<missing>"), got.get(key, "<missing>"))
        elif want != got:
            found.append(f"{path}: {_show(want)} != {_show(got)}")

    for name in (
        "settings",
        "tasks",
        "nodes",
        "node_status",
        "user_tasks",
        "user_task_count",
        "earnings",
    ):
        walk(name, getattr(expected, name), getattr(actual, name))
    return found


def _show(value: Any) -> str:
    return (
        f"{value:#x}"
        if isinstance(value, int) and not isinstance(value, bool) and value > 2**32
        else repr(value)
    )


# ------------------------------------------------------------------------------- deployment


def deploy_logged_marketplace(
    chain: Chain, roles: Roles | None = None, fees: FeeSplit | None = None
) -> tuple[Marketplace, list[Event]]:
    """The sandbox's marketplace and the escrow's log so far (its constructor's events: a
    replay starts from EscrowInitialized)."""
    market = deploy_sandbox(chain, roles=roles, fees=fees)
    return market, list(market.escrow_constructor_events)
