"""The supervisor against real child processes (tests/smainer/up/fake_part.py)."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import pytest

from smainer.up import Part, StartError, Supervisor, Timing

from .conftest import processes_of

FAKE = str(Path(__file__).with_name("fake_part.py"))
FAST = Timing(ready_timeout=20, poll=0.05, backoff_first=0.2, backoff_max=0.4, grace=3, settle=0.3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def supervisor(tmp_path: Path, parts: list[Part], lines: list[str]) -> Supervisor:
    return Supervisor(parts, tmp_path / "logs", lines.append, FAST, command=(sys.executable, FAKE))


async def test_parts_start_in_order_when_ready_and_stop_in_reverse(tmp_path: Path):
    port = free_port()
    parts = [
        Part("chain", ("serve", str(port)), ready_url=f"http://127.0.0.1:{port}/"),
        Part("setup", ("exit", "0"), oneshot=True),
        Part("worker", ("say", "worker is up"), ready_log="worker is up"),
        Part("family", ("child",), ready_log="grandchild started"),
    ]
    lines: list[str] = []
    sup = supervisor(tmp_path, parts, lines)
    await sup.start_all()
    assert [line.split()[0] for line in lines] == ["chain", "setup", "worker", "family"]
    assert [line.split()[1] for line in lines] == ["ready", "done", "ready", "ready"]
    assert "setup" not in sup.running
    assert len(processes_of(tmp_path)) == 4  # three parts and the family's grandchild
    lines.clear()
    await sup.stop_all()
    assert [line.split()[0] for line in lines] == ["family", "worker", "chain"]
    assert processes_of(tmp_path) == []
    assert "worker is up" in (tmp_path / "logs" / "worker.log").read_text()


async def test_a_crashing_part_is_restarted_with_growing_backoff(tmp_path: Path):
    counter = tmp_path / "runs"
    parts = [Part("flaky", ("flaky", str(counter), "0"), ready_log="steady")]
    lines: list[str] = []
    sup = supervisor(tmp_path, parts, lines)
    await sup.start_all()
    counter.write_text("-2")  # the next two starts crash, the third holds
    stop = asyncio.Event()
    watching = asyncio.create_task(sup.watch(stop))
    first = sup.running["flaky"].process.pid
    sup.running["flaky"].process.kill()
    for _ in range(200):
        if any("back up" in line for line in lines):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await watching
    restarts = [line for line in lines if "restarting in" in line]
    assert len(restarts) == 3, lines
    assert ["crash 1" in restarts[0], "crash 3" in restarts[2]] == [True, True]
    assert ["code -9" in restarts[0], "code 3" in restarts[1]] == [True, True]
    assert sup.running["flaky"].process.returncode is None
    assert sup.running["flaky"].process.pid != first
    await sup.stop_all()
    assert processes_of(tmp_path) == []


async def test_an_essential_part_dying_ends_the_network(tmp_path: Path):
    parts = [
        Part("chain", ("say", "chain"), ready_log="chain", essential=True),
        Part("worker", ("say", "worker"), ready_log="worker"),
    ]
    lines: list[str] = []
    sup = supervisor(tmp_path, parts, lines)
    await sup.start_all()
    stop = asyncio.Event()
    watching = asyncio.create_task(sup.watch(stop))
    sup.running["chain"].process.kill()
    await asyncio.wait_for(watching, 10)
    assert sup.failure is not None
    assert sup.failure.startswith("chain exited with code -9: the network ends")
    await sup.stop_all()
    assert processes_of(tmp_path) == []


async def test_a_part_that_dies_before_ready_fails_the_start_with_its_log(tmp_path: Path):
    parts = [
        Part("worker", ("say", "worker"), ready_log="worker"),
        Part("broken", ("exit", "5"), ready_log="never"),
    ]
    sup = supervisor(tmp_path, parts, [])
    with pytest.raises(StartError, match=r"broken exited with code 5") as caught:
        await sup.start_all()
    assert "exiting with 5" in str(caught.value)  # the log's tail is in the message
    await sup.stop_all()
    assert processes_of(tmp_path) == []


async def test_a_failed_oneshot_stops_the_start(tmp_path: Path):
    sup = supervisor(tmp_path, [Part("setup", ("exit", "1"), oneshot=True)], [])
    with pytest.raises(StartError, match="setup exited with code 1"):
        await sup.start_all()


async def test_a_part_that_ignores_sigint_is_terminated(tmp_path: Path):
    lines: list[str] = []
    sup = supervisor(tmp_path, [Part("stubborn", ("stubborn",), ready_log="ignoring")], lines)
    await sup.start_all()
    lines.clear()
    await sup.stop_all()
    assert lines == ["stubborn    stopped (after SIGTERM)"]
    assert processes_of(tmp_path) == []
