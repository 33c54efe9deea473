"""The ``smainer`` command: the one place that wires the parts together.

Each subcommand imports what it runs only when it runs, so ``smainer --help`` stays fast and a
service's dependencies are never loaded for another's command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from smainer import __version__
from smainer.artifacts import CONTRACT_PATHS

Handler = Callable[[argparse.Namespace], int]


def _progress(message: str) -> None:
    print(f"smainer: {message}", file=sys.stderr, flush=True)


def _cmd_build(args: argparse.Namespace) -> int:
    from smainer.config import get_settings
    from smainer.toolchain import ToolchainError, build, ensure_toolchain, find_source_root

    try:
        root = find_source_root(Path(args.source).resolve() if args.source else Path.cwd())
        out_dir = Path(args.out).resolve() if args.out else root / "smainer" / "artifacts"
        toolchain = ensure_toolchain(get_settings().toolchain, _progress, source_root=root)
        built = build(
            toolchain,
            root,
            out_dir,
            check=args.check,
            contracts=CONTRACT_PATHS,
            only=args.contract,
            progress=_progress,
        )
    except ToolchainError as exc:
        print(f"smainer build: {exc}", file=sys.stderr)
        return 1
    for contract in built:
        entry = contract.manifest_entry()
        print(f"{contract.name:<10} class_hash {entry['class_hash']}")
        print(f"{'':<10} compiled_class_hash {entry['compiled_class_hash']}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from smainer.demo import run_demo

    run_demo()
    return 0


def _cmd_deploy(args: argparse.Namespace) -> int:
    import asyncio

    from smainer.config import get_settings
    from smainer.network.deploy import EscrowConfig, deploy_marketplace
    from smainer.network.errors import ChainError
    from smainer.network.networks import resolve_network

    settings = get_settings()
    try:
        network = resolve_network(args.network, settings.networks)
        base = EscrowConfig.from_file(Path(args.config)) if args.config else EscrowConfig()
        config = base.merged(
            scheduler=args.scheduler,
            treasury=args.treasury,
            gas_recipient=args.gas_recipient,
            provider_bps=args.provider_bps,
            gas_bps=args.gas_bps,
            treasury_bps=args.treasury_bps,
            max_execution_time=args.max_execution_time,
            payment_token=args.payment_token,
        )
        asyncio.run(
            deploy_marketplace(
                network,
                settings.account,
                config,
                manifest_dir=Path(args.manifest_dir),
                scarb_target=Path(args.scarb_target) if args.scarb_target else None,
                progress=_progress,
            )
        )
    except ChainError as exc:
        print(f"smainer deploy: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_index(args: argparse.Namespace) -> int:
    import asyncio

    from indexer.errors import IndexerError
    from indexer.service import read_target, rebuild_index, run_index
    from smainer.config import get_settings
    from smainer.network.errors import ChainError
    from smainer.network.networks import resolve_network

    def log(line: str) -> None:
        print(f"smainer index: {line}", file=sys.stderr, flush=True)

    if args.source == "apibara" and not args.dna and not args.rebuild:
        print("smainer index: --source apibara needs --dna URL (the DNA stream)", file=sys.stderr)
        return 2
    try:
        if args.rebuild:
            rebuild_index(Path(args.db), log=log)
            return 0
        network = resolve_network(args.network, get_settings().networks)
        manifest = _manifest_of(args, network.name)
        asyncio.run(
            run_index(
                network,
                read_target(manifest),
                Path(args.db),
                finality=args.finality,
                from_block=args.from_block,
                until_block=args.to_block,
                source=args.source,
                dna_url=args.dna,
                log=log,
            )
        )
    except (IndexerError, ChainError) as exc:
        print(f"smainer index: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_api(args: argparse.Namespace) -> int:
    import re

    from api.lifespan import ApiStartError
    from api.service import run_api
    from api.settings import ApiSettings, IndexTarget
    from indexer.errors import IndexerError
    from indexer.service import read_target
    from smainer.config import get_settings
    from smainer.network.errors import ChainError
    from smainer.network.networks import resolve_network

    def log(line: str) -> None:
        print(f"smainer api: {line}", file=sys.stderr, flush=True)

    configured = get_settings().api
    key_hashes = [h.lower() for h in (args.api_key_hash or configured.api_key_hashes)]
    malformed = [h for h in key_hashes if not re.fullmatch(r"[0-9a-f]{64}", h)]
    if malformed:
        log("an API key hash must be 64 hex digits (a SHA-256), not the key itself")
        return 2
    try:
        target = None
        if not args.read_only:
            network = resolve_network(args.network, get_settings().networks)
            manifest = _manifest_of(args, network.name)
            found = read_target(manifest)
            target = IndexTarget(
                network.rpc_url, found.addresses, found.start_block, found.whole_token
            )
        settings = ApiSettings(
            db=Path(args.db),
            read_only=args.read_only,
            target=target,
            rate_limit=configured.rate_limit if args.rate_limit is None else args.rate_limit,
            api_key_hashes=frozenset(key_hashes),
            cors_origins=tuple(args.cors_origin or configured.cors_origins),
            online_window=(
                configured.online_window if args.online_window is None else args.online_window
            ),
        )
        run_api(settings, host=args.host, port=args.port, log=log)
    except (ApiStartError, IndexerError, ChainError) as exc:
        log(str(exc))
        return 1
    return 0


def _address(value: str) -> int:
    try:
        return int(value, 16 if value.lower().startswith("0x") else 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address: {value!r}") from None


def _cmd_devnet(args: argparse.Namespace) -> int:
    import dataclasses

    from devnet.server import run_devnet
    from smainer.config import get_settings

    overrides = {
        name: value
        for name in (
            "host",
            "port",
            "seed",
            "accounts",
            "initial_balance",
            "block_time",
            "dump_path",
            "load_path",
            "chain_id",
            "allowed_origins",
            "dump_dir",
        )
        if (value := getattr(args, name)) is not None
    }
    if args.allow_any_dump_path:
        overrides["allow_any_dump_path"] = True
    if args.lite_mode:
        overrides["lite_mode"] = True
    settings = dataclasses.replace(get_settings().devnet, **overrides)
    if settings.load_path is not None and not settings.load_path.is_file():
        print(f"smainer devnet: no state file at {settings.load_path}", file=sys.stderr)
        return 1
    try:
        if args.dna_port is None:
            run_devnet(settings)
        else:
            run_devnet(settings, dna_port=args.dna_port)
    except OSError as exc:  # the port is taken, the dump path is not writable...
        print(f"smainer devnet: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _port(value: str) -> int:
    port = _non_negative(value)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"port {port} is above 65535")
    return port


def _non_negative(value: str) -> int:
    try:
        number = int(value, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return number


def _seconds(value: str) -> float:
    """A positive number of seconds. Several flags use it and argparse puts the flag's name
    before the message (``argument --poll-interval: must be positive, got -1``), so the message
    names no flag."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return seconds


