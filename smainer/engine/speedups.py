"""Faster cairo-lang runs with identical results: every patch of cairo-lang internals lives here.

Results (return data, events, steps, memory holes, builtins, gas) stay identical; only Python work
that does not depend on the call is done once instead of per call. On by default;
``set_enabled(False)`` (or ``SMAINER``-side config, or ``with disabled():``) restores stock
behaviour, which is how the equivalence test and the benchmark compare the two.

Levers (see /work/shared/notes/cairo-vm-costs.md):

1. :func:`runnable_program`: build each class's ``Program`` (and its decoded hints) once per
   ``(class, entry-point builtins)`` instead of per call.
2. :func:`instruction_trace`: no per-step register trace; only proving reads it.
3. Builtin security checks (``SimpleBuiltinRunner.run_security_checks``) read offsets from one
   grouped scan of the (frozen) memory per run, instead of one full scan per builtin.
4. ``VirtualMachineBase.compile_hint``: each distinct hint source is compiled once per process.
6. ``CairoRunner.initialize_state`` / ``VirtualMachine.__init__``: the program's memory cells and
   its accessed-address set are built once per runnable program and copied into each run.
5. ``div_mod`` (VM deductions, EC builtin, signature code): ``pow(m, -1, p)`` instead of sympy's
   ``igcdex``; same result, and the same AssertionError when ``m`` is not invertible.

Patches 3-6 replace attributes of cairo-lang modules/classes once, at :func:`install`; each
patched function checks :func:`is_enabled` on every call and otherwise runs the stock code.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from collections.abc import Callable, Iterator
from typing import Any

from starkware.cairo.lang.vm import builtin_runner as _builtin_runner
from starkware.cairo.lang.vm import cairo_runner as _cairo_runner
from starkware.cairo.lang.vm import (
    virtual_machine_base as _vm_base,
)
from starkware.cairo.lang.vm import vm_core as _vm_core
from starkware.cairo.lang.vm.relocatable import RelocatableValue
from starkware.python import math_utils as _math_utils

__all__ = [
    "disabled",
    "install",
    "instruction_trace",
    "is_enabled",
    "runnable_program",
    "set_enabled",
]

_enabled = True
_programs: dict[tuple[int, tuple[str, ...]], tuple[Any, Any]] = {}


def is_enabled() -> bool:
    """Whether the speedups are active."""
    return _enabled


def set_enabled(enabled: bool) -> None:
    """Turn the speedups on or off for the whole process."""
    global _enabled
    _enabled = enabled


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run a block with stock cairo-lang behaviour, then restore the previous setting."""
    previous = _enabled
    set_enabled(False)
    try:
        yield
    finally:
        set_enabled(previous)


def runnable_program(compiled_class: Any, builtins: tuple[str, ...]) -> Any:
    """``compiled_class.get_runnable_program(builtins)``, cached per class object when enabled.

    The cache is keyed by ``id`` and holds the class too, so the id cannot be reused.
    """
    if not _enabled:
        return compiled_class.get_runnable_program(entrypoint_builtins=list(builtins))
    key = (id(compiled_class), builtins)
    cached = _programs.get(key)
    if cached is None:
        program = compiled_class.get_runnable_program(entrypoint_builtins=list(builtins))
        cached = _programs[key] = (compiled_class, program)
    return cached[1]


def instruction_trace() -> bool:
    """Whether runners should record the instruction trace (stock: always)."""
    return not _enabled


# 3. Grouped security checks.

_stock_security_checks: Callable[[Any, Any], None] = (
    _builtin_runner.SimpleBuiltinRunner.run_security_checks
)


def _offsets_by_segment(runner: Any) -> dict[int, list[Any]]:
    """One scan of the run's memory, grouped by segment; cached on the runner (memory is frozen
    by ``end_run`` before the security checks run)."""
    cached: dict[int, list[Any]] | None = getattr(runner, "_smainer_addresses_by_segment", None)
    if cached is None:
        cached = {}
        for address in runner.vm_memory:
            if isinstance(address, RelocatableValue):
                cached.setdefault(address.segment_index, []).append(address)
        runner._smainer_addresses_by_segment = cached
    return cached


class _SegmentRunnerView:
    """A runner whose ``vm_memory.keys()`` only lists one segment; everything else delegates."""

    def __init__(self, runner: Any, addresses: list[Any]) -> None:
        self._runner = runner
        self.vm_memory = _SegmentMemoryView(runner.vm_memory, addresses)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runner, name)


