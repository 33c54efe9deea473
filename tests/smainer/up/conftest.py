"""Finding the processes of a run: every part carries the run folder in its environment."""

from __future__ import annotations

from pathlib import Path

from smainer.up import RUN_MARKER


def processes_of(run_dir: Path) -> list[int]:
    """Live processes (not zombies) whose environment names ``run_dir`` as their run."""
    marker = f"{RUN_MARKER}={run_dir.resolve()}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environ.split(b"\0") and state != "Z":
            found.append(int(proc.name))
    return found