def _chain_id(value: str) -> str:
    if not value or len(value) > 31 or not value.isascii() or not value.isprintable():
        raise argparse.ArgumentTypeError(f"chain id must be 1-31 ASCII characters: {value!r}")
    return value


def _market_target(args: argparse.Namespace) -> Any:
    from provider.service import Target

    return Target(
        network=args.network,
        manifest=Path(args.manifest) if args.manifest else None,
        manifest_dir=Path(args.manifest_dir),
        devnet_account=args.devnet_account,
    )


def _cmd_provider(args: argparse.Namespace) -> int:
    from provider.service import run_provider

    return run_provider(
        _market_target(args),
        tier=args.tier,
        gpu=args.gpu,
        cpu_threads=args.cpu_threads,
        ram_gb=args.ram_gb,
        heartbeat_interval=args.heartbeat_interval,
        poll_interval=args.poll_interval,
        journal=Path(args.journal) if args.journal else None,
        once=args.once,
        concurrency=args.concurrency,
        gflops=args.gflops,
        claim_margin=args.claim_margin,
    )


def _cmd_scheduler(args: argparse.Namespace) -> int:
    from provider.service import run_scheduler

    return run_scheduler(
        _market_target(args),
        interval=args.interval,
        max_silence=args.max_silence,
        once=args.once,
    )


