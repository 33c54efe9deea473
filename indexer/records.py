"""What flows through the indexer: raw events, block headers, decoded batches, the cursor.

Plain dataclasses with ``int`` felts; only the sink turns them into its storage types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
"""One decoded event as a row: position columns plus the event's ABI members, flattened."""


@dataclass(frozen=True, slots=True)
class RawEvent:
    """An event as the node emitted it, keyed by its position in the chain."""

    block_number: int
    transaction_index: int
    event_index: int
    block_hash: int
    transaction_hash: int
    from_address: int
    keys: tuple[int, ...]
    data: tuple[int, ...]

    @property
    def position(self) -> tuple[int, int, int]:
        return (self.block_number, self.transaction_index, self.event_index)


@dataclass(frozen=True, slots=True)
class BlockHeader:
    number: int
    hash: int
    parent_hash: int
    timestamp: int
    finality: str
    """``ACCEPTED_ON_L2`` or ``ACCEPTED_ON_L1`` (the block's status when it was read)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last block whose events are all in the index, with the hash it had."""

    block_number: int
    block_hash: int


@dataclass
class Batch:
    """Blocks ``first..last``: everything one transaction writes, cursor included."""

    first: int
    last: int
    first_parent_hash: int
    """Parent hash of block ``first``: must be the cursor's hash, or a reorg happened."""
    headers: list[BlockHeader]
    events: list[RawEvent]
    rows: dict[str, list[Row]] = field(default_factory=dict)
    """Decoded events by table (``ev_task_created``...)."""
    undecoded: int = 0
    """Events of the followed contracts that the ABI does not describe (kept raw only)."""

    @property
    def cursor(self) -> Cursor:
        last = next(h for h in reversed(self.headers) if h.number == self.last)
        return Cursor(self.last, last.hash)
