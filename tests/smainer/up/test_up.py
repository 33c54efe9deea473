"""``smainer up --demo`` as a user runs it: a whole network that completes tasks of every
algorithm, survives a provider's death and leaves nothing behind on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from provider.algorithms import REGISTRY

from .conftest import processes_of
from .test_supervisor import free_port

UP_WITHIN = 300.0
TASKS_WITHIN = 360.0


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def completed(api: str) -> list[dict[str, Any]]:
    """Every completed task, newest first, through the API's pages."""
    items: list[dict[str, Any]] = []
    url = f"{api}/api/v1/tasks?status=completed&limit=100"
    while True:
        page = get(url)
        items += page["items"]
        if not page["next_cursor"]:
            return items
        url = f"{api}/api/v1/tasks?status=completed&limit=100&cursor={page['next_cursor']}"


def wait_for(what: str, check: Any, within: float, up: subprocess.Popen[bytes], log: Path) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert up.poll() is None, f"smainer up exited:\n{log.read_text()}"
        found = check()
        if found:
            return found
        time.sleep(1.0)
    raise AssertionError(f"no {what} within {within:.0f} s:\n{log.read_text()}")


def check_product(detail: dict[str, Any]) -> None:
    """The provider's product equals NumPy's: exactly for integers, to float32 rounding else."""
    payload, result = detail["payload"], detail["result"]
    if result["dtype"] == "int":
        a, b = (np.array(payload[m], dtype=object) for m in ("matrix_a", "matrix_b"))
        assert result["product"] == (a @ b).tolist()
    else:
        assert result["dtype"] == "float32", result
        a, b = (np.array(payload[m], dtype=np.float32) for m in ("matrix_a", "matrix_b"))
        np.testing.assert_allclose(np.array(result["product"]), a @ b, rtol=1e-5, atol=1e-5)


def test_up_demo_runs_a_living_network_and_stops_clean(tmp_path: Path):
    rpc_port, api_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    log = tmp_path / "up.out"
    run_dir = tmp_path / "run"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [
                sys.executable, "-m", "smainer", "up", "--demo", "--providers", "2",
                "--rpc-port", str(rpc_port), "--port", str(api_port),
                "--run-dir", str(run_dir), "--manifest-dir", str(tmp_path / "deployments"),
                "--demo-interval", "1",
            ],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    try:
        wait_for("network", lambda: "smainer up: up in" in log.read_text(), UP_WITHIN, up, log)
        assert f"dashboard  {api}/" in log.read_text()

        kinds = set(REGISTRY)

        def every_kind() -> list[dict[str, Any]] | None:
            done = completed(api)
            return done if kinds <= {t["kind_name"] for t in done} else None

        done = wait_for("completed task of every algorithm", every_kind, TASKS_WITHIN, up, log)
        products = [t for t in done if t["kind_name"] == "matrix_multiplication"]
        for task in products[:6]:
            check_product(get(f"{api}/api/v1/tasks/{task['id']}"))

        # A provider killed outright is restarted, and the network keeps completing tasks.
        pids = json.loads((run_dir / "logs" / "pids.json").read_text())
        os.kill(pids["provider-1"], signal.SIGKILL)
        wait_for("restart", lambda: "provider-1  back up" in log.read_text(), 120, up, log)
        before = len(completed(api))
        wait_for("task after the restart", lambda: len(completed(api)) >= before + 2, 180, up, log)

        assert processes_of(run_dir)
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=120) == 0, log.read_text()
        text = log.read_text()
        assert "provider-1  exited with code -9" in text
        assert "stopped; nothing left running" in text
        assert text.index("demo        stopped") < text.index("devnet      stopped")
        assert processes_of(run_dir) == []
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        for pid in processes_of(run_dir):
            os.kill(pid, signal.SIGKILL)
