"""The provider's small local journal: what it has done for each task, kept across restarts.

One JSON file per node and market, rewritten whole (temp file, fsync, rename) after every
change, so a crash leaves either the old or the new journal. It records the last block scanned
for assignments and, per task, its state:

- ``assigned``: seen in a ``TaskAssigned`` event, nothing done yet;
- ``claiming``: the claim is signed; ``tx_hash``, ``nonce`` and ``result`` are recorded *before*
  the send, so a restart checks that transaction instead of sending a second claim;
- ``claimed``: the claim was accepted (final);
- ``rejected``: the payload was refused, logged once; the task is left to expire (final);
- ``lost``: the task left Assigned without our claim (expired, or not ours) (final).

Every entry carries ``at``, the local time of its last change. :meth:`Journal.prune` drops final
entries older than a cutoff, so a long-running node's journal (rewritten whole on each change)
stays small: a final entry only guards against handling its task again, and the assignment
scan has long passed that task's ``TaskAssigned`` block by then (entries are written before the
scanned block moves on, and become final only after).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

FINAL_STATES = frozenset({"claimed", "rejected", "lost"})


class Journal:
    def __init__(self, path: Path, *, start_block: int = 0) -> None:
        self.path = path
        self.data: dict[str, Any] = {"scanned_block": start_block - 1, "tasks": {}}
        if path.exists():
            self.data = json.loads(path.read_text())

    @property
    def scanned_block(self) -> int:
        return int(self.data["scanned_block"])

    def set_scanned_block(self, block: int) -> None:
        if block != self.scanned_block:
            self.data["scanned_block"] = block
            self._write()

    def get(self, task_id: int) -> dict[str, Any] | None:
        entry: dict[str, Any] | None = self.data["tasks"].get(str(task_id))
        return entry

    def state(self, task_id: int) -> str | None:
        entry = self.get(task_id)
        return None if entry is None else str(entry["state"])

    def record(self, task_id: int, state: str, **fields: Any) -> None:
        self.data["tasks"][str(task_id)] = {**fields, "state": state, "at": time.time()}
        self._write()

    def prune(self, before: float) -> list[int]:
        """Drop the final entries last changed before ``before`` (local time); their ids."""
        tasks = self.data["tasks"]
        old = [
            task_id
            for task_id, entry in tasks.items()
            if entry["state"] in FINAL_STATES and float(entry.get("at", 0)) < before
        ]
        for task_id in old:
            del tasks[task_id]
        if old:
            self._write()
        return sorted(int(task_id) for task_id in old)

    def unfinished(self) -> list[int]:
        """Tasks seen but not in a final state, oldest first."""
        return sorted(
            int(task_id)
            for task_id, entry in self.data["tasks"].items()
            if entry["state"] not in FINAL_STATES
        )

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        with os.fdopen(fd, "w") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
