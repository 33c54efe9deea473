"""Every read of the index, in one class over one DuckDB cursor: named queries from
``api/sql/``, values always as parameters, rows turned into the shapes of ``api/schemas.py``.

A :class:`IndexReader` lives for one request (a yield dependency opens and closes its cursor);
DuckDB gives the cursor a consistent snapshot, so a page never mixes two indexed batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

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


def felt_blob(value: str) -> bytes:
    """A normalised hex felt as the index stores it (32 bytes, big-endian)."""
    return int(value, 16).to_bytes(32, "big")


def _hexes(blobs: Sequence[bytes] | None) -> list[str]:
    return [hex(int.from_bytes(b, "big")) for b in blobs or []]


def _decoded(felts: list[str]) -> tuple[Any, str | None]:
    try:
        return decode_json([int(f, 16) for f in felts]), None
    except PayloadError as exc:
        return None, str(exc)


def _zero_none(value: int) -> int | None:
    return int(value) or None


def _task_summary(row: dict[str, Any]) -> schemas.TaskSummary:
    return schemas.TaskSummary(
        id=int(row["id"]),
        status=TASK_STATUS_NAMES.get(int(row["status"]), str(row["status"])),
        creator=row["creator"],
        kind=row["kind"],
        kind_name=decode_shortstring(row["kind"]),
        amount=row["amount"],
        node=None if row["node"] == "0x0" else row["node"],
        created_at=int(row["created_at"]),
        assigned_at=_zero_none(row["assigned_at"]),
        deadline=_zero_none(row["deadline"]),
        completed_at=_zero_none(row["completed_at"]),
        created_block=int(row["created_block"]),
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
        result = self.cursor.execute(load_sql(name), params or {})
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

    def cursor_key(self) -> tuple[int, bytes] | None:
        """The index's version: answers computed under the same key are still current."""
        row = self.one("cursor_key")
        return None if row is None else (int(row["block_number"]), bytes(row["block_hash"]))

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
        if status is None and provider is None and party is None:
            rows = self._recent_tasks(
                limit + 1,
                before_id=before_id,
                creator=creator,
                kind=kind,
                created_after=created_after,
                created_before=created_before,
            )
        else:
            rows = self.rows(
                "tasks_page",
                {
                    "limit": limit + 1,
                    "before_id": before_id,
                    "status": status,
                    "creator": creator,
                    "provider": provider,
                    "party": party,
                    "kind": kind,
                    "created_after": created_after,
                    "created_before": created_before,
                },
            )
        items = [_task_summary(r) for r in rows[:limit]]
        more = len(rows) > limit
        return schemas.TaskPage(
            items=items, next_cursor=encode_cursor(items[-1].id) if more and items else None
        )

    def _recent_tasks(
        self,
        limit: int,
        *,
        before_id: int | None,
        creator: str | None,
        kind: str | None,
        created_after: int | None,
        created_before: int | None,
    ) -> list[dict[str, Any]]:
        """A page found on ``ev_task_created`` alone, then its tasks read by id: the tasks view
        over every task costs ~1 s at a million tasks (scripts/bench_api.py), a page by id a few
        ms. Both reads in one transaction, so the page is one snapshot of the index."""
        with self.snapshot():
            ids = [
                int(r["task_id"])
                for r in self.rows(
                    "task_ids_page",
                    {
                        "limit": limit,
                        "before_id": before_id,
                        "creator": None if creator is None else felt_blob(creator),
                        "kind": None if kind is None else felt_blob(kind),
                        "created_after": created_after,
                        "created_before": created_before,
                    },
                )
            ]
            if not ids:
                return []
            return self.rows("tasks_by_ids", {"low": min(ids), "high": max(ids), "ids": ids})

    def task(self, task_id: int) -> schemas.TaskDetail:
        """The task in full. Several small reads by id rather than one join: DuckDB plans and
        runs a lookup of one table in ~1 ms, a join of the task tables in ~10 (the figures of
        scripts/bench_api.py at a million tasks); all in one snapshot."""
        with self.snapshot():
            row = self.one("task_detail", {"id": task_id})
            if row is None:
                raise NotFoundError(f"no task {task_id} in the index")
            extras = self.one("task_extras", {"id": task_id}) or {}
            completion = self.one("task_completion", {"id": task_id})
            recipients = None
            if completion is not None:
                recipients = self.one(
                    "recipients_at",
                    {
                        "block": completion["block_number"],
                        "tx": completion["transaction_index"],
                        "ev": completion["event_index"],
                    },
                )
            timeline_rows = self._timeline(task_id)
        payload_felts = _hexes(extras.get("payload"))
        payload, payload_error = _decoded(payload_felts)
        result_felts = None if completion is None else _hexes(completion["result"])
        result, result_error = (None, None) if result_felts is None else _decoded(result_felts)
        settlement = None
        if completion is not None and recipients is not None:
            settlement = schemas.Settlement(
                provider_amount=completion["provider_amount"],
                gas_amount=completion["gas_amount"],
                treasury_amount=completion["treasury_amount"],
                gas_recipient=recipients["gas_recipient"],
                treasury=recipients["treasury"],
            )
        timeline = [
            schemas.TimelineEvent(
                event=r["event"],
                block_number=int(r["block_number"]),
                block_hash=r["block_hash"],
                transaction_hash=r["transaction_hash"],
                transaction_index=int(r["transaction_index"]),
                event_index=int(r["event_index"]),
                timestamp=None if r["timestamp"] is None else int(r["timestamp"]),
            )
            for r in timeline_rows
        ]
        return schemas.TaskDetail(
            task=_task_summary(row),
            requirements=schemas.Requirements(
                min_tier=int(row["min_tier"]),
                gpu_required=bool(row["gpu_required"]),
                cpu_threads=int(row["cpu_threads"]),
                ram_gb=int(row["ram_gb"]),
                max_execution_time=int(row["max_execution_time"]),
            ),
            fees=schemas.Fees(
                provider_bps=int(row["provider_bps"]),
                gas_bps=int(row["gas_bps"]),
                treasury_bps=int(row["treasury_bps"]),
            ),
            payload_hash=row["payload_hash"],
            payload_felts=payload_felts,
            payload=payload,
            payload_error=payload_error,
            result_hash=None if row["result_hash"] == "0x0" else row["result_hash"],
            result_felts=result_felts,
            result=result,
            result_error=result_error,
            settlement=settlement,
            refund=extras.get("refund"),
            timeline=timeline,
        )

    def _timeline(self, task_id: int) -> list[dict[str, Any]]:
        """The task's events in chain order, with their block and transaction hashes."""
        events = self.rows("task_timeline", {"id": task_id})
        if not events:
            return []
        blocks = sorted({int(e["block_number"]) for e in events})
        found = {
            (int(r["block_number"]), int(r["transaction_index"]), int(r["event_index"])): r
            for r in self.rows(
                "events_at", {"blocks": blocks, "low": blocks[0], "high": blocks[-1]}
            )
        }
        timeline = []
        for e in events:
            position = (int(e["block_number"]), int(e["transaction_index"]), int(e["event_index"]))
            raw = found.get(position)
            if raw is not None:  # every decoded event has its raw row (same batch)
                timeline.append({**raw, "event": e["event"]})
        timeline.sort(key=lambda r: (r["block_number"], r["transaction_index"], r["event_index"]))
        return timeline

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