def _cmd_task(args: argparse.Namespace) -> int:
    from provider.errors import ProviderError
    from provider.service import Requirements, read_payload, run_task_command

    names = ("task_id", "mine", "algorithm", "amount", "interval", "count", "seed")
    options = {k: getattr(args, k) for k in names if k in args}
    if args.action == "create":
        try:
            options["payload"] = read_payload(args.payload)
        except (ProviderError, OSError) as exc:
            print(f"smainer task create: {exc}", file=sys.stderr)
            return 1
        options["requirements"] = Requirements(
            min_tier=args.min_tier,
            gpu_required=args.gpu,
            cpu_threads=args.cpu_threads,
            ram_gb=args.ram_gb,
            max_execution_time=args.max_execution_time,
        )
    return run_task_command(_market_target(args), args.action, **options)


def _add_deployment_args(parser: argparse.ArgumentParser, *, signer: bool = False) -> None:
    """``--network`` and ``--manifest`` (and ``--manifest-dir``), the same on every command that
    acts on a deployment; ``signer`` adds ``--devnet-account`` for commands that send txs."""
    parser.add_argument(
        "--network",
        default="devnet",
        help="devnet, sepolia, mainnet or an RPC URL (default devnet)",
    )
    parser.add_argument(
        "--manifest", help="deployment manifest (default <manifest-dir>/<network>.json)"
    )
    parser.add_argument(
        "--manifest-dir", default="deployments", help="where manifests live (default deployments)"
    )
    if signer:
        parser.add_argument(
            "--devnet-account",
            type=_non_negative,
            help="on a devnet, sign with its predeployed account N (else SMAINER_ACCOUNT_*)",
        )


def _manifest_of(args: argparse.Namespace, network_name: str) -> Path:
    """``--manifest``, else ``<--manifest-dir>/<network>.json``."""
    from smainer.network.manifest import manifest_path

    return (
        Path(args.manifest)
        if args.manifest
        else manifest_path(Path(args.manifest_dir), network_name)
    )


