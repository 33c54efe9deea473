"""The indexer's errors: one base, each marked retryable or final where it arises.

Driver errors (DuckDB) and node errors (starknet-py, aiohttp) become these at one boundary each
(``indexer/store.py`` and ``indexer/source.py``), so the runner knows whether to back off and try
again (a node timing out, rate-limiting or restarting) or to stop and say why (a database that is
not ours).
"""

from __future__ import annotations


class IndexerError(Exception):
    """Base of every indexer failure."""

    retryable: bool = False


class DatabaseRefusedError(IndexerError):
    """The database file is foreign, corrupt, in use or from a newer schema: left untouched."""


class ContractsMismatchError(IndexerError):
    """The index was built for other contract addresses than the manifest now names."""


class SourceError(IndexerError):
    """The node failed to answer (timeout, 429, disconnect, 5xx): worth retrying later."""

    retryable = True


class BlockNotFoundError(IndexerError):
    """The node does not know this block (it is behind us, or the block was reorged away)."""


class InconsistentAnswerError(IndexerError):
    """Two answers of the node disagree (a block hash changed between calls): refetch."""

    retryable = True


class StoreError(IndexerError):
    """The database failed a write (disk full, I/O error, a broken invariant): nothing of the
    batch was kept, the cursor still names the last complete batch."""