class _SegmentMemoryView:
    def __init__(self, memory: Any, addresses: list[Any]) -> None:
        self._memory = memory
        self._addresses = addresses

    def keys(self) -> list[Any]:
        return self._addresses

    def __getattr__(self, name: str) -> Any:
        return getattr(self._memory, name)

    def __getitem__(self, key: Any) -> Any:
        return self._memory[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._memory


def _run_security_checks(self: Any, runner: Any) -> None:
    if not _enabled:
        _stock_security_checks(self, runner)
        return
    addresses = _offsets_by_segment(runner).get(self.base.segment_index, [])
    _stock_security_checks(self, _SegmentRunnerView(runner, addresses))


# 4. Hint compilation cache.

_stock_compile_hint: Callable[..., Any] = _vm_base.VirtualMachineBase.compile_hint
_compiled_hints: dict[tuple[str, str], Any] = {}


def _compile_hint(self: Any, source: str, filename: str, hint_index: int, pc: Any) -> Any:
    if not _enabled:
        return _stock_compile_hint(self, source, filename, hint_index, pc)
    key = (source, filename)
    code = _compiled_hints.get(key)
    if code is None:
        code = _compiled_hints[key] = _stock_compile_hint(self, source, filename, hint_index, pc)
    return code


# 5. Modular division without sympy.

_stock_div_mod: Callable[[int, int, int], int] = _math_utils.div_mod


def _div_mod(n: int, m: int, p: int) -> int:
    """Nonnegative x < p with (m * x) % p == n, like the stock one."""
    if not _enabled:
        return _stock_div_mod(n, m, p)
    try:
        return (n * pow(m, -1, p)) % p
    except ValueError:
        raise AssertionError("div_mod: m is not invertible modulo p") from None


# 6. Program memory built once per program.

_stock_initialize_state: Callable[..., None] = _cairo_runner.CairoRunner.initialize_state
_stock_vm_init: Callable[..., None] = _vm_core.VirtualMachine.__init__
_program_cells: dict[tuple[int, int, int], tuple[Any, dict[Any, int], frozenset[Any]]] = {}


def _cells_for(program: Any, program_base: Any) -> tuple[dict[Any, int], frozenset[Any]] | None:
    """The program's ``{address: word}`` cells and address set at ``program_base`` (cached)."""
    if not isinstance(program_base, RelocatableValue):
        return None
    key = (id(program), program_base.segment_index, program_base.offset)
    cached = _program_cells.get(key)
    if cached is None or cached[0] is not program:
        cells = {program_base + i: word for i, word in enumerate(program.data)}
        cached = _program_cells[key] = (program, cells, frozenset(cells))
    return cached[1], cached[2]


def _initialize_state(self: Any, entrypoint: Any, stack: Any) -> None:
    cells = _cells_for(self.program, self.program_base) if _enabled else None
    data = self.memory.data
    # Bulk-load only where the stock per-cell writes could not have failed or differed:
    # the memory is not frozen and none of the program's cells is written yet.
    if cells is None or self.memory._frozen or any(addr in cells[0] for addr in data):
        _stock_initialize_state(self, entrypoint, stack)
        return
    self.initial_pc = self.program_base + self._to_pc(entrypoint)
    data.update(cells[0])
    self.load_data(self.execution_base, stack)


def _vm_init(self: Any, program: Any, run_context: Any, *args: Any, **kwargs: Any) -> None:
    _stock_vm_init(
        self, _without_data(program) if _enabled else program, run_context, *args, **kwargs
    )
    if _enabled:
        self.program = program
        base = kwargs.get("program_base")
        cells = _cells_for(program, run_context.pc if base is None else base)
        if cells is None:
            base = run_context.pc if base is None else base
            self.accessed_addresses = {base + i for i in range(len(program.data))}
        else:
            self.accessed_addresses = set(cells[1])


_short_programs: dict[int, tuple[Any, Any]] = {}


def _without_data(program: Any) -> Any:
    """A shallow copy of the program with empty ``data`` (cached), so the stock
    ``VirtualMachine.__init__`` skips building the accessed-address set but still loads hints;
    :func:`_vm_init` then puts the real program and the cached set back."""
    cached = _short_programs.get(id(program))
    if cached is None or cached[0] is not program:
        short = copy.copy(program)
        object.__setattr__(short, "data", [])
        cached = _short_programs[id(program)] = (program, short)
    return cached[1]


_installed = False


def install() -> None:
    """Apply patches 3-5 (idempotent). Called by :mod:`smainer.engine` on import."""
    global _installed
    if _installed:
        return
    _builtin_runner.SimpleBuiltinRunner.run_security_checks = _run_security_checks
    _vm_base.VirtualMachineBase.compile_hint = _compile_hint
    _cairo_runner.CairoRunner.initialize_state = _initialize_state
    _vm_core.VirtualMachine.__init__ = _vm_init
    for name, module in list(sys.modules.items()):
        if name.startswith("starkware") and getattr(module, "div_mod", None) is _stock_div_mod:
            setattr(module, "div_mod", _div_mod)  # noqa: B010
    _installed = True
