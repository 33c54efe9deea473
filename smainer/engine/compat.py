"""Make cairo-lang 0.14 importable on Python 3.11+ without editing site-packages.

cairo-lang 0.14.0.1 declares, in ``starkware/cairo/lang/instances.py``::

    cpu_instance_def: CpuInstanceDef = field(default=CpuInstanceDef())

Python 3.11 rejects unhashable (mutable) dataclass defaults, so importing anything that reaches
``instances`` (the whole VM) raises ``ValueError: mutable default ... use default_factory``.

:func:`install` puts a meta-path finder in front of the normal one. It only ever answers for that
single module, and its loader compiles the module from source with that one line rewritten to
``field(default_factory=CpuInstanceDef)``. Each ``CairoLayout`` then gets its own
``CpuInstanceDef()`` instead of a shared one, which is what upstream meant (nothing mutates it).
If the line is absent (upstream fixed it, or a different version), the module is loaded unchanged.

Call :func:`install` before the first ``starkware`` import; :mod:`smainer.engine` does so on import.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import CodeType, ModuleType

__all__ = ["PATCHED_MODULE", "install", "is_installed"]

PATCHED_MODULE = "starkware.cairo.lang.instances"
_BROKEN = "cpu_instance_def: CpuInstanceDef = field(default=CpuInstanceDef())"
_FIXED = "cpu_instance_def: CpuInstanceDef = field(default_factory=CpuInstanceDef)"


class _PatchingLoader(importlib.machinery.SourceFileLoader):
    """Source loader that applies the one-line rewrite and never reads a stale ``.pyc``."""

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        source = self.get_data(path).decode("utf-8")
        if _BROKEN in source:
            source = source.replace(_BROKEN, _FIXED, 1)
        return compile(source, path, "exec", dont_inherit=True)


class _InstancesFinder(importlib.abc.MetaPathFinder):
    """Finds :data:`PATCHED_MODULE` through the normal path finder, then swaps in our loader."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PATCHED_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            return spec
        loader = _PatchingLoader(fullname, spec.origin)
        return importlib.machinery.ModuleSpec(
            fullname, loader, origin=spec.origin, is_package=False
        )


_FINDER = _InstancesFinder()


def install() -> None:
    """Register the finder (idempotent).

    A no-op once the module is already imported: either this ran before, or upstream's module
    imported fine without it (which only happens if it no longer has the bad default).
    """
    if is_installed() or PATCHED_MODULE in sys.modules:
        return
    sys.meta_path.insert(0, _FINDER)


def is_installed() -> bool:
    """Whether :func:`install` has put the finder on ``sys.meta_path``."""
    return _FINDER in sys.meta_path
