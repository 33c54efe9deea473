"""Runs the parts of the network as child processes: started in order, each waited on until it
is ready, restarted with backoff when it crashes, and stopped in reverse order.

Each child runs in its own session, so the terminal's Ctrl-C reaches only ``smainer up``, which
then stops the parts itself, the last started first (the demo before the providers, the devnet
last): nothing is left running and no part sees the chain vanish under it. Should ``up`` itself
be killed outright, the kernel sends every child SIGTERM (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from smainer.backoff import backoff_delay
from smainer.up.parts import Part

RUN_MARKER = "SMAINER_UP_RUN"
"""Set in every child's environment to the run folder: finds them all, grandchildren too."""

PR_SET_PDEATHSIG = 1


class StartError(RuntimeError):
    """A part did not come up; the message says which and why, with its log's last lines."""


@dataclass(frozen=True)
class Timing:
    """How long to wait on parts; tests shorten these."""

    ready_timeout: float = 240.0
    """Longest wait for one part to be ready (JAX's first import on a busy machine is slow)."""
    poll: float = 0.25
    settle: float = 1.0
    """A part with no readiness signal counts as up once it has run this long."""
    backoff_first: float = 1.0
    backoff_max: float = 30.0
    stable_after: float = 60.0
    """A part that ran this long before crashing restarts with the first backoff again."""
    grace: float = 15.0
    """Seconds a part has to stop after SIGINT before SIGTERM, and again before SIGKILL."""


@dataclass
class Running:
    part: Part
    process: asyncio.subprocess.Process
    started: float
    log_offset: int
    crashes: int = 0


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to SIGTERM the child when ``up`` dies (None elsewhere).

    It only calls a function resolved before the fork, so it takes no lock in the child."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return arm


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a part's log, for an error message."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


@dataclass
class Supervisor:
    """Starts, watches and stops the parts; ``report`` gets one line per thing that happens."""

    parts: list[Part]
    log_dir: Path
    report: Callable[[str], None]
    timing: Timing = field(default_factory=Timing)
    command: tuple[str, ...] = (sys.executable, "-m", "smainer")
    """What each part's arguments follow: this interpreter's ``smainer`` CLI."""
    running: dict[str, Running] = field(default_factory=dict)
    stopping: bool = False
    failure: str | None = None
    """Why the network ended on its own (an essential part died), for the exit status."""
    _keepers: list[asyncio.Task[None]] = field(default_factory=list)

    def log_path(self, part: Part) -> Path:
        return self.log_dir / f"{part.name}.log"

    # --- starting ---

    async def start_all(self) -> None:
        """Each part in order, waiting for the one before to be ready (or, for a one-shot part,
        done); :class:`StartError` on the first that fails."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for part in self.parts:
            began = time.monotonic()
            running = await self._spawn(part)
            if part.oneshot:
                code = await running.process.wait()
                del self.running[part.name]
                if code != 0:
                    raise StartError(self._failed(part, f"exited with code {code}"))
                self.report(f"{part.name:<11} done   ({time.monotonic() - began:.1f} s)")
                continue
            await self._wait_ready(running)
            shown = f"  {part.shows}" if part.shows else ""
            self.report(f"{part.name:<11} ready  ({time.monotonic() - began:.1f} s){shown}")

    async def _spawn(self, part: Part) -> Running:
        path = self.log_path(part)
        with path.open("ab") as log:
            offset = log.tell()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"--- {stamp} smainer up: smainer {' '.join(part.argv)}\n".encode())
            log.flush()
            process = await asyncio.create_subprocess_exec(
                *self.command, *part.argv,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **part.env, RUN_MARKER: str(self.log_dir.parent.resolve()),
                     "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )  # fmt: skip
        previous = self.running.get(part.name)
        running = Running(
            part, process, time.monotonic(), offset, previous.crashes if previous else 0
        )
        self.running[part.name] = running
        self._write_pids()
        return running

    async def _wait_ready(self, running: Running) -> None:
        part = running.part
        deadline = time.monotonic() + self.timing.ready_timeout
        while True:
            if running.process.returncode is not None:
                raise StartError(
                    self._failed(part, f"exited with code {running.process.returncode}")
                )
            if await self._is_ready(running):
                return
            if time.monotonic() > deadline:
                raise StartError(
                    self._failed(part, f"not ready after {self.timing.ready_timeout:.0f} s")
                )
            await asyncio.sleep(self.timing.poll)

    async def _is_ready(self, running: Running) -> bool:
        part = running.part
        if part.ready_url is not None and not await asyncio.to_thread(_http_ok, part.ready_url):
            return False
        if part.ready_log is not None:
            with self.log_path(part).open("rb") as log:
                log.seek(running.log_offset)
                return part.ready_log.encode() in log.read()
        if part.ready_url is None:
            return time.monotonic() - running.started >= self.timing.settle
        return True

    def _failed(self, part: Part, why: str) -> str:
        path = self.log_path(part)
        tail = log_tail(path)
        return f"{part.name} {why}; its log is {path}" + (f":\n{tail}" if tail else "")

    def _write_pids(self) -> None:
        """``pids.json`` beside the logs: which process is which part now."""
        pids = {name: r.process.pid for name, r in self.running.items()}
        (self.log_dir / "pids.json").write_text(json.dumps(pids, indent=2) + "\n")

    # --- watching ---

    async def watch(self, stop: asyncio.Event) -> None:
        """Restart crashed parts until ``stop`` is set (an essential part's death sets it)."""
        self._keepers = [
            asyncio.create_task(self._keep(running, stop)) for running in self.running.values()
        ]
        await stop.wait()

    async def _keep(self, running: Running, stop: asyncio.Event) -> None:
        part = running.part
        while True:
            code = await running.process.wait()
            if self.stopping or stop.is_set():
                return
            if part.essential:
                self.failure = self._failed(part, f"exited with code {code}: the network ends")
                self.report(self.failure)
                stop.set()
                return
            ran = time.monotonic() - running.started
            crashes = 1 if ran >= self.timing.stable_after else running.crashes + 1
            delay = backoff_delay(crashes, self.timing.backoff_first, self.timing.backoff_max)
            self.report(
                f"{part.name:<11} exited with code {code} after {ran:.0f} s; restarting in "
                f"{delay:.0f} s (crash {crashes}); log {self.log_path(part)}"
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set() or self.stopping:
                return
            running = await self._spawn(part)
            running.crashes = crashes
            try:
                await self._wait_ready(running)
            except StartError as exc:
                self.report(str(exc))
                continue
            self.report(f"{part.name:<11} back up")

    # --- stopping ---

    async def stop_all(self) -> None:
        """Every running part, the last started first: SIGINT, then SIGTERM, then SIGKILL."""
        self.stopping = True
        for keeper in self._keepers:
            keeper.cancel()
        for keeper in self._keepers:
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        for name in reversed(list(self.running)):
            running = self.running[name]
            if running.process.returncode is None:
                how = await self._stop(running.process)
                self.report(f"{name:<11} stopped{how}")
        self.running.clear()

    async def _stop(self, process: asyncio.subprocess.Process) -> str:
        for sig, note in (
            (signal.SIGINT, ""),
            (signal.SIGTERM, " (after SIGTERM)"),
            (signal.SIGKILL, " (killed)"),
        ):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                await asyncio.wait_for(process.wait(), self.timing.grace)
            except TimeoutError:
                continue
            # The part is gone; anything it left in its group goes too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return note
        return " (did not exit)"
