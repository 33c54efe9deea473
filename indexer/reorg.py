"""Finding where the node's chain and the index part ways, after a reorg.

The index keeps the header hash of every block near the head (and of every block with events,
and of each batch's ends). Walking those stored blocks downwards and asking the node for the
same heights, the first one whose hash the node still has is the fork point: everything above
it is rolled back and indexed again. A block the node does not know (the chain got shorter, or
the node is behind) is passed over the same way. No stored block left on the chain means
everything goes: the index is rebuilt from its start block rather than keep stale data.
"""

from __future__ import annotations

from indexer.errors import BlockNotFoundError
from indexer.records import Cursor
from indexer.sink import Sink
from indexer.source import ChainSource

STEP = 64
"""Stored blocks read from the index at a time while walking down."""


async def find_fork(source: ChainSource, sink: Sink, at_or_below: int) -> Cursor | None:
    """The highest stored block at or below ``at_or_below`` that is still on the node's chain,
    or ``None`` if none is."""
    at = at_or_below
    while at >= 0:
        known = sink.known_blocks(at, STEP)
        if not known:
            return None
        for number, stored_hash in known:
            try:
                header = await source.header(number)
            except BlockNotFoundError:
                continue
            if header.hash == stored_hash:
                return Cursor(number, stored_hash)
        at = known[-1][0] - 1
    return None
