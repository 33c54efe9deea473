"""The notifier's own store (SQLite, standard library): registrations, deliveries and their
attempts, and the stream position.

SQLite rather than the index's DuckDB: the API's process holds the index file, and ``smainer
notify add`` must write while the notifier runs (WAL mode lets one writer and readers share the
file). The file is created readable by its owner only (0600): it holds the callbacks' secrets.

Exactly one delivery per (task, registration, event), across restarts too, is the ``UNIQUE``
key of ``deliveries``; a finishing event's deliveries and the stream position after it are
written in one transaction, so a crash either records both or neither.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from notifier.errors import RegistrationError, StoreError

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE registrations (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    creator TEXT,                 -- normalised hex address, or NULL for a task registration
    task_id INTEGER,              -- or NULL for a creator registration
    secret TEXT,                  -- registrations made with `notify add`
    secret_env TEXT,              -- registrations of the config file: the variable's name
    origin TEXT NOT NULL CHECK (origin IN ('cli', 'config')),
    created_at REAL NOT NULL,
    removed_at REAL,
    CHECK ((creator IS NULL) <> (task_id IS NULL)),
    CHECK ((secret IS NULL) <> (secret_env IS NULL))
);
CREATE INDEX registrations_creator ON registrations (creator) WHERE removed_at IS NULL;
CREATE INDEX registrations_task ON registrations (task_id) WHERE removed_at IS NULL;
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,     -- sent as Smainer-Delivery, the same on every attempt
    registration_id INTEGER NOT NULL REFERENCES registrations (id),
    task_id INTEGER NOT NULL,
    event TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    transaction_hash TEXT NOT NULL,
    body TEXT NOT NULL,           -- the exact bytes sent (UTF-8 JSON), so retries sign the same
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    response_code INTEGER,
    last_error TEXT,
    next_attempt_at REAL NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (task_id, registration_id, event)
);
CREATE INDEX deliveries_pending ON deliveries (status) WHERE status = 'pending';
CREATE TABLE attempts (
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
    attempt INTEGER NOT NULL,
    at REAL NOT NULL,
    response_code INTEGER,
    error TEXT,
    duration_ms REAL NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
CREATE TABLE position (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block_number INTEGER NOT NULL,
    transaction_index INTEGER NOT NULL,
    event_index INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
"""


class Position(NamedTuple):
    """The last stream event consumed, ordered as the chain orders events.

    ``Position(b, -1, -1)`` means "nothing of block ``b`` yet": every event of block ``b`` and
    after is still to come (how a start block or the API's head is stored)."""

    block_number: int
    transaction_index: int
    event_index: int

    @classmethod
    def before_block(cls, block: int) -> Position:
        return cls(block, -1, -1)


@dataclass(frozen=True)
class Registration:
    """A callback URL for one creator's tasks or for one task. Its ``repr`` holds no secret."""

    id: int
    url: str
    creator: str | None
    task_id: int | None
    origin: str
    created_at: float
    secret_env: str | None


@dataclass(frozen=True)
class NewDelivery:
    """A delivery to record for a finishing event."""

    registration_id: int
    task_id: int
    event: str
    block_number: int
    transaction_hash: str
    body: str


@dataclass(frozen=True)
class Delivery:
    """A delivery as recorded: its state after the last attempt."""

    id: int
    uid: str
    registration_id: int
    url: str
    task_id: int
    event: str
    block_number: int
    transaction_hash: str
    body: str
    status: str
    attempts: int
    response_code: int | None
    last_error: str | None
    next_attempt_at: float
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class ConfiguredCallback:
    """A registration from the config file: matched by creator or task, its secret in a named
    environment variable."""

    url: str
    creator: str | None
    task_id: int | None
    secret_env: str


def normalise_address(value: str) -> str:
    """An address in the API's form: lowercase hex, ``0x``, no leading zeros."""
    try:
        number = int(value, 16)
    except ValueError:
        raise RegistrationError(f"not a hex address: {value!r}") from None
    if not 0 <= number < 2**251:
        raise RegistrationError(f"not a Starknet address: {value!r}")
    return hex(number)


