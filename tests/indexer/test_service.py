"""``smainer index`` end to end: index a devnet from its manifest, stop on Ctrl-C with the cursor
committed, rebuild without the chain, and refuse what it must refuse with a clear message."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from smainer.cli import main
from tests.indexer.conftest import dump, index
from tests.indexer.market import Market

pytestmark = pytest.mark.slow


def test_index_command_then_rebuild(market: Market, tmp_path, capsys):
    head = asyncio.run(market.head())
    db, reference = tmp_path / "cli.duckdb", tmp_path / "reference.duckdb"
    argv = ["index", "--network", market.rpc_url, "--manifest", str(market.manifest)]
    assert main([*argv, "--db", str(db), "--to-block", str(head)]) == 0
    err = capsys.readouterr().err
    assert "smainer index: backfill: block" in err
    assert f"synced to head at block {head}" in err
    asyncio.run(index(market, reference, until=head))
    indexed = dump(db)
    assert indexed == dump(reference)

    con = duckdb.connect(str(db))
    con.execute("DELETE FROM ev_task_created")
    con.execute("DELETE FROM ev_node_registered")
    con.close()
    assert main(["index", "--rebuild", "--db", str(db)]) == 0
    assert "rebuilt the decoded tables" in capsys.readouterr().err
    assert dump(db) == indexed


def test_refusals_are_clear_and_touch_nothing(market: Market, tmp_path, capsys):
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE orders (id INTEGER)")
    con.close()
    before = hashlib.sha256(foreign.read_bytes()).hexdigest()
    argv = ["index", "--network", market.rpc_url, "--manifest", str(market.manifest)]
    assert main([*argv, "--db", str(foreign)]) == 1
    assert "not a Smainer index" in capsys.readouterr().err
    assert hashlib.sha256(foreign.read_bytes()).hexdigest() == before

    missing = ["index", "--network", market.rpc_url, "--manifest", str(tmp_path / "none.json")]
    assert main([*missing, "--db", str(tmp_path / "new.duckdb")]) == 1
    assert "no deployment manifest" in capsys.readouterr().err


def test_ctrl_c_stops_cleanly_with_the_cursor_committed(market: Market, tmp_path):
    head = asyncio.run(market.head())
    db = tmp_path / "interrupted.duckdb"
    command = [sys.executable, "-m", "smainer.cli", "index", "--network", market.rpc_url]
    command += ["--manifest", str(market.manifest), "--db", str(db)]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    lines = []
    try:
        deadline = time.monotonic() + 60
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "synced to head" in line or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=30)
    finally:
        process.kill()
    output = "".join(lines) + (rest or "")
    assert process.returncode == 0, output
    assert f"stopped at block {head}" in output
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT block_number FROM cursor").fetchone() == (head,)
    con.close()