def _add_market_commands(sub: argparse._SubParsersAction) -> None:
    """``smainer provider`` and ``smainer task ...`` (see docs/provider.md)."""
    provider = sub.add_parser(
        "provider",
        help="run a JAX provider node: register, heartbeat, compute and claim assigned tasks",
        description=(
            "Registers this machine's node (capabilities detected, flags override), heartbeats, "
            "and computes and claims every task assigned to it; SIGINT/SIGTERM stop it cleanly. "
            "One JSON log line per task transition on stderr."
        ),
    )
    _add_deployment_args(provider, signer=True)
    provider.add_argument("--tier", type=int, choices=range(1, 6), help="node tier 1..5")
    provider.add_argument("--gpu", action=argparse.BooleanOptionalAction, help="has a GPU")
    provider.add_argument("--cpu-threads", type=_non_negative, help="CPU threads offered")
    provider.add_argument("--ram-gb", type=_non_negative, help="RAM offered in GB")
    provider.add_argument(
        "--heartbeat-interval",
        type=_seconds,
        default=300.0,
        metavar="S",
        help="seconds between heartbeats on chain (default 300)",
    )
    provider.add_argument(
        "--poll-interval",
        type=_seconds,
        default=5.0,
        metavar="S",
        help="seconds between scans for assigned tasks (default 5)",
    )
    provider.add_argument("--journal", help="journal file (default: .smainer/provider/...)")
    provider.add_argument("--once", action="store_true", help="register, poll once, exit")
    provider.add_argument(
        "--concurrency", type=int, default=1, metavar="N", help="computations at once (default 1)"
    )
    provider.add_argument(
        "--gflops",
        type=float,
        metavar="X",
        help="rate the deadline check assumes (default 1 on a CPU, 100 with a GPU)",
    )
    provider.add_argument(
        "--claim-margin",
        type=_seconds,
        default=15.0,
        metavar="S",
        help="skip a task unless its estimate leaves S seconds before its deadline (default 15)",
    )
    provider.set_defaults(handler=_cmd_provider)

    scheduler = sub.add_parser(
        "scheduler",
        help="assign Open tasks to eligible nodes (needs the scheduler role)",
        description=(
            "Assigns each Open task to the eligible Active node with the best score "
            "(reputation, load, heartbeat recency; fair rotation between equals). A task no "
            "node can take stays Open and is reported once. See docs/provider.md."
        ),
    )
    _add_deployment_args(scheduler, signer=True)
    scheduler.add_argument("--interval", type=_seconds, default=5.0, metavar="S")
    scheduler.add_argument(
        "--max-silence",
        type=_non_negative,
        default=900,
        metavar="S",
        help="skip nodes whose last heartbeat is older (default 900)",
    )
    scheduler.add_argument("--once", action="store_true", help="one round, then exit")
    scheduler.set_defaults(handler=_cmd_scheduler)

    task = sub.add_parser("task", help="create and follow compute tasks (the demander's side)")
    actions = task.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        help="approve and create a task in one multicall; prints its id",
        description=(
            "Checks the payload first (JSON object, an algorithm providers run, at most 256 "
            "felts = 7905 bytes of compact JSON) so nothing is escrowed for a task no provider "
            "can take, and that the account holds the amount. Amounts: token units (25, 0.5) or "
            "base units (1500base)."
        ),
    )
    _add_deployment_args(create, signer=True)
    create.add_argument("--algorithm", required=True, help="e.g. matrix_multiplication")
    create.add_argument("--payload", required=True, metavar="FILE", help="JSON file, - for stdin")
    create.add_argument("--amount", required=True, help="25, 0.5 (token units) or 1500base")
    create.add_argument("--min-tier", type=int, default=0, help="0..5 (0: any)")
    create.add_argument("--gpu", action="store_true", help="require a GPU")
    create.add_argument("--cpu-threads", type=_non_negative, default=0)
    create.add_argument("--ram-gb", type=_non_negative, default=0)
    create.add_argument("--max-execution-time", type=_non_negative, default=3600, metavar="SECONDS")
    for name, text in (
        ("status", "a task's state as JSON"),
        ("result", "a completed task's result, decoded and checked against its hash"),
        ("cancel", "cancel an Open task of yours (refund)"),
        ("reclaim", "refund an Assigned task whose deadline has passed"),
    ):
        one = actions.add_parser(name, help=text)
        _add_deployment_args(one, signer=True)
        one.add_argument("task_id", type=_non_negative, metavar="ID")
    listing = actions.add_parser("list", help="every task, or --mine")
    _add_deployment_args(listing, signer=True)
    listing.add_argument("--mine", action="store_true", help="only tasks this account created")
    demo = actions.add_parser(
        "demo",
        help="keep creating sample tasks of every algorithm (some expire, some are cancelled)",
        description=(
            "Demo traffic from this account: a small task of each algorithm in turn every "
            "~S seconds; in every eight, one is made to expire (then reclaimed) and one asks "
            "for what no node offers (then cancelled). One JSON log line per action on stderr; "
            "SIGINT/SIGTERM stop it. See docs/provider.md."
        ),
    )
    _add_deployment_args(demo, signer=True)
    demo.add_argument(
        "--interval",
        type=_seconds,
        default=4.0,
        metavar="S",
        help="mean seconds between tasks (default 4)",
    )
    demo.add_argument(
        "--count",
        type=_non_negative,
        metavar="N",
        help="create N tasks, see their cancels and reclaims through, then exit",
    )
    demo.add_argument(
        "--seed", type=_non_negative, default=0, help="same seed, same tasks (default 0)"
    )
    task.set_defaults(handler=_cmd_task)


