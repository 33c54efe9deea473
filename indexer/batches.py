"""One block range fetched from the chain, checked and decoded: a :class:`Batch` to write.

The last block's header is read before the events (see :func:`fetch_batch`). Then checks that
the node's answers fit together before anything is written: every event's block
hash is the hash of that block's header, and consecutive headers link by parent hash. A range
read while the node switched forks fails these checks and is fetched again
(:class:`InconsistentAnswerError`); a fork below the range is caught when the batch is
committed, by its first block's parent hash (``indexer/runner.py``).
"""

from __future__ import annotations

import asyncio

from indexer.errors import InconsistentAnswerError
from indexer.pipeline import EventPipeline
from indexer.ranges import header_numbers
from indexer.records import Batch
from indexer.source import ChainSource


async def fetch_batch(
    source: ChainSource,
    pipeline: EventPipeline,
    first: int,
    last: int,
    *,
    head: int,
    window: int,
) -> Batch:
    """Blocks ``first..last`` (all at or below ``head``, the node's own block number)."""
    if last > head:
        raise ValueError(f"range {first}..{last} is past the head {head}")
    # The last block's header first: a node that has it has every event up to it, so events
    # read after it cannot miss the blocks a lagging node had not reached (a node behind
    # answers getEvents with [] there, but has no header to give).
    end = await source.header(last)
    events = await source.events(first, last)
    numbers = header_numbers(first, last, head, window, {e.block_number for e in events})
    headers = [
        *await asyncio.gather(*(source.header(n) for n in numbers if n != last)),
        end,
    ]
    by_number = {h.number: h for h in headers}
    if set(by_number) != set(numbers):
        raise InconsistentAnswerError(f"the node answered other blocks than {first}..{last}")
    for event in events:
        if by_number[event.block_number].hash != event.block_hash:
            raise InconsistentAnswerError(
                f"block {event.block_number} changed while blocks {first}..{last} were read"
            )
    for header in headers:
        parent = by_number.get(header.number - 1)
        if parent is not None and header.parent_hash != parent.hash:
            raise InconsistentAnswerError(
                f"block {header.number} does not follow block {parent.number}: the node "
                "switched forks while the range was read"
            )
    decoded = pipeline.decode(events)
    return Batch(
        first=first,
        last=last,
        first_parent_hash=by_number[first].parent_hash,
        headers=list(headers),
        events=events,
        rows=decoded.rows,
        undecoded=decoded.undecoded,
    )
