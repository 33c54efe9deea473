"""``smainer index`` as plain functions: what to index (from the deployment manifest), running
the indexer until Ctrl-C, and ``--rebuild``. ``smainer/cli.py`` only parses flags and calls these.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import IndexerError
from indexer.pipeline import CONTRACTS, EventPipeline
from indexer.runner import Indexer, IndexerConfig
from indexer.source import Finality, RpcSource
from indexer.store import open_store
from smainer.chain.manifest import read_manifest
from smainer.chain.networks import Network

Log = Callable[[str], None]


@dataclass(frozen=True)
class Target:
    """The contracts to index and the block to start from."""

    addresses: dict[str, int]
    start_block: int


def read_target(manifest_path: Path) -> Target:
    """Escrow and Token addresses and their deployment block, from ``deployments/<net>.json``."""
    try:
        manifest = read_manifest(manifest_path)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexerError(f"cannot read the manifest {manifest_path}: {exc}") from exc
    if manifest is None:
        raise IndexerError(
            f"no deployment manifest at {manifest_path}: run `smainer deploy` for this network "
            "first, or pass --manifest"
        )
    try:
        addresses = {name: manifest.address(name) for name in CONTRACTS}
    except KeyError as exc:
        raise IndexerError(f"{manifest_path}: {exc.args[0]}") from None
    blocks = [manifest.contracts[name].block for name in CONTRACTS]
    known = [b for b in blocks if b is not None]
    return Target(addresses, min(known) if known else 0)


async def run_index(
    network: Network,
    target: Target,
    db: Path,
    *,
    finality: Finality = "accepted",
    from_block: int | None = None,
    until_block: int | None = None,
    log: Log = print,
) -> None:
    """Index until Ctrl-C (SIGINT) or SIGTERM, which stop it cleanly after the current batch."""
    store = open_store(db)
    source = RpcSource.connect(network.rpc_url, list(target.addresses.values()), finality=finality)
    config = IndexerConfig(
        start_block=target.start_block if from_block is None else from_block,
        until_block=until_block,
    )
    indexer = Indexer(source, store, EventPipeline(target.addresses), config, log=log)
    loop = asyncio.get_running_loop()

    def stop() -> None:
        log("stopping after the current batch")
        indexer.stop()

    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop)
            handled.append(signum)
        except (NotImplementedError, RuntimeError):  # not the main thread, or not Unix
            pass
    try:
        log(f"network {network.name} ({network.rpc_url}), index {db}, finality {finality}")
        await indexer.run()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        await source.close()
        store.close()


def rebuild_index(db: Path, log: Log = print) -> int:
    """Re-derive the decoded tables of ``db`` from its raw events, without the chain."""
    if not db.exists():
        raise IndexerError(f"no index at {db} to rebuild")
    store = open_store(db)
    try:
        contracts = store.contracts()
        if not contracts:
            raise IndexerError(f"{db} has no contracts recorded yet: nothing to rebuild")
        count = store.rebuild(EventPipeline(contracts).decode)
    finally:
        store.close()
    log(f"rebuilt the decoded tables of {db} from {count:,} raw events")
    return count