def _cmd_up(args: argparse.Namespace) -> int:
    from smainer.up import UpOptions, run_up

    parts = None if args.parts is None else tuple(p.strip() for p in args.parts.split(","))
    return run_up(
        UpOptions(
            network=args.network,
            demo=args.demo,
            providers=args.providers,
            host=args.host,
            port=args.port,
            rpc_port=args.rpc_port,
            run_dir=Path(args.run_dir),
            manifest_dir=Path(args.manifest_dir),
            parts=parts,
            demo_interval=args.demo_interval,
        )
    )


def _add_up_command(sub: argparse._SubParsersAction) -> None:
    """``smainer up`` (see docs/up.md)."""
    up = sub.add_parser(
        "up",
        help="the whole network in one command: devnet, marketplace, scheduler, providers, API",
        description=(
            "On the devnet (default): starts the devnet, deploys the marketplace, then the API "
            "with its indexer and dashboard, the scheduler, N providers (predeployed accounts "
            "1..N, each a distinct node), the notifier and, with --demo, sample tasks from "
            "account N+1. Each part is a supervised process, restarted with backoff if it "
            "crashes; Ctrl-C stops them all, in reverse order. Against another network it runs "
            "--parts (default api,notify) with accounts from SMAINER_ACCOUNT_*. See docs/up.md."
        ),
    )
    up.add_argument(
        "--network", default="devnet", help="devnet (default), sepolia, mainnet or an RPC URL"
    )
    up.add_argument(
        "--demo", action="store_true", help="keep submitting sample tasks (devnet only)"
    )
    up.add_argument(
        "--providers",
        type=_non_negative,
        default=2,
        metavar="N",
        help="provider processes (default 2; 1..8 on the devnet)",
    )
    up.add_argument(
        "--parts",
        help="off the devnet: comma-separated parts to run, from api, notify, scheduler, "
        "provider (default api,notify)",
    )
    up.add_argument(
        "--host", default="127.0.0.1", help="interface for the devnet and API (default loopback)"
    )
    up.add_argument("--port", type=_port, default=8000, help="API and dashboard (default 8000)")
    up.add_argument("--rpc-port", type=_port, default=5050, help="devnet RPC (default 5050)")
    up.add_argument(
        "--run-dir",
        default=".smainer/up",
        help="logs of every part (logs/), the index and journals (default .smainer/up)",
    )
    up.add_argument(
        "--manifest-dir", default="deployments", help="where manifests live (default deployments)"
    )
    up.add_argument(
        "--demo-interval",
        type=_seconds,
        metavar="S",
        help="seconds between demo tasks (default: the demo's own)",
    )
    up.set_defaults(handler=_cmd_up)


def _notify_settings(args: argparse.Namespace) -> Any:
    """``SMAINER_NOTIFY_*`` settings with the command's flags applied over them."""
    from dataclasses import replace

    from smainer.config import get_settings

    changes: dict[str, Any] = {}
    if getattr(args, "store", None):
        changes["store"] = Path(args.store)
    if getattr(args, "api", None):
        changes["api_url"] = args.api
    if getattr(args, "config", None):
        changes["config_file"] = Path(args.config)
    return replace(get_settings().notify, **changes)


