"""``smainer index`` as plain functions: what to index (from the deployment manifest), running
the indexer until Ctrl-C from the chosen source (JSON-RPC, or an Apibara DNA v1alpha2 stream), and
``--rebuild``. ``smainer/cli.py`` only parses flags and calls these.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from indexer.errors import IndexerError
from indexer.filters import EventQuery, marketplace_queries
from indexer.pipeline import EventPipeline
from indexer.runner import Indexer, IndexerConfig
from indexer.source import Finality, RpcSource
from indexer.store import DuckDBStore, open_store
from smainer.network.manifest import read_manifest
from smainer.network.networks import Network

if TYPE_CHECKING:
    from indexer.apibara_source import ApibaraSource

Log = Callable[[str], None]
SourceKind = Literal["rpc", "apibara"]


@dataclass(frozen=True)
class Target:
    """The contracts to index and the block to start from."""

    addresses: dict[str, int]
    start_block: int
    whole_token: bool = True
    """The payment token is the deployment's own (index all its events); else only its
    transfers into and out of the escrow are indexed (``indexer/filters.py``)."""

    def queries(self) -> list[EventQuery]:
        return marketplace_queries(
            self.addresses["Escrow"], self.addresses["Token"], whole_token=self.whole_token
        )


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
        addresses = {"Escrow": manifest.address("Escrow"), "Token": manifest.payment_token()}
    except (KeyError, ValueError) as exc:
        raise IndexerError(f"{manifest_path}: {exc}") from None
    # From the first block of the contracts this deployment made (a payment token it did not
    # deploy, such as STRK, is read from the escrow's block on).
    blocks = [entry.block for entry in manifest.contracts.values() if entry.block is not None]
    return Target(
        addresses, min(blocks) if blocks else 0, whole_token="Token" in manifest.contracts
    )


def open_source(
    kind: SourceKind,
    network: Network,
    target: Target,
    store: DuckDBStore,
    start_block: int,
    *,
    finality: Finality,
    dna_url: str | None,
    log: Log,
) -> tuple[RpcSource | ApibaraSource, str]:
    """The chosen source and where it reads from (for the log).

    The DNA stream starts after the index's cursor (or at ``start_block``): streaming the
    blocks already indexed again would only be thrown away.
    """
    addresses = list(target.addresses.values())
    if kind == "rpc":
        rpc = RpcSource.connect(
            network.rpc_url, addresses, finality=finality, log=log, queries=target.queries()
        )
        return rpc, network.rpc_url
    if kind != "apibara":
        raise IndexerError(f"unknown source {kind!r} (rpc or apibara)")
    if not dna_url:
        raise IndexerError("the apibara source needs the DNA stream's URL (--dna URL)")
    if not target.whole_token:
        raise IndexerError(
            "the apibara source reads only a deployment's own payment token; this one uses "
            f"{hex(target.addresses['Token'])}, shared with the network: use --source rpc"
        )
    from indexer.apibara_source import ApibaraSource  # gRPC and protobuf only when asked for

    cursor = store.cursor()
    first = start_block if cursor is None else max(start_block, cursor.block_number + 1)
    try:
        source = ApibaraSource(dna_url, addresses, finality=finality, start_block=first)
    except ValueError as exc:
        raise IndexerError(str(exc)) from None
    return source, f"Apibara DNA v1alpha2 {dna_url}"


async def run_index(
    network: Network,
    target: Target,
    db: Path,
    *,
    finality: Finality = "accepted",
    from_block: int | None = None,
    until_block: int | None = None,
    source: SourceKind = "rpc",
    dna_url: str | None = None,
    log: Log = print,
) -> None:
    """Index until Ctrl-C (SIGINT) or SIGTERM, which stop it cleanly after the current batch.

    ``source``: ``"rpc"`` reads ``network``'s JSON-RPC; ``"apibara"`` the DNA v1alpha2 stream
    at ``dna_url`` (see docs/apibara.md)."""
    config = IndexerConfig(
        start_block=target.start_block if from_block is None else from_block,
        until_block=until_block,
    )
    store = open_store(db)
    try:
        chain, where = open_source(
            source,
            network,
            target,
            store,
            config.start_block,
            finality=finality,
            dna_url=dna_url,
            log=log,
        )
    except BaseException:
        store.close()
        raise
    indexer = Indexer(chain, store, EventPipeline(target.addresses), config, log=log)
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
        log(f"network {network.name} ({where}), index {db}, finality {finality}")
        await indexer.run()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        await chain.close()
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
