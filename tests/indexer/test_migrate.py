"""The migration runner: fresh database, nothing re-applied, a failed migration keeps the version,
and files that are not a Smainer index of a known schema are refused."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from indexer.errors import DatabaseRefusedError
from indexer.migrate import available_migrations, check_schema, migrate


def versions(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [v for (v,) in con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]


def test_a_fresh_database_gets_every_migration_once():
    con = duckdb.connect()
    applied = migrate(con)
    assert [m.version for m in applied] == [m.version for m in available_migrations()]
    assert versions(con) == [m.version for m in applied]
    assert migrate(con) == []
    assert check_schema(con, "memory") == applied[-1].version


def test_a_failing_migration_leaves_the_version_before_it(tmp_path):
    directory = tmp_path / "migrations"
    shutil.copytree(available_migrations()[0].path.parent, directory)
    (directory / "002_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;\n"
    )
    con = duckdb.connect()
    with pytest.raises(duckdb.Error):
        migrate(con, available_migrations(directory))
    assert versions(con) == [0, 1]
    tables = {n for (n,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "half_done" not in tables


def test_gaps_in_the_numbering_are_refused(tmp_path):
    (tmp_path / "000_a.sql").write_text("SELECT 1;")
    (tmp_path / "002_c.sql").write_text("SELECT 1;")
    with pytest.raises(RuntimeError, match="numbered"):
        available_migrations(tmp_path)


def test_foreign_and_newer_databases_are_refused():
    foreign = duckdb.connect()
    foreign.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(DatabaseRefusedError, match="not a Smainer index"):
        migrate(foreign)
    newer = duckdb.connect()
    migrate(newer)
    newer.execute("INSERT INTO schema_version VALUES (999, 'future', now())")
    with pytest.raises(DatabaseRefusedError, match="newer than this Smainer knows"):
        migrate(newer)
