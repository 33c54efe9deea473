"""The entry points behind ``smainer provider``, ``smainer scheduler`` and ``smainer task``
(``smainer task demo`` included).

Plain functions of plain arguments (``smainer/cli.py`` declares the commands and calls these).
Each returns the process exit code: 0 done, 1 refused or failed (the reason on stderr).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from starknet_py.net.client_errors import ClientError

from provider.demand import (
    cancel_task,
    create_task,
    describe,
    list_tasks,
    parse_amount,
    reclaim_task,
    task_result,
)
from provider.demo_traffic import DemoConfig, DemoTraffic
from provider.errors import ProviderError
from provider.escrow import Requirements
from provider.feasibility import ACCELERATOR_FLOPS, CPU_FLOPS, Budget
from provider.journal import Journal
from provider.logs import LOGGER, log_event
from provider.machine import detect, has_accelerator, memory_bytes
from provider.scheduler import Scheduler, SchedulerConfig
from provider.session import open_sender, open_session
from provider.worker import ProviderWorker, WorkerConfig
from smainer.config import get_settings
from smainer.network.heads import HeadWatcher, derive_ws_url

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """Which market and which account a command acts on."""

    network: str = "devnet"
    manifest: Path | None = None
    manifest_dir: Path = Path("deployments")
    devnet_account: int | None = None
    """On a devnet, sign with its predeployed account N instead of SMAINER_ACCOUNT_*."""


def _fail(command: str, exc: Exception) -> int:
    print(f"smainer {command}: {exc}", file=sys.stderr)
    return 1


def _run(command: str, main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    try:
        return asyncio.run(main())
    except (ProviderError, ClientError, OSError) as exc:  # ClientError: an RPC error answer
        return _fail(command, exc)


def run_provider(
    target: Target,
    *,
    tier: int | None = None,
    gpu: bool | None = None,
    cpu_threads: int | None = None,
    ram_gb: int | None = None,
    heartbeat_interval: float = 300.0,
    poll_interval: float = 5.0,
    journal: Path | None = None,
    once: bool = False,
    concurrency: int = 1,
    gflops: float | None = None,
    claim_margin: float = 15.0,
) -> int:
    """Register, heartbeat, compute and claim until SIGINT/SIGTERM (or one poll with ``once``).

    ``concurrency`` computations at once, each given the device's memory over ``concurrency``;
    ``gflops`` overrides the nominal rate the deadline check assumes (:mod:`provider.feasibility`).
    """
    _log_to_stderr()
    if concurrency < 1 or (gflops is not None and not gflops > 0):
        return _fail("provider", ValueError("--concurrency and --gflops must be positive"))
    settings = get_settings()

    async def main() -> int:
        session = await open_session(target.network, target.manifest, target.manifest_dir, settings)
        sender, source = await open_sender(session, settings, target.devnet_account)
        import jax

        devices = jax.devices()
        capabilities = detect(devices).merged(
            tier=tier, gpu=gpu, cpu_threads=cpu_threads, ram_gb=ram_gb
        )
        memory = memory_bytes(devices)
        nominal = ACCELERATOR_FLOPS if has_accelerator(devices) else CPU_FLOPS
        budget = Budget(
            flops_per_second=gflops * 1e9 if gflops else nominal,
            claim_margin=claim_margin,
            memory_bytes=None if memory is None else memory // concurrency,
        )
        market = session.reader.market
        path = journal or Path(".smainer") / "provider" / (
            f"{session.network}-{market.escrow:#x}-{sender.address:#x}.json"
        )
        print(f"smainer provider: node {source}, journal {path}", file=sys.stderr)
        worker = ProviderWorker(
            session.reader,
            sender,
            Journal(path, start_block=market.from_block),
            WorkerConfig(
                capabilities=capabilities,
                heartbeat_interval=heartbeat_interval,
                poll_interval=poll_interval,
                max_concurrent=concurrency,
                budget=budget,
            ),
        )
        if once:
            await worker.ensure_registered()
            await worker.poll_once()
            return 0
        await _until_signalled(worker.run)
        return 0

    return _run("provider", main)


def _log_to_stderr() -> None:
    if not LOGGER.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)


async def _until_signalled(run: Callable[[asyncio.Event], Coroutine[Any, Any, T]]) -> T:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await run(stop)


def run_scheduler(
    target: Target, *, interval: float = 5.0, max_silence: int = 900, once: bool = False
) -> int:
    """Assign Open tasks until SIGINT/SIGTERM (one round: ``once``): a round on each new head
    the node's WebSocket announces, and every ``interval`` seconds regardless (the fallback when
    the node has no WebSocket at ``ws://host:port/ws``)."""
    _log_to_stderr()
    settings = get_settings()

    async def main() -> int:
        session = await open_session(target.network, target.manifest, target.manifest_dir, settings)
        sender, source = await open_sender(session, settings, target.devnet_account)
        print(f"smainer scheduler: signing as {source}", file=sys.stderr)
        config = SchedulerConfig(interval=interval, max_silence=max_silence)
        if once:
            await Scheduler(session.reader, sender, config).round()
            return 0
        heads = HeadWatcher(
            derive_ws_url(session.reader.market.rpc_url),
            log=lambda line: log_event("scheduler.websocket", message=line),
        )
        try:
            await _until_signalled(Scheduler(session.reader, sender, config, heads=heads).run)
        finally:
            await heads.close()
        return 0

    return _run("scheduler", main)


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2))


def run_task_command(target: Target, action: str, **options: Any) -> int:
    """``smainer task ACTION``: create, status, result, cancel, reclaim, list, demo.

    ``demo`` takes ``interval``, ``count`` and ``seed`` (:class:`provider.demo_traffic.DemoConfig`)
    and runs until SIGINT/SIGTERM, or until ``count`` tasks are created and followed through.
    """
    settings = get_settings()

    async def main() -> int:
        session = await open_session(target.network, target.manifest, target.manifest_dir, settings)
        reader = session.reader
        if action == "status":
            _print(describe(await reader.get_task(options["task_id"])))
            return 0
        if action == "result":
            _print(await task_result(reader, options["task_id"]))
            return 0
        if action == "list" and not options.get("mine"):
            _print([describe(task) for task in await list_tasks(reader)])
            return 0
        sender, source = await open_sender(session, settings, target.devnet_account)
        if action == "create":
            decimals = await reader.decimals()
            created = await create_task(
                reader,
                sender,
                options["algorithm"],
                options["payload"],
                parse_amount(options["amount"], decimals),
                options["requirements"],
            )
            print(created.task_id)
            return 0
        if action == "cancel":
            print(hex(await cancel_task(reader, sender, options["task_id"])))
            return 0
        if action == "reclaim":
            print(hex(await reclaim_task(reader, sender, options["task_id"])))
            return 0
        if action == "list":
            _print([describe(task) for task in await list_tasks(reader, sender.address)])
            return 0
        if action == "demo":
            _log_to_stderr()
            print(f"smainer task demo: demanding as {source}", file=sys.stderr)
            wanted = {k: options[k] for k in ("interval", "count", "seed") if k in options}
            config = DemoConfig(**wanted)
            await _until_signalled(DemoTraffic(reader, sender, config).run)
            return 0
        raise ProviderError(f"unknown task action {action!r}")

    return _run(f"task {action}", main)


def read_payload(source: str) -> Any:
    """``--payload FILE`` or ``-`` (stdin), as JSON."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProviderError(f"the payload is not JSON: {exc}") from exc


__all__ = [
    "Requirements",
    "Target",
    "read_payload",
    "run_provider",
    "run_scheduler",
    "run_task_command",
]
