"""The DuckDB sink: one file, written in bulk through Arrow, one transaction per batch.

Why DuckDB, and why the indexer runs inside the process that reads the index: DuckDB lets one
process hold a database file writable and no other process open it at all, not even read-only.
So the read API cannot be a second process beside the indexer; it runs :class:`indexer.Indexer`
as a background task and reads through :meth:`DuckDBStore.reader` (cursors of the same
connection), which see each batch whole or not at all (docs/indexer.md).

Opening is careful about files that are not ours: an existing file is first opened read-only and
inspected (:func:`indexer.migrate.check_schema`); a foreign, corrupt, locked or newer-schema file
is refused before anything is written to it. Driver errors become :class:`StoreError` here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from itertools import accumulate, chain
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from indexer.errors import ContractsMismatchError, DatabaseRefusedError, StoreError
from indexer.felts import FELT_BYTES, felt_bytes, felt_int
from indexer.migrate import check_schema, migrate
from indexer.pipeline import Decoded
from indexer.records import Batch, BlockHeader, Cursor, RawEvent, Row

SQL_DIR = Path(__file__).with_name("sql")
MEMORY = ":memory:"
REBUILD_BLOCKS = 50_000
"""Blocks of raw events decoded per step of a rebuild (bounds its memory)."""
TASK_TABLES = (
    "ev_task_created",
    "ev_task_assigned",
    "ev_task_completed",
    "ev_task_cancelled",
    "ev_task_expired",
)
"""The event tables a task's ``task_state`` row is derived from (migration 002)."""


@cache
def load_sql(name: str) -> str:
    """A named query of ``indexer/sql/``."""
    return (SQL_DIR / f"{name}.sql").read_text()


FELT = pa.binary()
"""Felts go to DuckDB as 32-byte Arrow binaries (``BLOB``; DuckDB inserts variable-size
binaries about a fifth faster than fixed-size ones)."""


