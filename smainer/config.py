"""Typed settings, read once from ``SMAINER_*`` environment variables.

This is the only module that reads ``os.environ``: every other part takes a settings object,
so a test or a caller can build one by hand and nothing depends on hidden global state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "smainer"


@dataclass(frozen=True)
class ToolchainSettings:
    """Where the pinned Cairo compiler lives once fetched."""

    cache_dir: Path = field(default_factory=_default_cache_dir)
    """Downloaded compilers are kept here, outside the repository (``SMAINER_CACHE_DIR``)."""

    pip_index_args: tuple[str, ...] = ()
    """Extra ``pip download`` arguments, e.g. a mirror (``SMAINER_PIP_ARGS``, space separated)."""


@dataclass(frozen=True)
class Settings:
    """All of Smainer's settings, grouped by the part that uses them."""

    toolchain: ToolchainSettings = field(default_factory=ToolchainSettings)


@cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings(
        toolchain=ToolchainSettings(
            cache_dir=_env_path("SMAINER_CACHE_DIR", _default_cache_dir()),
            pip_index_args=tuple(os.environ.get("SMAINER_PIP_ARGS", "").split()),
        )
    )