def _create_private(path: Path) -> None:
    """Create ``path`` with mode 0600 before SQLite opens it (SQLite gives its WAL and
    shared-memory files the database file's mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        os.fchmod(fd, 0o600)  # also an older file made with a wider mode
    finally:
        os.close(fd)


_DELIVERY_COLUMNS = (
    "d.id, d.uid, d.registration_id, r.url, d.task_id, d.event, d.block_number, "
    "d.transaction_hash, d.body, d.status, d.attempts, d.response_code, d.last_error, "
    "d.next_attempt_at, d.created_at, d.updated_at"
)
_REGISTRATION_COLUMNS = "id, url, creator, task_id, origin, created_at, secret_env"


class NotifierStore:
    """Every read and write of the notifier's file; one connection, used from one thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    # -- registrations -----------------------------------------------------------------------

    def add_registration(
        self, url: str, *, secret: str, creator: str | None = None, task_id: int | None = None
    ) -> Registration:
        """A registration made on the command line, holding its secret."""
        if (creator is None) == (task_id is None):
            raise RegistrationError("a registration is for a creator or for a task, not both")
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO registrations (url, creator, task_id, secret, origin, created_at) "
                "VALUES (?, ?, ?, ?, 'cli', ?)",
                (url, creator, task_id, secret, time.time()),
            )
        return self._registration(int(cursor.lastrowid or 0))

    def sync_config(self, callbacks: Iterable[ConfiguredCallback]) -> list[Registration]:
        """Make the file's registrations the active ``config`` ones: new lines are added, lines
        still there keep their id (and so their delivery log), lines gone are removed."""
        wanted = list(callbacks)
        now = time.time()
        keep: list[int] = []
        with self._transaction():
            for c in wanted:
                row = self._db.execute(
                    "SELECT id FROM registrations WHERE origin = 'config' AND url = ? AND "
                    "creator IS ? AND task_id IS ? AND secret_env = ? ORDER BY id DESC LIMIT 1",
                    (c.url, c.creator, c.task_id, c.secret_env),
                ).fetchone()
                if row is None:
                    cursor = self._db.execute(
                        "INSERT INTO registrations "
                        "(url, creator, task_id, secret_env, origin, created_at) "
                        "VALUES (?, ?, ?, ?, 'config', ?)",
                        (c.url, c.creator, c.task_id, c.secret_env, now),
                    )
                    keep.append(int(cursor.lastrowid or 0))
                else:
                    keep.append(int(row[0]))
                    self._db.execute(
                        "UPDATE registrations SET removed_at = NULL WHERE id = ?", (row[0],)
                    )
            marks = ",".join("?" * len(keep))
            self._db.execute(
                "UPDATE registrations SET removed_at = ? WHERE origin = 'config' AND "
                f"removed_at IS NULL AND id NOT IN ({marks or 'NULL'})",
                (now, *keep),
            )
        return [self._registration(i) for i in keep]

    def remove_registration(self, registration_id: int) -> None:
        """Stop delivering to a registration; its log stays."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE registrations SET removed_at = ?, secret = CASE WHEN secret IS NULL "
                "THEN NULL ELSE '' END WHERE id = ? AND removed_at IS NULL",
                (time.time(), registration_id),
            )
        if cursor.rowcount == 0:
            raise RegistrationError(f"no active registration {registration_id}")

    def registrations(self) -> list[Registration]:
        """The active registrations, oldest first."""
        rows = self._db.execute(
            f"SELECT {_REGISTRATION_COLUMNS} FROM registrations WHERE removed_at IS NULL "
            "ORDER BY id"
        ).fetchall()
        return [Registration(*row) for row in rows]

    def matching(self, creator: str | None, task_id: int) -> list[Registration]:
        """The active registrations for a task by its id or its creator."""
        rows = self._db.execute(
            f"SELECT {_REGISTRATION_COLUMNS} FROM registrations WHERE removed_at IS NULL AND "
            "(task_id = ? OR creator = ?) ORDER BY id",
            (task_id, creator),
        ).fetchall()
        return [Registration(*row) for row in rows]

    def secret_source(self, registration_id: int) -> tuple[str | None, str | None]:
        """(secret, variable name): a command-line registration's secret, or the variable
        holding a config one's; (None, None) for an unknown or removed command-line one."""
        row = self._db.execute(
            "SELECT secret, secret_env FROM registrations WHERE id = ?", (registration_id,)
        ).fetchone()
        if row is None:
            return None, None
        return (row[0] or None), row[1]

    def _registration(self, registration_id: int) -> Registration:
        row = self._db.execute(
            f"SELECT {_REGISTRATION_COLUMNS} FROM registrations WHERE id = ?", (registration_id,)
        ).fetchone()
        return Registration(*row)

    # -- the stream position -----------------------------------------------------------------

    def position(self) -> Position | None:
        row = self._db.execute(
            "SELECT block_number, transaction_index, event_index FROM position"
        ).fetchone()
        return None if row is None else Position(*row)

    def set_position(self, position: Position) -> None:
        with self._transaction():
            self._write_position(position)

    def _write_position(self, position: Position) -> None:
        self._db.execute(
            "INSERT INTO position VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "block_number = excluded.block_number, transaction_index = "
            "excluded.transaction_index, event_index = excluded.event_index, "
            "updated_at = excluded.updated_at",
            (*position, time.time()),
        )

    # -- deliveries --------------------------------------------------------------------------

    def record_event(self, position: Position, deliveries: Iterable[NewDelivery]) -> list[Delivery]:
        """Record an event's deliveries and move the position past it, in one transaction;
        deliveries already recorded (a replayed event) are left alone. Returns the new ones."""
        now = time.time()
        created: list[int] = []
        with self._transaction():
            for d in deliveries:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO deliveries (uid, registration_id, task_id, event, "
                    "block_number, transaction_hash, body, next_attempt_at, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(uuid.uuid4()),
                        d.registration_id,
                        d.task_id,
                        d.event,
                        d.block_number,
                        d.transaction_hash,
                        d.body,
                        now,
                        now,
                        now,
                    ),
                )
                if cursor.rowcount:
                    created.append(int(cursor.lastrowid or 0))
            self._write_position(position)
        return [self.delivery(i) for i in created]

    def record_attempt(
        self,
        delivery_id: int,
        *,
        attempt: int,
        started: float,
        duration_ms: float,
        response_code: int | None,
        error: str | None,
        status: str,
        next_attempt_at: float,
    ) -> None:
        """One attempt's outcome in the log, and the delivery's state after it."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?, ?, ?)",
                (delivery_id, attempt, started, response_code, error, duration_ms),
            )
            self._db.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, response_code = ?, "
                "last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
                (
                    status,
                    attempt,
                    response_code,
                    error,
                    next_attempt_at,
                    time.time(),
                    delivery_id,
                ),
            )

    def delivery(self, delivery_id: int) -> Delivery:
        row = self._db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN registrations r "
            "ON r.id = d.registration_id WHERE d.id = ?",
            (delivery_id,),
        ).fetchone()
        return Delivery(*row)

    def pending(self) -> list[Delivery]:
        """Deliveries still to attempt (after a restart: where the last run left them)."""
        return self._deliveries("WHERE d.status = 'pending'", ())

    def log(self, task_id: int | None = None, limit: int | None = None) -> list[Delivery]:
        """Deliveries, newest first, of one task or all."""
        where = "" if task_id is None else "WHERE d.task_id = ?"
        params: tuple[Any, ...] = () if task_id is None else (task_id,)
        rows = self._deliveries(f"{where} ORDER BY d.id DESC", params)
        return rows if limit is None else rows[:limit]

    def attempts(self, delivery_id: int) -> list[tuple[int, float, int | None, str | None]]:
        """(attempt, time, response code, error) of each attempt of a delivery, in order."""
        rows = self._db.execute(
            "SELECT attempt, at, response_code, error FROM attempts WHERE delivery_id = ? "
            "ORDER BY attempt",
            (delivery_id,),
        ).fetchall()
        return [tuple(r) for r in rows]

    def _deliveries(self, tail: str, params: tuple[Any, ...]) -> list[Delivery]:
        rows = self._db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN registrations r "
            f"ON r.id = d.registration_id {tail}",
            params,
        ).fetchall()
        return [Delivery(*row) for row in rows]

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()


def open_store(path: Path) -> NotifierStore:
    """Open (creating, 0600) the store at ``path`` and bring its schema up to date."""
    _create_private(path)
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        connection.close()
        raise StoreError(
            f"{path} has schema {version}, newer than this notifier's {SCHEMA_VERSION}"
        )
    if version < 1:
        connection.executescript(f"BEGIN; {SCHEMA} PRAGMA user_version = 1; COMMIT;")
    return NotifierStore(connection)
