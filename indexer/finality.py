"""Finality as it advances: stored blocks become ``ACCEPTED_ON_L1`` once L1 has them.

Each block row is written with the status the node gave when it was read (``ACCEPTED_ON_L2``
while following the L2 head). Once synced, on each idle round, the runner asks the source for
the ``l1_accepted`` block and has the sink mark every stored block at or below it in one
statement, so readers can tell final rows from ones a reorg may still remove (join an event's
``block_number`` with ``blocks``). Both sides are optional capabilities, checked at run time, so a
source or a sink without them (a test double, another backend) still indexes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class MarksL1Finality(Protocol):
    """A sink that can record L1 acceptance (``DuckDBStore``)."""

    def mark_l1_accepted(self, number: int) -> int:
        """Mark every stored block at or below ``number`` accepted on L1, in one statement;
        returns how many rows changed."""
        ...
