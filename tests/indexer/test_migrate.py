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
    known = available_migrations()
    shutil.copytree(known[0].path.parent, directory)
    (directory / f"{len(known):03d}_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;\n"
    )
    con = duckdb.connect()
    with pytest.raises(duckdb.Error):
        migrate(con, available_migrations(directory))
    assert versions(con) == [m.version for m in known]
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


def schema_objects(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """Every table, view, index and macro of the database, by kind and name."""
    return set(
        con.execute(
            "SELECT 'table', table_name FROM duckdb_tables() WHERE NOT internal "
            "UNION SELECT 'view', view_name FROM duckdb_views() WHERE NOT internal "
            "UNION SELECT 'index', index_name FROM duckdb_indexes() "
            "UNION SELECT 'macro', function_name FROM duckdb_functions() "
            "WHERE function_type LIKE '%macro' AND NOT internal"
        ).fetchall()
    )


TASK_STATE = "SELECT * FROM task_state ORDER BY id"


def test_an_index_at_schema_1_migrates_forward_to_what_the_write_path_keeps(tmp_path):
    """A file indexed at schema 1 (events, no task_state) gets, from migration 002, the same
    task_state that writing the same batches at schema 2 keeps (tests/indexer/
    test_replay_property.py checks that one against a replay of the events)."""
    from tests.indexer.test_replay_property import Layout, make_batch, new_store, scripted

    layout = Layout.of(scripted())
    store = new_store()
    try:
        for block in layout.blocks:
            store.write(make_batch([block]))
        con = store.connection
        kept = con.execute(TASK_STATE).fetchall()
        assert {row[1] for row in kept} == {3, 4, 5}  # completed, cancelled, expired
        # Back to schema 1: what 002 added is dropped, and the schema is then a fresh 0..1's.
        con.execute("DROP TABLE task_state")
        for table in ("created", "assigned", "completed", "cancelled", "expired"):
            con.execute(f"DROP INDEX ev_task_{table}_task")
        con.execute("DROP MACRO TABLE task_state_rows")
        con.execute("DELETE FROM schema_version WHERE version >= 2")
        at_one = duckdb.connect()
        migrate(at_one, available_migrations()[:2])
        assert schema_objects(con) == schema_objects(at_one)
        assert check_schema(con, "memory") == 1

        applied = migrate(con)
        assert [m.version for m in applied] == [m.version for m in available_migrations()][2:]
        assert con.execute(TASK_STATE).fetchall() == kept
    finally:
        store.close()
