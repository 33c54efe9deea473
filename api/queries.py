"""Every read of the index, in one class over one DuckDB cursor: named queries from
``api/sql/``, values always as parameters, rows turned into the shapes of ``api/schemas.py``.

A :class:`IndexReader` lives for one request (a yield dependency opens and closes its cursor);
DuckDB gives the cursor a consistent snapshot, so a page never mixes two indexed batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import msgspec

from api import schemas
from api.errors import NotFoundError
from api.params import NODE_STATUSES, TASK_STATUSES, decode_shortstring, encode_cursor
from smainer.payload import PayloadError, decode_json
from smainer.reputation import PRIOR_COMPLETED, PRIOR_FAILED

SQL_DIR = Path(__file__).with_name("sql")
TASK_STATUS_NAMES = {v: k for k, v in TASK_STATUSES.items()}
NODE_STATUS_NAMES = {v: k for k, v in NODE_STATUSES.items()}


@cache
def load_sql(name: str) -> str:
    """A named query of ``api/sql/``."""
    return (SQL_DIR / f"{name}.sql").read_text()


PAGE_WINDOW = 16
"""A page is first sought among the newest ``PAGE_WINDOW * (limit + 1)`` ids below its cursor
(enough for no filter, or a status that one task in eight has)."""
PAGE_FILTERS = {
    "status": "status = $status::UTINYINT",
    "creator": "creator = $creator::BLOB",
    "provider": "node = $provider::BLOB",
    "party": "(creator = $party::BLOB OR node = $party::BLOB)",
    "kind": "kind = $kind::BLOB",
    "created_after": "created_at > $created_after::UBIGINT",
    "created_before": "created_at < $created_before::UBIGINT",
    "before_id": "id < $before_id::UBIGINT",
    "low": "id >= $low::UBIGINT",
}
"""The test of each filter of ``tasks_page.sql``, added only when the filter is given."""


@cache
def _page_sql(filters: tuple[str, ...]) -> str:
    """``tasks_page.sql`` with the tests of ``filters`` (names of PAGE_FILTERS; others, like
    ``limit``, are plain parameters)."""
    tests = "".join(f"\n  AND {PAGE_FILTERS[f]}" for f in filters if f in PAGE_FILTERS)
    return load_sql("tasks_page").replace("{conditions}", tests)


def felt_blob(value: str) -> bytes:
    """A normalised hex felt as the index stores it (32 bytes, big-endian)."""
    return int(value, 16).to_bytes(32, "big")


def _hex(blob: bytes) -> str:
    """A stored felt as normalised hex (what the index's ``felt_hex`` macro writes)."""
    return hex(int.from_bytes(blob, "big"))


def _hex_or_none(blob: bytes | None) -> str | None:
    """Unset felts (NULL, or 0 as the contract shows them) as ``None``."""
    if blob is None:
        return None
    value = int.from_bytes(blob, "big")
    return hex(value) if value else None


def _blob(value: str | None) -> bytes | None:
    return None if value is None else felt_blob(value)


def _decoded(felts: list[str]) -> tuple[Any, str | None]:
    try:
        return decode_json([int(f, 16) for f in felts]), None
    except PayloadError as exc:
        return None, str(exc)


def _zero_none(value: int) -> int | None:
    return int(value) or None


def _task_summary(row: dict[str, Any]) -> schemas.TaskSummary:
    """A task_state row (felts as stored) as the API shows a task."""
    kind = _hex(row["kind"])
    return schemas.TaskSummary(
        id=int(row["id"]),
        status=TASK_STATUS_NAMES.get(int(row["status"]), str(row["status"])),
        creator=_hex(row["creator"]),
        kind=kind,
        kind_name=decode_shortstring(kind),
        amount=row["amount"],
        node=_hex_or_none(row["node"]),
        created_at=int(row["created_at"]),
        assigned_at=_zero_none(row["assigned_at"]),
        deadline=_zero_none(row["deadline"]),
        completed_at=_zero_none(row["completed_at"]),
        created_block=int(row["created_block"]),
    )


def task_detail(doc: dict[str, Any]) -> schemas.TaskDetail:
    """A task's page from its task_state document (api/sql/task.sql; migration 002 writes it in
    the views' conventions: felts as normalised hex, amounts as decimal strings)."""
    payload_felts: list[str] = doc["payload"]
    payload, payload_error = _decoded(payload_felts)
    result_felts: list[str] | None = doc["result"]
    result, result_error = (None, None) if result_felts is None else _decoded(result_felts)
    settlement = None
    if doc["provider_amount"] is not None:
        settlement = schemas.Settlement(
            provider_amount=doc["provider_amount"],
            gas_amount=doc["gas_amount"],
            treasury_amount=doc["treasury_amount"],
            gas_recipient=doc["gas_recipient"],
            treasury=doc["treasury"],
        )
    result_hash = doc["result_hash"]
    return schemas.TaskDetail(
        task=schemas.TaskSummary(
            id=doc["id"],
            status=TASK_STATUS_NAMES.get(doc["status"], str(doc["status"])),
            creator=doc["creator"],
            kind=doc["kind"],
            kind_name=decode_shortstring(doc["kind"]),
            amount=doc["amount"],
            node=doc["node"],
            created_at=doc["created_at"],
            assigned_at=doc["assigned_at"] or None,
            deadline=doc["deadline"] or None,
            completed_at=doc["completed_at"] or None,
            created_block=doc["created_block"],
        ),
        requirements=schemas.Requirements(
            min_tier=doc["min_tier"],
            gpu_required=doc["gpu_required"],
            cpu_threads=doc["cpu_threads"],
            ram_gb=doc["ram_gb"],
            max_execution_time=doc["max_execution_time"],
        ),
        fees=schemas.Fees(
            provider_bps=doc["provider_bps"],
            gas_bps=doc["gas_bps"],
            treasury_bps=doc["treasury_bps"],
        ),
        payload_hash=doc["payload_hash"],
        payload_felts=payload_felts,
        payload=payload,
        payload_error=payload_error,
        result_hash=None if result_hash in (None, "0x0") else result_hash,
        result_felts=result_felts,
        result=result,
        result_error=result_error,
        settlement=settlement,
        refund=doc["refund"],
        timeline=[schemas.TimelineEvent(**event) for event in doc["timeline"]],
    )


def node_from_row(row: dict[str, Any]) -> schemas.Node:
    return schemas.Node(
        address=row["node"],
        tier=int(row["tier"]),
        gpu=bool(row["gpu"]),
        cpu_threads=int(row["cpu_threads"]),
        ram_gb=int(row["ram_gb"]),
        status=NODE_STATUS_NAMES.get(int(row["status"]), str(row["status"])),
        registered_at=int(row["registered_at"]),
        last_heartbeat=_zero_none(row["last_heartbeat"]),
        completed_tasks=int(row["completed_tasks"]),
        failed_tasks=int(row["failed_tasks"]),
        earnings=row["earnings"],
        reputation=float(row["reputation"]),
        online=bool(row["online"]),
    )


class IndexReader:
    """The API's queries over one cursor of the index."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, online_window: int = 600) -> None:
        self.cursor = cursor
        self.online_window = online_window

    # -- plumbing ----------------------------------------------------------------------------

    def rows(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._rows_of(load_sql(name), params or {})

    def _rows_of(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        result = self.cursor.execute(sql, params)
        names = [d[0] for d in result.description or []]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def one(self, name: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        found = self.rows(name, params)
        return found[0] if found else None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Several reads as one transaction: they see the index as of one indexed batch."""
        self.cursor.begin()
        try:
            yield
        except BaseException:
            self.cursor.rollback()
            raise
        self.cursor.commit()

    # -- reads -------------------------------------------------------------------------------

    def indexed_block(self) -> int | None:
        row = self.one("cursor")
        return None if row is None else int(row["block_number"])

    def contracts(self) -> dict[str, str]:
        return {r["name"]: r["address"] for r in self.rows("contracts")}

    def tasks(
        self,
        *,
        limit: int,
        before_id: int | None = None,
        status: int | None = None,
        creator: str | None = None,
        provider: str | None = None,
        party: str | None = None,
        kind: str | None = None,
        created_after: int | None = None,
        created_before: int | None = None,
    ) -> schemas.TaskPage:
        """A page of tasks from ``task_state`` (one row per task, kept by the indexer with
        each batch). First only among the newest ``PAGE_WINDOW * (limit + 1)`` ids below the
        cursor, whose row groups alone are read; a filter that leaves too few there is asked
        again over every task. Each page comes from one statement, so one snapshot."""
        given = {
            "status": status,
            "creator": _blob(creator),
            "provider": _blob(provider),
            "party": _blob(party),
            "kind": _blob(kind),
            "created_after": created_after,
            "created_before": created_before,
            "before_id": before_id,
        }
        values: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        values["limit"] = limit + 1
        # Where the newest ids start: below the cursor, or below the task count (ids run 1, 2,
        # ... from the escrow's deployment; a count answered from DuckDB's metadata, ~0.2 ms).
        # A constant, so that DuckDB skips the older row groups; any value gives right pages,
        # since a window short of limit + 1 rows is asked again over every task.
        top = before_id if before_id is not None else self._task_count()
        low = max(top - PAGE_WINDOW * (limit + 1), 0)
        rows = self._rows_of(_page_sql((*sorted(values), "low")), {**values, "low": low})
        if len(rows) <= limit and low > 0:
            rows = self._rows_of(_page_sql(tuple(sorted(values))), values)
        items = [_task_summary(r) for r in rows[:limit]]
        more = len(rows) > limit
        return schemas.TaskPage(
            items=items, next_cursor=encode_cursor(items[-1].id) if more and items else None
        )

    def _task_count(self) -> int:
        row = self.cursor.execute(load_sql("task_count")).fetchone()
        return 0 if row is None else int(row[0])

    def task(self, task_id: int) -> schemas.TaskDetail:
        """The task in full from its ``task_state`` row: one statement (DuckDB's overhead per
        statement, not what it reads, is most of a lookup's cost; scripts/bench_api.py)."""
        row = self.cursor.execute(load_sql("task"), {"id": task_id}).fetchone()
        if row is None:
            raise NotFoundError(f"no task {task_id} in the index")
        return task_detail(msgspec.json.decode(row[0]))

    def nodes(
        self,
        *,
        node: str | None = None,
        status: int | None = None,
        min_tier: int | None = None,
        gpu: bool | None = None,
        cpu_threads: int | None = None,
        ram_gb: int | None = None,
        online: bool | None = None,
    ) -> list[schemas.Node]:
        rows = self.rows(
            "nodes",
            {
                "window": self.online_window,
                "prior_completed": PRIOR_COMPLETED,
                "prior_failed": PRIOR_FAILED,
                "node": node,
                "status": status,
                "min_tier": min_tier,
                "gpu": gpu,
                "cpu_threads": cpu_threads,
                "ram_gb": ram_gb,
                "online": online,
            },
        )
        return [node_from_row(r) for r in rows]

    def node(self, address: str) -> schemas.NodeDetail:
        found = self.nodes(node=address)
        if not found:
            raise NotFoundError(f"no node {address} in the index")
        node = found[0]
        row = self.one("node_stats", {"node": felt_blob(address)}) or {}
        finished = node.completed_tasks + node.failed_tasks
        hours = max(int(row.get("now") or 0) - node.registered_at, 0) / 3600
        earnings = int(node.earnings)
        average = row.get("average_completion")
        return schemas.NodeDetail(
            node=node,
            stats=schemas.NodeStats(
                total_tasks=int(row.get("total_tasks") or 0),
                assigned_now=int(row.get("assigned_now") or 0),
                completed=node.completed_tasks,
                failed=node.failed_tasks,
                success_rate=node.completed_tasks / finished if finished else None,
                average_completion_seconds=None if average is None else float(average),
                earnings=node.earnings,
                earnings_per_hour_active=str(int(earnings / hours)) if hours > 0 else "0",
            ),
        )

    def stats(self) -> schemas.Stats:
        row = self.one("stats") or {}
        counts = {TASK_STATUS_NAMES[s]: 0 for s in sorted(TASK_STATUS_NAMES)}
        for r in self.rows("tasks_by_status"):
            counts[TASK_STATUS_NAMES.get(int(r["status"]), str(r["status"]))] = int(r["n"])
        now = int(row.get("now") or 0)
        per_hour = {
            int(r["hour_start"]): int(r["n"]) for r in self.rows("completed_per_hour", {"now": now})
        }
        last_hour = (now // 3600) * 3600
        hours = [last_hour - 3600 * i for i in range(23, -1, -1)]
        completed, expired = counts["completed"], counts["expired"]
        median = row.get("median_completion")
        indexed = row.get("indexed_block")
        return schemas.Stats(
            tasks_by_status=counts,
            tasks_total=sum(counts.values()),
            nodes_active=int(row.get("nodes_active") or 0),
            nodes_total=int(row.get("nodes_total") or 0),
            escrowed=row.get("escrowed") or "0",
            settled=row.get("settled") or "0",
            refunded=row.get("refunded") or "0",
            paid_to_providers=row.get("paid_to_providers") or "0",
            paid_to_gas=row.get("paid_to_gas") or "0",
            paid_to_treasury=row.get("paid_to_treasury") or "0",
            completed_per_hour=[
                schemas.HourCount(hour_start=h, completed=per_hour.get(h, 0)) for h in hours
            ],
            median_completion_seconds=None if median is None else float(median),
            success_rate=completed / (completed + expired) if completed + expired else None,
            indexed_block=None if indexed is None else int(indexed),
            chain_time=now or None,
        )

    def earnings(self, address: str) -> schemas.Earnings:
        payouts = [
            schemas.Payout(
                task_id=int(r["task_id"]),
                role=r["role"],
                amount=r["amount"],
                block_number=int(r["block_number"]),
                transaction_hash=r["transaction_hash"],
            )
            for r in self.rows("earnings", {"address": address})
            if int(r["amount"]) > 0  # a zero share is not transferred (docs/protocol.md)
        ]
        by_role = {"provider": 0, "gas": 0, "treasury": 0}
        for p in payouts:
            by_role[p.role] += int(p.amount)
        return schemas.Earnings(
            address=address,
            as_provider=str(by_role["provider"]),
            as_gas_recipient=str(by_role["gas"]),
            as_treasury=str(by_role["treasury"]),
            total=str(sum(by_role.values())),
            payouts=payouts,
        )

    def history(self, address: str) -> schemas.History:
        return schemas.History(
            address=address,
            movements=[
                schemas.Movement(
                    direction=r["direction"],
                    amount=r["amount"],
                    block_number=int(r["block_number"]),
                    transaction_hash=r["tx_hash"],
                    timestamp=None if r["timestamp"] is None else int(r["timestamp"]),
                )
                for r in self.rows("history", {"address": felt_blob(address)})
            ],
        )

    def settings(self) -> dict[str, Any] | None:
        return self.one("settings")

    def last_event(self) -> tuple[int, int, int]:
        row = self.one("last_event")
        if row is None:
            return (0, 0, 0)
        return (int(row["block_number"]), int(row["transaction_index"]), int(row["event_index"]))

    def events_after(self, position: tuple[int, int, int], limit: int) -> list[dict[str, Any]]:
        block, tx, ev = position
        return self.rows("events_after", {"block": block, "tx": tx, "ev": ev, "limit": limit})

    def events_from(self, position: tuple[int, int, int], limit: int) -> list[dict[str, Any]]:
        block, tx, ev = position
        return self.rows("events_from", {"block": block, "tx": tx, "ev": ev, "limit": limit})
