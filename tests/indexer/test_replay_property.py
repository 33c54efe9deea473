"""Property: random protocol histories, indexed in random batches with reorgs, read back right.

Hypothesis plays a random but valid history on the in-process chain (tests/indexer/
chain_history.py: tasks created, cancelled, assigned, claimed, expired and reclaimed; nodes
registered, deactivated, suspended and reinstated; heartbeats; fee, payee, time-bound, pause
and ownership changes; tokens sent straight to the escrow; time moving between random block
boundaries). The Escrow's and Token's events, laid out in blocks of :class:`RawEvent`, go
through :class:`EventPipeline` into a :class:`DuckDBStore` in random batches; at random points a
suffix is rolled back with ``rollback_to`` and re-applied on another fork (new hashes, maybe
shifted to higher block numbers), as a reorg would. After every write and rollback the index's
views (``tasks``, ``nodes``, ``user_tasks``, ``settings``, ``payouts``, ``transfers``, plus the
raw tables and the cursor) must say what tests/cairo/replay_model.py's independent
:class:`EscrowReplay` folds from the events below the cursor; at the end they must also say what
the contract's own views say (``read_views``), and again after a ``rebuild``.

The small tests at the bottom show the comparison has teeth: an index fed a batch with one
event dropped, a table skipped, a reorg re-applied one block short, or missing the last
transaction is caught.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starknet_py.hash.selector import get_selector_from_name

from indexer.pipeline import EventPipeline
from indexer.records import Batch, Cursor, RawEvent
from indexer.store import DuckDBStore, open_store
from smainer.engine import Event
from tests.cairo.replay_model import (
    TASK_ASSIGNED,
    TASK_OPEN,
    EscrowReplay,
    EscrowView,
    decode,
    differences,
    read_views,
)
from tests.indexer.chain_history import (
    ALICE,
    BOB,
    CREATORS,
    NODE_1,
    NODE_2,
    NODE_CANDIDATES,
    PAYEES,
    Block,
    History,
    Layout,
    genesis,
)

U128 = 2**128
TRANSFER = get_selector_from_name("Transfer")
REQUIREMENT_FIELDS = ("min_tier", "gpu_required", "cpu_threads", "ram_gb", "max_execution_time")
FEE_FIELDS = ("provider_bps", "gas_bps", "treasury_bps")
NODE_FIELDS = ("tier", "gpu", "cpu_threads", "ram_gb", "status", "registered_at")
NODE_COUNTERS = ("last_heartbeat", "completed_tasks", "failed_tasks")


def engine_event(e: RawEvent) -> Event:
    return Event(e.from_address, list(e.keys), list(e.data))


def felt(text: str) -> int:
    return int(text, 16)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# ------------------------------------------------------------------------------- the index


def index_view(
    con: duckdb.DuckDBPyConnection,
    users: list[int],
    nodes: list[int],
    status_only: list[int],
    problems: list[str],
) -> EscrowView:
    """The index's views in the shape of the contract's (``get_task``, ``get_node``...); a
    setting-less (empty) index has ``settings == {}``; duplicate rows go to ``problems``."""
    tasks: dict[int, dict[str, Any]] = {}
    for r in _rows(con, "SELECT * FROM tasks ORDER BY id"):
        if r["id"] in tasks:
            problems.append(f"tasks: task {r['id']} appears twice")
        tasks[r["id"]] = {
            "id": r["id"],
            "creator": felt(r["creator"]),
            "kind": felt(r["kind"]),
            "payload_hash": felt(r["payload_hash"]),
            "requirements": {k: r[k] for k in REQUIREMENT_FIELDS},
            "amount": int(r["amount"]),
            "fees": {k: r[k] for k in FEE_FIELDS},
            "status": r["status"],
            "node": felt(r["node"]),
            "created_at": r["created_at"],
            "assigned_at": r["assigned_at"],
            "deadline": r["deadline"],
            "completed_at": r["completed_at"],
            "result_hash": felt(r["result_hash"]),
        }
    node_rows: dict[int, dict[str, Any]] = {}
    for r in _rows(con, "SELECT * FROM nodes"):
        address = felt(r["node"])
        if address in node_rows:
            problems.append(f"nodes: node {r['node']} appears twice")
        node_rows[address] = {
            **{k: r[k] for k in (*NODE_FIELDS, *NODE_COUNTERS)},
            "earnings": int(r["earnings"]),
        }
    user_tasks: dict[int, list[int]] = {}
    for r in _rows(con, 'SELECT "user", "index", task_id FROM user_tasks ORDER BY ALL'):
        ids = user_tasks.setdefault(felt(r["user"]), [])
        if r["index"] != len(ids):
            problems.append(f"user_tasks: {r['user']} index {r['index']} after {len(ids)}")
        ids.append(r["task_id"])
    settings_rows = _rows(con, "SELECT * FROM settings")
    if len(settings_rows) > 1:
        problems.append(f"settings: {len(settings_rows)} rows")
    config: dict[str, Any] = {}
    if settings_rows:
        s = settings_rows[0]
        config = {
            **{
                name: felt(s[name])
                for name in (
                    "owner",
                    "pending_owner",
                    "payment_token",
                    "scheduler",
                    "treasury",
                    "gas_recipient",
                )
            },
            "get_fee_config": {k: s[k] for k in FEE_FIELDS},
            "max_execution_time": s["max_execution_time"],
            "is_paused": s["is_paused"],
            "escrowed_amount": int(s["escrowed_amount"]),
            "get_task_count": s["task_count"],
        }
    wanted = sorted(set(nodes))
    return EscrowView(
        settings=config,
        tasks=tasks,
        nodes={n: node_rows[n] for n in wanted if n in node_rows},
        node_status={n: node_rows[n]["status"] if n in node_rows else 0 for n in status_only},
        user_tasks={u: user_tasks[u] for u in sorted(set(users)) if u in user_tasks},
        user_task_count={u: len(user_tasks.get(u, [])) for u in sorted(set(users))},
        earnings={n: node_rows[n]["earnings"] for n in wanted if n in node_rows},
    )


def _int(blob: bytes | None) -> int:
    return 0 if blob is None else int.from_bytes(blob, "big")


def _felt_or_0(text: str | None) -> int:
    return 0 if text is None else felt(text)


def _amount(text: str | None) -> int | None:
    return None if text is None else int(text)


TASK_STATE_COLUMNS = (
    "id", "status", "creator", "kind", "node", "amount", "created_at", "assigned_at", "deadline",
    "completed_at", "created_block",
)  # fmt: skip


def state_tasks(con: duckdb.DuckDBPyConnection, problems: list[str]) -> dict[int, dict[str, Any]]:
    """``task_state`` (migration 002) in the shape of ``index_view``'s tasks plus what only it
    keeps (payload, result, settlement, refund, timeline), read from its ``detail`` document;
    its columns must say what the document says."""
    tasks: dict[int, dict[str, Any]] = {}
    rows = _rows(con, "SELECT * REPLACE (amount::VARCHAR AS amount) FROM task_state ORDER BY id")
    for r in rows:
        d = json.loads(r["detail"])
        if r["id"] in tasks:
            problems.append(f"task_state: task {r['id']} appears twice")
        columns = {
            **r,
            **{k: _int(r[k]) for k in ("creator", "kind", "node")},
            "amount": int(r["amount"]),
        }
        documented = {
            **{k: d[k] for k in TASK_STATE_COLUMNS},
            **{k: _felt_or_0(d[k]) for k in ("creator", "kind", "node")},
            "amount": int(d["amount"]),
        }
        for key in TASK_STATE_COLUMNS:
            if columns[key] != documented[key]:
                problems.append(
                    f"task_state.{r['id']}.{key}: column {columns[key]} != detail {documented[key]}"
                )
        tasks[r["id"]] = {
            **documented,
            "payload_hash": felt(d["payload_hash"]),
            "requirements": {k: d[k] for k in REQUIREMENT_FIELDS},
            "fees": {k: d[k] for k in FEE_FIELDS},
            "result_hash": _felt_or_0(d["result_hash"]),
            "payload": tuple(felt(f) for f in d["payload"]),
            "result": None if d["result"] is None else tuple(felt(f) for f in d["result"]),
            "settlement": None
            if d["provider_amount"] is None
            else (
                int(d["provider_amount"]),
                _amount(d["gas_amount"]),
                _amount(d["treasury_amount"]),
                _felt_or_0(d["gas_recipient"]),
                _felt_or_0(d["treasury"]),
            ),
            "refund": _amount(d["refund"]),
            "timeline": [
                (
                    t["event"],
                    t["block_number"],
                    t["transaction_index"],
                    t["event_index"],
                    felt(t["block_hash"]),
                    felt(t["transaction_hash"]),
                    t["timestamp"],
                )
                for t in d["timeline"]
            ],
        }
    return tasks


TASK_EVENTS = ("TaskCreated", "TaskAssigned", "TaskCompleted", "TaskCancelled", "TaskExpired")


def expected_task_extras(layout: Layout, written: int) -> dict[int, dict[str, Any]]:
    """What task_state keeps beyond the tasks view, folded from the events by hand: payload,
    result, settlement with the payees of that moment, refund, and the timeline with hashes
    and block times."""
    escrow = genesis().market.escrow.address
    times = {b.number: b.header.timestamp for b in layout.blocks[:written]}
    replay = EscrowReplay()
    extras: dict[int, dict[str, Any]] = {}
    for e in layout.events(written):
        if e.from_address != escrow:
            continue
        decoded = decode(engine_event(e))
        replay.apply(decoded)
        if decoded.name not in TASK_EVENTS:
            continue
        f = decoded.fields
        task = extras.setdefault(
            f["task_id"], {"result": None, "settlement": None, "refund": None, "timeline": []}
        )
        task["timeline"].append(
            (
                decoded.name,
                e.block_number,
                e.transaction_index,
                e.event_index,
                e.block_hash,
                e.transaction_hash,
                times[e.block_number],
            )
        )
        if decoded.name == "TaskCreated":
            task["payload"] = tuple(f["payload"])
            task["created_block"] = e.block_number
        elif decoded.name == "TaskCompleted":
            task["result"] = tuple(f["result"])
            task["settlement"] = (
                f["provider_amount"],
                f["gas_amount"],
                f["treasury_amount"],
                replay.gas_recipient,
                replay.treasury,
            )
        elif decoded.name in ("TaskCancelled", "TaskExpired"):
            task["refund"] = f["refund"]
    return extras


def task_state_problems(
    con: duckdb.DuckDBPyConnection,
    view_tasks: dict[int, dict[str, Any]],
    layout: Layout,
    written: int,
) -> list[str]:
    """task_state against the tasks view (itself checked against the replay) and the extras
    folded by hand."""
    problems: list[str] = []
    state = state_tasks(con, problems)
    extras = expected_task_extras(layout, written)
    if set(state) != set(view_tasks):
        problems.append(f"task_state: tasks {sorted(state)} != tasks view {sorted(view_tasks)}")
    for task_id in sorted(set(state) & set(view_tasks)):
        mine, want = state[task_id], {**view_tasks[task_id], **extras.get(task_id, {})}
        for key in sorted(mine):
            if mine[key] != want.get(key):
                problems.append(f"task_state.{task_id}.{key}: {mine[key]} != {want.get(key)}")
    return problems


def index_nodes(con: duckdb.DuckDBPyConnection) -> set[int]:
    return {felt(n) for (n,) in con.execute("SELECT node FROM nodes").fetchall()}


def index_users(con: duckdb.DuckDBPyConnection) -> set[int]:
    return {felt(u) for (u,) in con.execute('SELECT DISTINCT "user" FROM user_tasks').fetchall()}


# ------------------------------------------------------------------------------- expectations


def expected_payouts(events: list[RawEvent], escrow: int) -> dict[int, dict[str, Any]]:
    """Each completed task's split and payees (the gas recipient and treasury of that moment),
    by folding the replay one event at a time."""
    replay = EscrowReplay()
    payouts: dict[int, dict[str, Any]] = {}
    for e in events:
        if e.from_address != escrow:
            continue
        decoded = decode(engine_event(e))
        replay.apply(decoded)
        if decoded.name == "TaskCompleted":
            f = decoded.fields
            payouts[f["task_id"]] = {
                "node": f["node"],
                "creator": f["creator"],
                "provider_amount": f["provider_amount"],
                "gas_amount": f["gas_amount"],
                "treasury_amount": f["treasury_amount"],
                "gas_recipient": replay.gas_recipient,
                "treasury": replay.treasury,
                "completed_at": f["completed_at"],
                "block_number": e.block_number,
                "transaction_index": e.transaction_index,
            }
    return payouts


def index_payouts(con: duckdb.DuckDBPyConnection) -> dict[int, dict[str, Any]]:
    out = {}
    for r in _rows(con, "SELECT * FROM payouts"):
        task_id = r.pop("task_id")
        out[task_id] = {
            **r,
            **{k: felt(r[k]) for k in ("node", "creator", "gas_recipient", "treasury")},
            **{k: int(r[k]) for k in ("provider_amount", "gas_amount", "treasury_amount")},
        }
    return out


def expected_transfers(events: list[RawEvent], token: int, transfer: int) -> list[tuple[Any, ...]]:
    """The token's Transfer events read by hand: keys (selector, from, to), data (low, high)."""
    return sorted(
        (
            e.block_number,
            e.transaction_index,
            e.event_index,
            e.keys[1],
            e.keys[2],
            low + high * U128,
        )
        for e in events
        if e.from_address == token and e.keys[0] == transfer
        for low, high in [e.data]
    )