def _cmd_notify(args: argparse.Namespace) -> int:
    from notifier.errors import NotifierError
    from notifier.service import run_notifier

    try:
        run_notifier(_notify_settings(args), from_block=args.from_block)
    except NotifierError as exc:
        print(f"smainer notify: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_notify_manage(args: argparse.Namespace) -> int:
    """``notify add|list|remove|log``: one short use of the store each."""
    import json

    from notifier import manage
    from notifier.errors import NotifierError
    from notifier.store import open_store

    try:
        store = open_store(_notify_settings(args).store)
    except NotifierError as exc:
        print(f"smainer notify: {exc}", file=sys.stderr)
        return 1
    try:
        if args.notify_action == "add":
            registration, secret = manage.register(
                store, args.url, creator=args.creator, task_id=args.task
            )
            # The secret is shown here once, on stdout, and never again.
            shown = {
                "id": registration.id,
                "url": registration.url,
                "creator": registration.creator,
                "task": registration.task_id,
                "secret": secret,
            }
            print(json.dumps(shown))
        elif args.notify_action == "list":
            print("\n".join(manage.registration_lines(store.registrations())))
        elif args.notify_action == "remove":
            store.remove_registration(args.registration_id)
        else:
            print("\n".join(manage.log_lines(store.log(args.task, args.limit or None))))
    except NotifierError as exc:
        print(f"smainer notify {args.notify_action}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def _add_notify_commands(sub: argparse._SubParsersAction) -> None:
    notify = sub.add_parser(
        "notify",
        help="signed callbacks (webhooks) when tasks finish; alone, runs the notifier",
        description=(
            "Follows the API's event stream and POSTs a JSON body, signed with HMAC-SHA256, to "
            "the callback URLs registered for each completed, expired or cancelled task's "
            "creator or id; retried with exponential backoff, every attempt logged. "
            "See docs/notify.md."
        ),
    )
    store_help = "the notifier's store (default SMAINER_NOTIFY_STORE or .smainer/notifier.sqlite3)"
    notify.add_argument("--store", metavar="PATH", help=store_help)
    notify.add_argument(
        "--api", metavar="URL", help="the read API (default SMAINER_NOTIFY_API_URL or :8000)"
    )
    notify.add_argument(
        "--config", metavar="FILE", help="a TOML file of registrations (SMAINER_NOTIFY_CONFIG)"
    )
    notify.add_argument(
        "--from-block",
        type=_non_negative,
        metavar="N",
        help="first start only: announce tasks finishing from block N (default: the API's head)",
    )
    notify.set_defaults(handler=_cmd_notify)
    actions = notify.add_subparsers(dest="notify_action", metavar="ACTION")
    add = actions.add_parser("add", help="register a callback URL; prints its secret once")
    add.add_argument("url", metavar="URL")
    match = add.add_mutually_exclusive_group(required=True)
    match.add_argument("--creator", metavar="ADDRESS", help="every task this address creates")
    match.add_argument("--task", type=_non_negative, metavar="ID", help="this task only")
    listing = actions.add_parser("list", help="the registrations (no secrets)")
    remove = actions.add_parser("remove", help="stop delivering to a registration")
    remove.add_argument("registration_id", type=_non_negative, metavar="ID")
    log = actions.add_parser("log", help="the delivery log, newest first")
    log.add_argument("--task", type=_non_negative, metavar="ID", help="one task's deliveries")
    log.add_argument(
        "--limit", type=_non_negative, default=50, help="at most N (default 50; 0: all)"
    )
    for action in (add, listing, remove, log):
        action.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS, help=store_help)
        action.set_defaults(handler=_cmd_notify_manage)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smainer",
        description="On-chain-first compute marketplace toolkit for Starknet.",
    )
    parser.add_argument("--version", action="version", version=f"smainer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    build = sub.add_parser(
        "build",
        help="compile cairo/ with the pinned toolchain into smainer/artifacts/",
        description=(
            "Compile the contracts with the pinned Cairo 2.12 compiler (from the cairo-lang "
            "0.14.0.1 sdist, fetched from PyPI and checked by hash on first use) against the "
            "corelib named by SMAINER_CAIRO_CORELIB (default: ../shared/cairo-2.12-corelib/corelib "
            "beside the checkout), then with cairo-lang 0.14.0.1's Sierra-to-CASM compiler."
        ),
    )
    build.add_argument(
        "--check",
        action="store_true",
        help="fail if the committed artifacts differ from a fresh build (CI runs this)",
    )
    build.add_argument("--source", help="checkout holding cairo/ (default: found from cwd)")
    build.add_argument("--out", help="artifact folder (default: <checkout>/smainer/artifacts)")
    build.add_argument(
        "--contract",
        action="append",
        choices=list(CONTRACT_PATHS),
        help="build (or check) only this contract, keeping the manifest's others (repeatable)",
    )
    build.set_defaults(handler=_cmd_build)

    demo = sub.add_parser(
        "demo",
        help="run one task's whole life on the in-process chain",
        description=(
            "Deploy the committed Token and Escrow on an in-process chain, escrow a task, register "
            "a node, assign, compute, prove and get paid, printing Cairo steps and balances."
        ),
    )
    demo.set_defaults(handler=_cmd_demo)

    devnet = sub.add_parser(
        "devnet",
        help="run a local Starknet (JSON-RPC 0.10.2) like starknet-devnet",
        description=(
            "Serve a local Starknet on HTTP and WebSocket JSON-RPC 0.10.2 with funded "
            "predeployed accounts, for starknet-py and other clients. Defaults come from the "
            "SMAINER_DEVNET_* variables; flags override them. Ctrl-C stops it (and dumps the "
            "state to --dump-path if given)."
        ),
    )
    devnet.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    devnet.add_argument("--port", type=_port, help="TCP port, 0 for any free one (default 5050)")
    devnet.add_argument("--seed", type=_non_negative, help="seed of the accounts' keys (default 0)")
    devnet.add_argument(
        "--accounts", type=_non_negative, help="number of funded accounts (default 10)"
    )
    devnet.add_argument(
        "--initial-balance",
        type=_non_negative,
        help="each account's balance in FRI and WEI (default 10**21)",
    )
    devnet.add_argument(
        "--block-time",
        type=_seconds,
        help="mine a block every S seconds (default: one block per transaction)",
    )
    devnet.add_argument("--dump-path", type=Path, help="write the state here on shutdown")
    devnet.add_argument("--load-path", type=Path, help="start from the state dumped here")
    devnet.add_argument(
        "--chain-id", type=_chain_id, help="chain id short string (default SN_SEPOLIA)"
    )
    devnet.add_argument(
        "--dna-port",
        type=_port,
        help="also serve an Apibara DNA v1alpha2 Starknet stream (gRPC) there (default: off)",
    )
    devnet.add_argument(
        "--allowed-origins",
        type=lambda value: tuple(o.strip() for o in value.split(",") if o.strip()),
        help="comma-separated browser origins allowed besides loopback pages ('*': any)",
    )
    devnet.add_argument(
        "--dump-dir",
        type=Path,
        help="folder devnet_dump/devnet_load paths must stay in (default: --dump-path's folder, "
        "else .smainer/devnet/)",
    )
    devnet.add_argument(
        "--allow-any-dump-path",
        action="store_true",
        help="let devnet_dump/devnet_load reach any path an RPC client names",
    )
    devnet.add_argument(
        "--lite-mode",
        action="store_true",
        help="skip block hashes (a block's hash is its number) and commitments, for speed",
    )
    devnet.set_defaults(handler=_cmd_devnet)

    deploy = sub.add_parser(
        "deploy",
        help="declare and deploy the marketplace; writes deployments/<network>.json",
        description=(
            "Declare what is not declared, deploy the escrow (and on a devnet a payment token), "
            "apply roles and fee split. Idempotent: a second run changes nothing. Off devnet the "
            "signing account comes from SMAINER_ACCOUNT_ADDRESS with SMAINER_KEYSTORE (or "
            "SMAINER_PRIVATE_KEY). Declares the committed artifacts (Cairo 2.12), or with "
            "--scarb-target what `scarb build` made with another Cairo version."
        ),
    )
    deploy.add_argument(
        "--network", default="devnet", help="devnet, sepolia, mainnet or an RPC URL"
    )
    deploy.add_argument("--config", help="TOML file with an [escrow] table")
    deploy.add_argument("--scheduler", type=_address, help="scheduler address")
    deploy.add_argument("--treasury", type=_address, help="treasury address")
    deploy.add_argument("--gas-recipient", type=_address, help="gas subsidy recipient")
    deploy.add_argument("--provider-bps", type=int, help="provider share in basis points")
    deploy.add_argument("--gas-bps", type=int, help="gas subsidy share in basis points")
    deploy.add_argument("--treasury-bps", type=int, help="treasury share in basis points")
    deploy.add_argument(
        "--max-execution-time",
        type=int,
        metavar="SECONDS",
        help="longest execution time new tasks may ask for (default 604800, 7 days)",
    )
    deploy.add_argument("--payment-token", type=_address, help="ERC-20 paying for tasks")
    deploy.add_argument(
        "--scarb-target",
        help="declare Scarb's output (scarb-project/target/dev) instead of the committed artifacts",
    )
    deploy.add_argument(
        "--manifest-dir", default="deployments", help="where <network>.json is written"
    )
    deploy.set_defaults(handler=_cmd_deploy)

    index = sub.add_parser(
        "index",
        help="index the marketplace's events into DuckDB and follow the head",
        description=(
            "Backfill the Escrow's and Token's events (addresses and start block from "
            "deployments/<network>.json) into a DuckDB file, then follow the head, rolling back "
            "reorgs. Resumes where it stopped; Ctrl-C stops cleanly. See docs/indexer.md."
        ),
    )
    _add_deployment_args(index)
    index.add_argument(
        "--db", default="smainer.duckdb", help="the index file (default smainer.duckdb)"
    )
    index.add_argument(
        "--from-block",
        type=_non_negative,
        help="first block to index (default: the deployment's block; kept by an existing index)",
    )
    index.add_argument(
        "--to-block", type=_non_negative, help="stop once this block is indexed (default: follow)"
    )
    index.add_argument(
        "--finality",
        choices=["accepted", "l1"],
        default="accepted",
        help="index blocks once accepted on L2 (default; reorgs are rolled back) or on L1",
    )
    index.add_argument(
        "--source",
        choices=["rpc", "apibara"],
        default="rpc",
        help="read the chain by JSON-RPC (default) or from an Apibara DNA v1alpha2 stream",
    )
    index.add_argument(
        "--dna",
        metavar="URL",
        help="the DNA v1alpha2 stream for --source apibara (http://host:port or https://host)",
    )
    index.add_argument(
        "--rebuild",
        action="store_true",
        help="re-derive the decoded tables of --db from its raw events, without the chain",
    )
    index.set_defaults(handler=_cmd_index)

    api = sub.add_parser(
        "api",
        help="serve the read API over the index (indexing it unless --read-only)",
        description=(
            "Serve JSON under /api/v1 (tasks, nodes, accounts, stats, quote, event stream; "
            "OpenAPI at /schema) from the DuckDB index, indexing the network in the same "
            "process (DuckDB allows one process on the file) unless --read-only. See docs/api.md."
        ),
    )
    _add_deployment_args(api)
    api.add_argument(
        "--db", default="smainer.duckdb", help="the index file (default smainer.duckdb)"
    )
    api.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default loopback)"
    )
    api.add_argument("--port", type=_non_negative, default=8000, help="TCP port (default 8000)")
    api.add_argument(
        "--read-only", action="store_true", help="serve a finished index, without indexing"
    )
    api.add_argument(
        "--rate-limit",
        type=_non_negative,
        help="requests per minute per client address (0: no limit; default "
        "SMAINER_API_RATE_LIMIT or 600)",
    )
    api.add_argument(
        "--api-key-hash",
        action="append",
        default=[],
        help="SHA-256 hex of an API key that lifts the rate limit (repeatable; replaces "
        "SMAINER_API_KEY_HASHES)",
    )
    api.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        help="an origin allowed by CORS (repeatable; replaces SMAINER_API_CORS_ORIGINS)",
    )
    api.add_argument(
        "--online-window",
        type=_non_negative,
        help="seconds of chain time since a node's last heartbeat or task event for 'online' "
        "(default SMAINER_API_ONLINE_WINDOW or 600)",
    )
    api.set_defaults(handler=_cmd_api)
    _add_market_commands(sub)
    _add_notify_commands(sub)
    _add_up_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
