"""What this machine offers, as ``register_node`` takes it: tier, GPU, CPU threads, RAM.

Detected from the operating system and ``jax.devices()``; every value can be overridden on the
command line. The tier is a coarse, documented class (see ``docs/provider.md``): 1, plus one for
8 or more CPU threads, one for 32 GB of RAM or more, and two for an accelerator, at most 5.
:func:`memory_bytes` is what one computation can use: the accelerator's memory when JAX has
one, else physical RAM.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

U16_MAX = 0xFFFF


@dataclass(frozen=True)
class Capabilities:
    tier: int
    gpu: bool
    cpu_threads: int
    ram_gb: int

    def felts(self) -> list[int]:
        return [self.tier, int(self.gpu), self.cpu_threads, self.ram_gb]

    def merged(self, **overrides: Any) -> Capabilities:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def default_tier(gpu: bool, cpu_threads: int, ram_gb: int) -> int:
    return min(5, 1 + (cpu_threads >= 8) + (ram_gb >= 32) + 2 * gpu)


def ram_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def ram_gb() -> int:
    return ram_bytes() // 2**30


def memory_bytes(devices: Sequence[Any] | None = None) -> int | None:
    """Memory JAX computes in: the first accelerator's limit (``memory_stats()``), else RAM;
    ``None`` when unknown (then the worker does not check it)."""
    if devices is None:
        import jax

        devices = jax.devices()
    for device in devices:
        if getattr(device, "platform", "cpu") != "cpu":
            stats = device.memory_stats() if hasattr(device, "memory_stats") else None
            limit = (stats or {}).get("bytes_limit")
            return int(limit) if limit else None
    return ram_bytes() or None


def has_accelerator(devices: Sequence[Any]) -> bool:
    return any(getattr(d, "platform", "cpu") != "cpu" for d in devices)


def detect(devices: Sequence[Any] | None = None) -> Capabilities:
    """This machine's capabilities; ``devices`` defaults to ``jax.devices()``."""
    if devices is None:
        import jax

        devices = jax.devices()
    gpu = has_accelerator(devices)
    threads = min(U16_MAX, os.cpu_count() or 1)
    ram = min(U16_MAX, ram_gb())
    return Capabilities(default_tier(gpu, threads, ram), gpu, threads, ram)
