"""A node's reputation: the share of its finished tasks it completed, with a prior.

One definition for everyone who ranks nodes: the scheduler (``provider/scheduling.py``) chooses
by it and the read API (``api/sql/nodes.sql``, which takes the prior as parameters) sorts and
shows it, so a node's rank on the dashboard is the one the scheduler acts on.

``reputation = (completed + PRIOR_COMPLETED) / (completed + failed + PRIOR_COMPLETED +
PRIOR_FAILED)``: a Beta(4, 1) prior, so a new node starts at 0.8, one that always delivers
tends to 1, one that lets tasks expire falls towards 0. The prior is strong on purpose: one
more completion moves a node by at most 4.2 % (0.8 to 0.833), so nodes that all deliver stay
equals for the scheduler's rotation, while a single failure (0.8 to 0.667) counts.
"""

from __future__ import annotations

PRIOR_COMPLETED = 4
PRIOR_FAILED = 1


def reputation(completed: int, failed: int) -> float:
    return (completed + PRIOR_COMPLETED) / (completed + failed + PRIOR_COMPLETED + PRIOR_FAILED)
