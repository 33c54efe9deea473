"""Structured logs: one JSON line per event (a task's transition, a heartbeat, an error).

Lines go to the ``smainer.provider`` logger, so whoever runs the worker decides where they land;
``smainer provider`` prints them on stderr. Keys: ``event`` (``task.claimed``), ``task``,
``node`` and whatever the event carries; never keys or secrets.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

LOGGER = logging.getLogger("smainer.provider")


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def log_event(event: str, **fields: Any) -> None:
    line = {"ts": round(time.time(), 3), "event": event}
    line.update({k: _jsonable(v) for k, v in fields.items()})
    level = logging.WARNING if event.endswith(("rejected", "lost", "error")) else logging.INFO
    LOGGER.log(level, json.dumps(line, separators=(",", ":")))
