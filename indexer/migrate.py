"""Numbered schema migrations (``migrations/NNN_name.sql``), applied in order, each recorded.

Each file runs in its own transaction together with its ``schema_version`` row, so a failed
migration leaves the database at the version before it. Files are written to be safe to re-run
(``IF NOT EXISTS``, ``OR REPLACE``). :func:`check_schema` is what keeps the indexer's hands off
files that are not its own: a file with tables but without the Smainer marker, or with a version
newer than the newest migration here, is refused before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from indexer.errors import DatabaseRefusedError

APPLICATION = "smainer-indexer"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def sql(self) -> str:
        return self.path.read_text()


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files, by version; versions must run 0, 1, 2... without a gap."""
    found = []
    for path in directory.iterdir():
        match = _FILE.match(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(len(found))):
        raise RuntimeError(f"migrations in {directory} are not numbered 000, 001, ... in turn")
    return found


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()
    return {name for (name,) in rows}


def check_schema(
    con: duckdb.DuckDBPyConnection, where: str, newest: int | None = None
) -> int | None:
    """The schema version of an index (``None``: an empty file, free to initialise).

    Raises :class:`DatabaseRefusedError` for a file that is someone else's database or was
    written by a newer Smainer (``newest`` defaults to the newest migration here).
    """
    newest = available_migrations()[-1].version if newest is None else newest
    tables = _tables(con)
    if not tables:
        return None
    marker = None
    if "smainer_meta" in tables:
        row = con.execute("SELECT value FROM smainer_meta WHERE key = 'application'").fetchone()
        marker = row[0] if row else None
    if marker != APPLICATION or "schema_version" not in tables:
        raise DatabaseRefusedError(
            f"{where} is a DuckDB database but not a Smainer index (tables: "
            f"{', '.join(sorted(tables)[:5])}); refusing to touch it, use another --db"
        )
    row = con.execute("SELECT coalesce(max(version), -1) FROM schema_version").fetchone()
    version = -1 if row is None else int(row[0])
    if version > newest:
        raise DatabaseRefusedError(
            f"{where} has index schema version {version}, newer than this Smainer knows "
            f"({newest}); upgrade Smainer or use another --db (the file is left untouched)"
        )
    return int(version)


def migrate(
    con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None
) -> list[Migration]:
    """Apply the migrations the database lacks, in order; returns those applied."""
    migrations = available_migrations() if migrations is None else migrations
    current = check_schema(con, "the database", migrations[-1].version)
    applied = []
    for migration in migrations:
        if current is not None and migration.version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql())
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, now())",
                [migration.version, migration.name],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(migration)
    return applied