def felt_array(values: Sequence[int]) -> pa.Array:
    """Felts as one Arrow array over one buffer: handing pyarrow a Python ``bytes`` per felt
    costs more than DuckDB's whole insert (scripts/bench_indexer.py)."""
    data = b"".join([v.to_bytes(FELT_BYTES, "big") for v in values])
    offsets = np.arange(0, FELT_BYTES * (len(values) + 1), FELT_BYTES, dtype=np.int32)
    return pa.Array.from_buffers(
        FELT, len(values), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def felt_lists(lists: Sequence[Sequence[int]]) -> pa.Array:
    """Lists of felts (keys, data, payloads) as one Arrow list array over one buffer."""
    offsets = pa.array([0, *accumulate(map(len, lists))], type=pa.int32())
    return pa.ListArray.from_arrays(offsets, felt_array(list(chain.from_iterable(lists))))


def _plain(arrow_type: pa.DataType, convert: Callable[[Any], Any] | None = None) -> _Column:
    def build(values: Sequence[Any]) -> pa.Array:
        return pa.array(values if convert is None else [convert(v) for v in values], arrow_type)

    return build


_Column = Callable[[Sequence[Any]], pa.Array]

# DuckDB column type -> how a column of decoded Python values becomes an Arrow array.
_COLUMNS: dict[str, _Column] = {
    "BLOB": felt_array,
    "BLOB[]": felt_lists,
    "BIGNUM": _plain(pa.string(), str),  # exact for any u256; DuckDB casts on insert
    "BOOLEAN": _plain(pa.bool_(), bool),
    "UTINYINT": _plain(pa.uint64()),
    "USMALLINT": _plain(pa.uint64()),
    "UINTEGER": _plain(pa.uint64()),
    "UBIGINT": _plain(pa.uint64()),
}

_RAW_SCHEMA = pa.schema(
    [
        ("block_number", pa.uint64()),
        ("transaction_index", pa.uint32()),
        ("event_index", pa.uint32()),
        ("block_hash", FELT),
        ("transaction_hash", FELT),
        ("from_address", FELT),
        ("keys", pa.list_(FELT)),
        ("data", pa.list_(FELT)),
    ]
)
_BLOCK_SCHEMA = pa.schema(
    [
        ("block_number", pa.uint64()),
        ("block_hash", FELT),
        ("parent_hash", FELT),
        ("timestamp", pa.uint64()),
        ("finality", pa.string()),
    ]
)


def raw_events_table(events: list[RawEvent]) -> pa.Table:
    return pa.table(
        [
            pa.array([e.block_number for e in events], pa.uint64()),
            pa.array([e.transaction_index for e in events], pa.uint32()),
            pa.array([e.event_index for e in events], pa.uint32()),
            felt_array([e.block_hash for e in events]),
            felt_array([e.transaction_hash for e in events]),
            felt_array([e.from_address for e in events]),
            felt_lists([e.keys for e in events]),
            felt_lists([e.data for e in events]),
        ],
        schema=_RAW_SCHEMA,
    )


def blocks_table(headers: list[BlockHeader]) -> pa.Table:
    return pa.table(
        [
            pa.array([h.number for h in headers], pa.uint64()),
            felt_array([h.hash for h in headers]),
            felt_array([h.parent_hash for h in headers]),
            pa.array([h.timestamp for h in headers], pa.uint64()),
            pa.array([h.finality for h in headers], pa.string()),
        ],
        schema=_BLOCK_SCHEMA,
    )


def _driver_message(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _raw_event(row: tuple[Any, ...]) -> RawEvent:
    block, tx_index, event_index, block_hash, tx_hash, address, keys, data = row
    return RawEvent(
        block_number=int(block),
        transaction_index=int(tx_index),
        event_index=int(event_index),
        block_hash=felt_int(block_hash),
        transaction_hash=felt_int(tx_hash),
        from_address=felt_int(address),
        keys=tuple(felt_int(k) for k in keys),
        data=tuple(felt_int(d) for d in data),
    )


def open_store(path: str | Path) -> DuckDBStore:
    """Open (or create) an index, migrated to the newest schema; refuse files not ours.

    An existing file is inspected read-only first, so a refused file is never written to.
    """
    where = str(path)
    if where != MEMORY and Path(where).exists():
        try:
            probe = duckdb.connect(where, read_only=True)
        except duckdb.Error as exc:
            message = _driver_message(exc)
            why = "it is in use by another process" if "lock" in message.lower() else message
            raise DatabaseRefusedError(
                f"cannot open {where} as a DuckDB database ({why}); the file is left untouched"
            ) from None
        try:
            check_schema(probe, where)
        finally:
            probe.close()
    try:
        con = duckdb.connect(where)
    except duckdb.Error as exc:
        raise DatabaseRefusedError(f"cannot open {where}: {_driver_message(exc)}") from None
    try:
        migrate(con)
    except BaseException:
        con.close()
        raise
    return DuckDBStore(con, where)


class DuckDBStore:
    """The :class:`indexer.sink.Sink` on DuckDB. Not for concurrent use from several threads:
    the indexer calls it one operation at a time; readers take :meth:`reader` cursors."""

    def __init__(self, con: duckdb.DuckDBPyConnection, where: str) -> None:
        self._con = con
        self.where = where
        self._columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, data_type in con.execute(load_sql("event_columns")).fetchall():
            self._columns.setdefault(table, []).append((column, data_type))
        self.event_tables = tuple(sorted(self._columns))
        self._block_tables = ("raw_events", "blocks", *self.event_tables)

    # -- reading ---------------------------------------------------------------------------

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the writer's connection, for another thread (the API's requests)."""
        return self._con.cursor()

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of a decoded-event table's columns."""
        return list(self._columns[table])

    def cursor(self) -> Cursor | None:
        row = self._con.execute(load_sql("cursor_read")).fetchone()
        return None if row is None else Cursor(int(row[0]), felt_int(row[1]))

    def known_blocks(self, at_or_below: int, limit: int) -> list[tuple[int, int]]:
        rows = self._con.execute(
            load_sql("known_blocks"), {"at": at_or_below, "limit": limit}
        ).fetchall()
        return [(int(n), felt_int(h)) for n, h in rows]

    def contracts(self) -> dict[str, int]:
        rows = self._con.execute(load_sql("contracts_read")).fetchall()
        return {name: felt_int(address) for name, address in rows}

    def meta(self, key: str) -> str | None:
        row = self._con.execute(load_sql("meta_read"), {"key": key}).fetchone()
        return None if row is None else str(row[0])

    # -- writing ---------------------------------------------------------------------------

    def bind(self, contracts: Mapping[str, int], start_block: int) -> int:
        known = self.contracts()
        if known:
            if known != dict(contracts):
                mine = ", ".join(f"{n} {hex(a)}" for n, a in sorted(known.items()))
                raise ContractsMismatchError(
                    f"{self.where} indexes {mine}, not the manifest's contracts; "
                    "use a new --db for another deployment"
                )
            return int(self.meta("start_block") or 0)

        def record() -> None:
            for name, address in sorted(contracts.items()):
                self._con.execute(
                    load_sql("contracts_write"), {"name": name, "address": felt_bytes(address)}
                )
            self._con.execute(
                load_sql("meta_write"), {"key": "start_block", "value": str(start_block)}
            )

        self._transaction(record)
        return start_block

    def write(self, batch: Batch) -> None:
        """The batch's raw events, headers, decoded rows, the ``task_state`` rows of the tasks
        it has events of, and the cursor, in one transaction."""
        cursor = batch.cursor

        def insert_all() -> None:
            if batch.events:
                self._insert("raw_events", raw_events_table(batch.events))
            self._insert("blocks", blocks_table(batch.headers))
            for table, rows in batch.rows.items():
                self._insert(table, self._event_table(table, rows))
            self._refresh_tasks(
                {int(row["task_id"]) for t in TASK_TABLES for row in batch.rows.get(t, ())}
            )
            self._con.execute(
                load_sql("cursor_write"),
                {"number": cursor.block_number, "hash": felt_bytes(cursor.block_hash)},
            )

        self._transaction(insert_all)

    def rollback_to(self, fork: Cursor | None) -> int:
        """Delete everything above ``fork`` and re-derive the ``task_state`` rows of the tasks
        that had events there from the events left (one transaction)."""
        removed: list[int] = []

        def delete_above() -> None:
            if fork is None:
                (count,) = self._con.execute("SELECT count(*) FROM raw_events").fetchone() or (0,)
                for table in self._block_tables:
                    self._con.execute(f"DELETE FROM {table}")
                self._con.execute("DELETE FROM task_state")
                self._con.execute("DELETE FROM cursor")
            else:
                (count,) = self._con.execute(
                    "SELECT count(*) FROM raw_events WHERE block_number > ?", [fork.block_number]
                ).fetchone() or (0,)
                touched = self._con.execute(
                    load_sql("task_ids_above"), {"block": fork.block_number}
                ).fetchall()
                for table in self._block_tables:
                    self._con.execute(
                        f"DELETE FROM {table} WHERE block_number > ?", [fork.block_number]
                    )
                self._refresh_tasks({int(task_id) for (task_id,) in touched})
                self._con.execute(
                    load_sql("cursor_write"),
                    {"number": fork.block_number, "hash": felt_bytes(fork.block_hash)},
                )
            removed.append(int(count))

        self._transaction(delete_above)
        return removed[0]

    def mark_l1_accepted(self, number: int) -> int:
        """Mark every stored block at or below ``number`` ``ACCEPTED_ON_L1`` (one statement,
        atomic on its own); returns how many rows changed."""
        try:
            row = self._con.execute(load_sql("blocks_mark_l1"), {"number": number}).fetchone()
        except duckdb.Error as exc:
            raise StoreError(f"{self.where}: {_driver_message(exc)} (nothing written)") from exc
        return int(row[0]) if row else 0

    def rebuild(self, decode: Callable[[Iterable[RawEvent]], Decoded]) -> int:
        read: list[int] = [0]

        def redo() -> None:
            for table in self.event_tables:
                self._con.execute(f"DELETE FROM {table}")
            self._con.execute("DELETE FROM task_state")
            first, last, count = self._con.execute(load_sql("raw_events_span")).fetchone() or (
                None,
                None,
                0,
            )
            if first is None or last is None:
                return
            for start in range(int(first), int(last) + 1, REBUILD_BLOCKS):
                rows = self._con.execute(
                    load_sql("raw_events_range"),
                    {"first": start, "last": start + REBUILD_BLOCKS - 1},
                ).fetchall()
                events = [_raw_event(row) for row in rows]
                for table, table_rows in decode(events).rows.items():
                    self._insert(table, self._event_table(table, table_rows))
            self._con.execute(load_sql("task_state_insert"), {"ids": None})
            read[0] = int(count)

        self._transaction(redo)
        return read[0]

    def close(self) -> None:
        self._con.close()

    # -- helpers ---------------------------------------------------------------------------

    def _refresh_tasks(self, ids: set[int]) -> None:
        """Derive the ``task_state`` rows of ``ids`` again from their events, inside the
        caller's transaction: the table always says what its events say (migration 002)."""
        if not ids:
            return
        wanted = sorted(ids)
        self._con.execute(load_sql("task_state_delete"), {"ids": wanted})
        self._con.execute(load_sql("task_state_insert"), {"ids": wanted})

    def _event_table(self, table: str, rows: list[Row]) -> pa.Table:
        columns = self._columns.get(table)
        if columns is None:
            raise StoreError(f"no table {table} in the index: a migration is missing")
        arrays = [_COLUMNS[data_type]([row[name] for row in rows]) for name, data_type in columns]
        return pa.Table.from_arrays(arrays, names=[name for name, _ in columns])

    def _insert(self, table: str, data: pa.Table) -> None:
        self._con.register("_incoming", data)
        try:
            self._con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _incoming')
        finally:
            self._con.unregister("_incoming")

    def _transaction(self, work: Callable[[], None]) -> None:
        self._con.execute("BEGIN TRANSACTION")
        try:
            work()
            self._con.execute("COMMIT")
        except duckdb.Error as exc:
            self._con.execute("ROLLBACK")
            raise StoreError(f"{self.where}: {_driver_message(exc)} (nothing written)") from exc
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