def index_transfers(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    rows = con.execute(
        'SELECT block_number, transaction_index, event_index, "from", "to", "value"::VARCHAR '
        "FROM transfers ORDER BY ALL"
    ).fetchall()
    return sorted((b, t, i, felt(f), felt(to), int(v)) for b, t, i, f, to, v in rows)


def check_index(
    store: DuckDBStore,
    layout: Layout,
    written: int,
    contract: Callable[[list[int], list[int], list[int]], EscrowView] | None = None,
) -> list[str]:
    """Everything wrong with an index that holds ``layout``'s first ``written`` blocks: its
    views against the replay of those blocks' events (and ``contract``'s views, if given), its
    payouts, transfers, raw events, blocks and cursor against the events themselves."""
    market = genesis().market
    escrow, token = market.escrow.address, market.token.address
    con = store.connection
    events = layout.events(written)
    escrow_events = [engine_event(e) for e in events if e.from_address == escrow]
    replay = EscrowReplay.from_events(escrow_events)
    problems: list[str] = []
    users = sorted(set(CREATORS) | replay.known_users() | index_users(con))
    nodes = sorted(replay.known_nodes() | index_nodes(con))
    status_only = sorted(set(NODE_CANDIDATES) - set(nodes))
    got = index_view(con, users, nodes, status_only, problems)
    blocks = dict(con.execute("SELECT id, created_block FROM tasks").fetchall())
    view_tasks = {i: {**task, "created_block": blocks.get(i)} for i, task in got.tasks.items()}
    problems += task_state_problems(con, view_tasks, layout, written)
    want = replay.view(users, nodes, status_only)
    if not replay.initialized:
        want.settings = {}
    problems += [f"index vs replay: {d}" for d in differences(want, got)]
    if contract is not None:
        views = contract(users, nodes, status_only)
        problems += [f"index vs contract: {d}" for d in differences(views, got)]

    created = {
        r["id"]: r["created_block"] for r in _rows(con, "SELECT id, created_block FROM tasks")
    }
    created_at = _created_blocks(events, escrow)
    if created != created_at:
        problems.append(f"tasks.created_block: {created} != {created_at}")
    if index_payouts(con) != expected_payouts(events, escrow):
        problems.append(f"payouts: {index_payouts(con)} != {expected_payouts(events, escrow)}")
    if index_transfers(con) != expected_transfers(events, token, TRANSFER):
        problems.append("transfers differ from the token's Transfer events")
    (raw,) = con.execute("SELECT count(*) FROM raw_events").fetchone() or (0,)
    if raw != len(events):
        problems.append(f"raw_events: {raw} rows for {len(events)} events")
    top = layout.blocks[written - 1] if written else None
    cursor = None if top is None else Cursor(top.number, top.header.hash)
    if store.cursor() != cursor:
        problems.append(f"cursor {store.cursor()} != {cursor}")
    stored = store.known_blocks(2**62, 10**6)
    laid = sorted(((b.number, b.header.hash) for b in layout.blocks[:written]), reverse=True)
    if stored != laid:
        problems.append("blocks differ from the headers written")
    return problems


def _created_blocks(events: list[RawEvent], escrow: int) -> dict[int, int]:
    out = {}
    for e in events:
        if e.from_address == escrow:
            d = decode(engine_event(e))
            if d.name == "TaskCreated":
                out[d.fields["task_id"]] = e.block_number
    return out


# ------------------------------------------------------------------------------- indexing


@functools.cache
def pipeline() -> EventPipeline:
    market = genesis().market
    return EventPipeline({"Escrow": market.escrow.address, "Token": market.token.address})


def new_store() -> DuckDBStore:
    store = open_store(":memory:")
    store.bind(pipeline().addresses, 1)
    return store


def make_batch(blocks: list[Block]) -> Batch:
    """Blocks as the runner hands them to the store: raw events, headers, decoded rows."""
    events = [e for b in blocks for e in b.events]
    decoded = pipeline().decode(events)
    assert decoded.undecoded == 0
    return Batch(
        first=blocks[0].number,
        last=blocks[-1].number,
        first_parent_hash=blocks[0].header.parent_hash,
        headers=[b.header for b in blocks],
        events=events,
        rows=decoded.rows,
        undecoded=decoded.undecoded,
    )


def roll_back(store: DuckDBStore, layout: Layout, kept: int) -> None:
    top = layout.blocks[kept - 1] if kept else None
    store.rollback_to(None if top is None else Cursor(top.number, top.header.hash))


def contract_views(history: History) -> Callable[[list[int], list[int], list[int]], EscrowView]:
    def read(users: list[int], nodes: list[int], status_only: list[int]) -> EscrowView:
        return read_views(history.escrow, users, nodes, status_only)

    return read


def assert_index_right(store: DuckDBStore, layout: Layout, written: int, **contract: Any) -> None:
    problems = check_index(store, layout, written, **contract)
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------- strategies

AMOUNTS = st.one_of(st.integers(1, 10_000), st.integers(1, 10**24))
SECONDS = st.sampled_from([60, 600, 3600, 7 * 24 * 3600])
MAX_TIMES = st.sampled_from([600, 3600, 7 * 24 * 3600])


def random_step(data: st.DataObject, h: History) -> None:
    """One action that is valid now (by the replay so far), or a move to a later block."""
    r = h.replay
    options = ["new_block", "nodes", "admin"]
    if not r.paused:
        options += ["create"] * 3
    if h.tasks_in(TASK_OPEN):
        options.append("cancel")
    if h.assignable():
        options += ["assign"] * 3
    if h.claimable():
        options += ["claim"] * 3
    if h.tasks_in(TASK_ASSIGNED):
        options += ["expire"] * 2
    if h.suspendable():
        options.append("heartbeat")
    if h.suspended():
        options.append("reinstate")
    choice = data.draw(st.sampled_from(options), label="step")
    if choice == "nodes":  # one option in all, so that suspensions do not stall the tasks
        lifecycle = ["register"]
        lifecycle += ["deactivate"] if h.nodes_in(1) else []
        lifecycle += ["suspend"] if h.suspendable() else []
        choice = data.draw(st.sampled_from(lifecycle), label="node step")
    elif choice == "admin":
        choice = data.draw(st.sampled_from(["fees", "roles", "stray"]), label="admin step")
    if choice == "new_block":
        h.new_block(data.draw(st.sampled_from([1, 12, 600, 4000]), label="seconds"))
    elif choice == "create":
        h.create(
            data.draw(st.sampled_from(CREATORS), label="creator"),
            data.draw(AMOUNTS, label="amount"),
            data.draw(st.integers(1, 3), label="min_tier"),
            data.draw(st.booleans(), label="gpu"),
            data.draw(SECONDS, label="seconds"),
        )
    elif choice == "cancel":
        h.cancel(data.draw(st.sampled_from(h.tasks_in(TASK_OPEN)), label="task"))
    elif choice == "assign":
        h.assign(*data.draw(st.sampled_from(h.assignable()), label="task, node"))
    elif choice == "claim":
        h.claim(data.draw(st.sampled_from(h.claimable()), label="task"))
    elif choice == "expire":
        h.expire(data.draw(st.sampled_from(h.tasks_in(TASK_ASSIGNED)), label="task"))
    elif choice == "register":
        node = data.draw(st.sampled_from([n for n in NODE_CANDIDATES if n not in h.suspended()]))
        h.register(
            node,
            data.draw(st.integers(1, 5), label="tier"),
            data.draw(st.booleans(), label="gpu"),
            data.draw(st.sampled_from([2, 4, 16]), label="cpu_threads"),
            data.draw(st.sampled_from([4, 8, 64]), label="ram_gb"),
        )
    elif choice in ("deactivate", "heartbeat"):
        fn = "deactivate_node" if choice == "deactivate" else "heartbeat"
        nodes = h.nodes_in(1) if choice == "deactivate" else h.suspendable()
        h.node_call(fn, data.draw(st.sampled_from(nodes), label="node"))
    elif choice == "suspend":
        h.owner_call("suspend_node", node=data.draw(st.sampled_from(h.suspendable())))
    elif choice == "reinstate":
        h.owner_call("reinstate_node", node=data.draw(st.sampled_from(h.suspended())))
    elif choice == "fees":
        gas = data.draw(st.integers(0, 1000), label="gas_bps")
        treasury = data.draw(st.integers(0, 2000), label="treasury_bps")
        h.owner_call(
            "set_fee_config",
            provider_bps=10_000 - gas - treasury,
            gas_bps=gas,
            treasury_bps=treasury,
        )
    elif choice == "stray":
        h.stray_transfer(data.draw(st.sampled_from(CREATORS)), data.draw(AMOUNTS))
    else:  # roles
        admin(data, h)


def admin(data: st.DataObject, h: History) -> None:
    calls = ["set_treasury", "set_gas_recipient", "set_max_execution_time", "pause"]
    calls += ["transfer_ownership"] + (["accept_ownership"] if h.replay.pending_owner else [])
    fn = data.draw(st.sampled_from(calls), label="admin")
    if fn == "set_treasury":
        h.owner_call(fn, new_treasury=data.draw(st.sampled_from(PAYEES)))
    elif fn == "set_gas_recipient":
        h.owner_call(fn, new_gas_recipient=data.draw(st.sampled_from(PAYEES)))
    elif fn == "set_max_execution_time":
        h.owner_call(fn, seconds=data.draw(MAX_TIMES, label="seconds"))
    elif fn == "pause":
        h.owner_call("unpause" if h.replay.paused else "pause")
    elif fn == "transfer_ownership":
        h.owner_call(fn, new_owner=data.draw(st.sampled_from([ALICE, BOB, 0])))
    else:
        h.accept_ownership()


def index_randomly(data: st.DataObject, store: DuckDBStore, layout: Layout) -> None:
    """Write the layout in random batches; at random points roll back a suffix and re-apply
    it on a new fork. The index must be right after every operation."""
    written = reorgs = 0
    while written < len(layout.blocks):
        if written and reorgs < 3 and data.draw(st.booleans(), label="reorg?"):
            kept = written - data.draw(st.integers(1, min(written, 4)), label="depth")
            roll_back(store, layout, kept)
            layout.fork(kept, data.draw(st.integers(0, 2), label="empty blocks"))
            written, reorgs = kept, reorgs + 1
        else:
            size = data.draw(st.integers(1, 3), label="batch blocks")
            store.write(make_batch(layout.blocks[written : written + size]))
            written = min(written + size, len(layout.blocks))
        assert_index_right(store, layout, written)
    event(f"reorgs: {reorgs}")


# ------------------------------------------------------------------------------- the property


@pytest.fixture(scope="module", autouse=True)
def _deployed() -> None:
    genesis()  # the one-off ~7 s deployment, outside Hypothesis's timing


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_the_index_says_what_the_replay_and_the_contract_say(data: st.DataObject) -> None:
    history = History()
    for _ in range(data.draw(st.integers(6, 24), label="steps")):
        random_step(data, history)
    layout = Layout.of(history)
    names = {decode(e).name for e in history.escrow_events()}
    for name in (
        "TaskCompleted",
        "TaskExpired",
        "TaskCancelled",
        "NodeReinstated",
        "NodeDeactivated",
        "FeeConfigUpdated",
    ):
        event(f"{name}: {name in names}")
    event(f"reverted calls: {history.reverted}")
    event(f"tasks: {len(history.replay.tasks)}")
    store = new_store()
    try:
        index_randomly(data, store, layout)
        everything = len(layout.blocks)
        assert_index_right(store, layout, everything, contract=contract_views(history))
        assert store.rebuild(pipeline().decode) == len(layout.events())
        assert_index_right(store, layout, everything)
    finally:
        store.close()


# ------------------------------------------------------------------------------- teeth


def scripted() -> History:
    """A short history with a claim, an expiry, a cancel, a heartbeat, a fee and a payee change,
    a node deactivated, suspended and reinstated (last)."""
    h = History()
    assert h.create(ALICE, 10**20 + 1999, 1, False, 3600)  # task 1
    assert h.create(BOB, 12_345, 2, False, 600)  # task 2
    assert h.create(NODE_1, 19, 1, False, 60)  # task 3
    h.new_block(12)
    assert h.assign(1, NODE_1)
    assert h.assign(2, NODE_2)
    assert h.node_call("heartbeat", NODE_1)
    assert h.owner_call("set_fee_config", provider_bps=7000, gas_bps=1000, treasury_bps=2000)
    assert h.owner_call("set_treasury", new_treasury=PAYEES[2])
    h.new_block(12)
    assert h.claim(1)
    assert h.cancel(3)
    assert h.expire(2)
    assert h.node_call("deactivate_node", NODE_2)
    assert h.owner_call("suspend_node", node=NODE_2)
    assert h.owner_call("reinstate_node", node=NODE_2)
    return h


def _block_of(layout: Layout, name: str) -> int:
    """Index in ``layout.blocks`` of the first block with an escrow event called ``name``."""
    escrow = genesis().market.escrow.address
    for at, block in enumerate(layout.blocks):
        for e in block.events:
            if e.from_address == escrow and decode(engine_event(e)).name == name:
                return at
    raise AssertionError(f"no {name} in the history")


def test_the_scripted_history_indexes_right() -> None:
    """The baseline of the mutants below: the same history, indexed plainly, is right."""
    history = scripted()
    layout = Layout.of(history)
    store = new_store()
    try:
        for block in layout.blocks:
            store.write(make_batch([block]))
        assert_index_right(store, layout, len(layout.blocks), contract=contract_views(history))
    finally:
        store.close()


def drop_one_event(store: DuckDBStore, layout: Layout) -> None:
    """The batch holding the claim loses its TaskCompleted (raw and decoded)."""
    at = _block_of(layout, "TaskCompleted")
    escrow = genesis().market.escrow.address
    for i, block in enumerate(layout.blocks):
        blocks = [block]
        if i == at:
            kept = tuple(
                e
                for e in block.events
                if not (
                    e.from_address == escrow and decode(engine_event(e)).name == "TaskCompleted"
                )
            )
            blocks = [Block(block.header, kept)]
        store.write(make_batch(blocks))


def skip_a_table(store: DuckDBStore, layout: Layout) -> None:
    """Every batch written without its ev_node_heartbeat rows (raw events kept)."""
    for block in layout.blocks:
        batch = make_batch([block])
        batch.rows.pop("ev_node_heartbeat", None)
        store.write(batch)


def reorg_one_block_short(store: DuckDBStore, layout: Layout) -> None:
    """A reorg re-applied from one block too high: the claim's block is never written again."""
    for block in layout.blocks:
        store.write(make_batch([block]))
    at = _block_of(layout, "TaskCompleted")
    roll_back(store, layout, at)
    layout.fork(at, 0)
    store.write(make_batch(layout.blocks[at + 1 :]))


@pytest.mark.parametrize(
    ("mutant", "symptom"),
    [
        (drop_one_event, "tasks.1.status: 3 != 2"),  # Completed on chain, still Assigned
        (skip_a_table, f"nodes.{NODE_1}.last_heartbeat"),
        (reorg_one_block_short, "tasks.1.status: 3 != 2"),
    ],
)
def test_a_wrong_index_is_caught(
    mutant: Callable[[DuckDBStore, Layout], None], symptom: str
) -> None:
    history = scripted()
    layout = Layout.of(history)
    store = new_store()
    try:
        mutant(store, layout)
        problems = check_index(store, layout, len(layout.blocks))
    finally:
        store.close()
    assert f"index vs replay: {symptom}" in "\n".join(problems), problems


def test_an_index_short_of_the_chain_is_caught_by_the_contract_views() -> None:
    """An index that misses the last transaction (reinstate_node) agrees with a replay of what
    it holds, but not with the contract."""
    history = scripted()
    layout = Layout.of(history)
    layout.transactions[-1].pop()
    layout.fork(0, 0)
    store = new_store()
    try:
        store.write(make_batch(layout.blocks))
        wrong = check_index(store, layout, len(layout.blocks), contract=contract_views(history))
    finally:
        store.close()
    assert wrong
    assert all(p.startswith("index vs contract") for p in wrong), wrong
    assert any(p.startswith(f"index vs contract: nodes.{NODE_2}.status") for p in wrong), wrong


# A planted bug in task_state's upkeep (DuckDBStore._refresh_tasks, migration 002) is caught.


def refresh_forgotten_on_rollback(store: DuckDBStore, layout: Layout) -> int:
    """A rollback that deletes the events above the fork but leaves task_state as it was."""
    for block in layout.blocks:
        store.write(make_batch([block]))
    at = _block_of(layout, "TaskCompleted")
    store._refresh_tasks = lambda ids: None  # type: ignore[method-assign]
    roll_back(store, layout, at)
    return at


def refresh_of_new_tasks_only(store: DuckDBStore, layout: Layout) -> int:
    """Batches that refresh only the tasks they create, not those whose later events they hold."""
    refresh = store._refresh_tasks
    for block in layout.blocks:
        batch = make_batch([block])
        created = {int(r["task_id"]) for r in batch.rows.get("ev_task_created", [])}
        store._refresh_tasks = lambda ids, created=created: refresh(ids & created)  # type: ignore[method-assign,misc]
        store.write(batch)
    return len(layout.blocks)


def timeline_without_the_last_event(store: DuckDBStore, layout: Layout) -> int:
    """Rows refreshed right, then each task's timeline loses its last event."""
    for block in layout.blocks:
        store.write(make_batch([block]))
    con = store.connection
    for task_id, detail in con.execute("SELECT id, detail FROM task_state").fetchall():
        document = json.loads(detail)
        document["timeline"].pop()
        con.execute(
            "UPDATE task_state SET detail = ? WHERE id = ?", [json.dumps(document), task_id]
        )
    return len(layout.blocks)


@pytest.mark.parametrize(
    ("mutant", "symptom"),
    [
        (refresh_forgotten_on_rollback, "task_state.1.status: 3 != 2"),
        (refresh_of_new_tasks_only, "task_state.1.status: 1 != 3"),
        (timeline_without_the_last_event, "task_state.1.timeline"),
    ],
)
def test_a_wrong_task_state_is_caught(
    mutant: Callable[[DuckDBStore, Layout], int], symptom: str
) -> None:
    history = scripted()
    layout = Layout.of(history)
    store = new_store()
    try:
        written = mutant(store, layout)
        problems = check_index(store, layout, written)
    finally:
        store.close()
    assert any(p.startswith(symptom) for p in problems), problems
    assert not any(p.startswith("index vs replay") for p in problems), problems
