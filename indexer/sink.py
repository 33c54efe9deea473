"""The one interface the indexer writes through (DuckDB now; PostgreSQL can follow).

Everything the runner needs from storage is here, and each write is all-or-nothing: a
:meth:`Sink.write` keeps a batch's events, headers and cursor together or none of them, and a
:meth:`Sink.rollback_to` removes everything above a fork and moves the cursor in one go. So a
crash at any instant leaves the store at a batch boundary, and a restart resumes from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from indexer.pipeline import Decoded
from indexer.records import Batch, Cursor, RawEvent


class Sink(Protocol):
    def bind(self, contracts: Mapping[str, int], start_block: int) -> int:
        """Record which contracts this store indexes from which block (first use), or check
        that they are the ones it was built for (``ContractsMismatchError``); returns the
        start block recorded."""
        ...

    def cursor(self) -> Cursor | None:
        """The last block whose events are all stored; ``None`` before the first batch."""
        ...

    def known_blocks(self, at_or_below: int, limit: int) -> list[tuple[int, int]]:
        """(number, hash) of stored headers at or below a height, newest first."""
        ...

    def write(self, batch: Batch) -> None:
        """Store a batch and move the cursor to its last block, in one transaction."""
        ...

    def rollback_to(self, fork: Cursor | None) -> int:
        """Delete everything above ``fork`` (everything, for ``None``) and set the cursor to it,
        in one transaction; returns how many raw events went."""
        ...

    def rebuild(self, decode: Callable[[Iterable[RawEvent]], Decoded]) -> int:
        """Re-derive every decoded table from the raw events, in one transaction; returns the
        number of raw events read."""
        ...

    def close(self) -> None: ...
