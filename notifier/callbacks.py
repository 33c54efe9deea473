"""What a callback says: which stream events finish a task, and the JSON body sent for one.

The body is built once per event and stored with each delivery, so every attempt of a delivery
sends (and signs) the very same bytes.
"""

from __future__ import annotations

import json
from typing import Any

FINISHING_EVENTS = {
    "TaskCompleted": "task.completed",
    "TaskExpired": "task.expired",
    "TaskCancelled": "task.cancelled",
}
"""The escrow events that end a task, and the callback's ``event`` name for each."""

STATUS_OF = {
    "task.completed": "completed",
    "task.expired": "expired",
    "task.cancelled": "cancelled",
}
"""The status each event leaves the task in (the API's status names)."""


def callback_body(
    event: str,
    *,
    task_id: int,
    creator: str | None,
    block_number: int,
    transaction_hash: str,
    task: dict[str, Any] | None,
) -> str:
    """The JSON body of a callback: ``event`` is a :data:`FINISHING_EVENTS` value; ``task`` is
    the API's ``GET /api/v1/tasks/{id}`` answer when the event was seen (None if the API no
    longer knew the task, e.g. after a reorg). Compact, keys in a fixed order."""
    return json.dumps(
        {
            "event": event,
            "task_id": task_id,
            "creator": creator,
            "status": STATUS_OF[event],
            "block_number": block_number,
            "transaction_hash": transaction_hash,
            "task": task,
        },
        separators=(",", ":"),
    )
