"""``smainer up``: the whole network in one command (docs/up.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from smainer.up.parts import Part, PlanError, UpOptions, plan
from smainer.up.supervisor import StartError, Supervisor, Timing

LIFECYCLE = ("open", "assigned", "completed", "expired", "cancelled")
"""The order of a task's statuses in the summary line."""

STATUS_EVERY = 30.0
"""Seconds between the one-line summaries of the network printed while it runs."""


def _say(line: str) -> None:
    print(f"smainer up: {line}", flush=True)


def fresh_run_dir(options: UpOptions) -> None:
    """A new devnet is a new chain: what a previous run indexed, journaled or notified would not
    match it, so the run folder's index, journals, notifier store and logs start empty. Another
    network's are kept."""
    options.log_dir.mkdir(parents=True, exist_ok=True)
    if not options.on_devnet:
        return
    for stale in (
        *options.run_dir.glob("index.duckdb*"),
        *options.run_dir.glob("provider-*.journal"),
        *options.run_dir.glob("notifier.sqlite3*"),
        *options.log_dir.glob("*.log"),
    ):
        stale.unlink()


def urls(options: UpOptions, parts: list[Part]) -> list[str]:
    names = {p.name for p in parts}
    lines = []
    if options.rpc_url:
        lines.append(f"  RPC        {options.rpc_url}")
    if "api" in names:
        lines += [
            f"  dashboard  {options.api_url}/",
            f"  API docs   {options.api_url}/schema",
        ]
    lines.append(f"  logs       {options.log_dir}/")
    return lines


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def summary(stats: dict[str, Any]) -> str:
    """One line from the API's ``/stats``: tasks by status and nodes."""
    by_status = stats.get("tasks_by_status", {})
    order = {status: i for i, status in enumerate(LIFECYCLE)}
    ranked = sorted(by_status.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    tasks = ", ".join(f"{n} {status}" for status, n in ranked if n) or "none yet"
    return (
        f"tasks: {tasks} · nodes active {stats.get('nodes_active')}/{stats.get('nodes_total')}"
        f" · block {stats.get('indexed_block')}"
    )


async def _status_lines(options: UpOptions, report: Callable[[str], None]) -> None:
    last = ""
    while True:
        await asyncio.sleep(STATUS_EVERY)
        try:
            line = summary(await asyncio.to_thread(_get_json, f"{options.api_url}/api/v1/stats"))
        except (urllib.error.URLError, OSError, ValueError):
            continue
        if line != last:
            report(line)
            last = line


async def serve(options: UpOptions, timing: Timing | None = None) -> int:
    """Start the network, keep it up until SIGINT/SIGTERM, stop it; the exit status."""
    try:
        parts = plan(options)
    except PlanError as exc:
        _say(str(exc))
        return 2
    fresh_run_dir(options)
    supervisor = Supervisor(parts, options.log_dir, _say, timing or Timing())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    _say(f"starting {len(parts)} parts on {options.network}; logs in {options.log_dir}/")
    began = time.monotonic()
    starting = asyncio.create_task(supervisor.start_all())
    stopped = asyncio.create_task(stop.wait())
    status: asyncio.Task[None] | None = None
    try:
        await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            _say("interrupted while starting; stopping what started")
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, StartError):
                await starting
            return 130
        try:
            starting.result()
        except StartError as exc:
            _say(str(exc))
            return 1
        _say(f"up in {time.monotonic() - began:.0f} s:")
        for line in urls(options, parts):
            print(line, flush=True)
        _say("Ctrl-C stops everything")
        if any(p.name == "api" for p in parts):
            status = asyncio.create_task(_status_lines(options, _say))
        await supervisor.watch(stop)
        return 1 if supervisor.failure else 0
    finally:
        stopped.cancel()
        if status is not None:
            status.cancel()
        _say("stopping")
        await supervisor.stop_all()
        _say("stopped; nothing left running")


def run_up(options: UpOptions) -> int:
    """The ``smainer up`` command."""
    try:
        return asyncio.run(serve(options))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        print("smainer up: interrupted", file=sys.stderr)
        return 130
