"""Streams the marketplace's Starknet events into DuckDB: resumable, reorg-safe, with a
readiness flag. See docs/indexer.md.

``open_store`` opens (or refuses) an index file, ``EventPipeline`` decodes, ``RpcSource`` reads
any JSON-RPC node through starknet-py, and ``Indexer`` runs them: ``await indexer.run()`` in a
task, ``indexer.ready`` once the backfill is done, ``indexer.stop()`` to end cleanly.
"""

from indexer.errors import (
    ContractsMismatchError,
    DatabaseRefusedError,
    IndexerError,
    SourceError,
    StoreError,
)
from indexer.filters import EventQuery, marketplace_queries
from indexer.pipeline import EventPipeline
from indexer.runner import Indexer, IndexerConfig, IndexerStatus
from indexer.sink import Sink
from indexer.source import ChainSource, RpcSource
from indexer.store import DuckDBStore, open_store

__all__ = [
    "ChainSource",
    "ContractsMismatchError",
    "DatabaseRefusedError",
    "DuckDBStore",
    "EventPipeline",
    "EventQuery",
    "Indexer",
    "IndexerConfig",
    "IndexerError",
    "IndexerStatus",
    "RpcSource",
    "Sink",
    "SourceError",
    "StoreError",
    "marketplace_queries",
    "open_store",
]
