"""Sierra -> CASM for declare transactions, as a sequencer does it, cached by class hash.

A declare carries Sierra only; the devnet compiles it with cairo-lang 0.14.0.1's
``starknet-sierra-compile --add-pythonic-hints`` (the engine runs the Python hints) and checks
the compiled class hash the tx committed to (spec error 60). Compiling takes seconds (all RPC
waits meanwhile) and its CASM megabytes, so the transaction flow compiles only after the cheap
checks passed (sender, nonce, fee, signature), and only a class whose declare went through is
:func:`remember`-ed: the same class is often estimated, simulated and then sent, and compiles
once, while rejected classes leave nothing behind. The cache keeps the newest
:data:`CACHE_SIZE` classes.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devnet.errors import CompilationFailedError
from smainer.class_hash import compiled_class_hash
from smainer.toolchain.compiler import compile_casm
from smainer.toolchain.errors import ToolchainError
from smainer.toolchain.fetch import sierra_compile_path

__all__ = ["CACHE_SIZE", "CompiledClass", "compilations", "compile_class", "remember"]


@dataclass(frozen=True)
class CompiledClass:
    """A declared class's CASM and its compiled class hashes."""

    casm: dict[str, Any]
    blake2s_hash: int
    """What Starknet 0.14.1+ and starknet-py 0.30 commit to."""

    @functools.cached_property
    def poseidon_hash(self) -> int:
        """What older clients (starknet-py < 0.29, cairo-lang 0.14.0.1) commit to.

        Computed only when a declare does not match the Blake2s hash: seconds for a big class.
        """
        return compiled_class_hash(self.casm, blake2s=False)

    def matches(self, committed: int) -> bool:
        """Whether a declare's ``compiled_class_hash`` is either hash of this CASM."""
        return committed == self.blake2s_hash or committed == self.poseidon_hash


CACHE_SIZE = 32
"""Classes kept compiled (a few MiB each): enough for a test suite's or a demo's contracts."""

MAX_ERROR_CHARS = 1000
"""Spec error 56 carries the compiler's message, cut to this size (the log has all of it)."""

log = logging.getLogger("devnet.chain")

_cache: OrderedDict[int, CompiledClass] = OrderedDict()
_lock = threading.Lock()
_compilations = 0


def compilations() -> int:
    """How many times this process ran the Sierra compiler (tests watch it: a rejected declare
    must not compile)."""
    return _compilations


def remember(class_hash: int, compiled: CompiledClass) -> None:
    """Keep ``compiled`` for the next declare, estimate or simulation of the same class."""
    with _lock:
        _cache[class_hash] = compiled
        _cache.move_to_end(class_hash)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def compile_class(class_hash: int, contract_class: Mapping[str, Any]) -> CompiledClass:
    """Compile a spec ``CONTRACT_CLASS`` (its ABI a JSON string) to CASM; spec error 56 if bad.

    Served from the cache when :func:`remember` kept it; a fresh compilation is not cached.
    """
    global _compilations
    with _lock:
        cached = _cache.get(class_hash)
    if cached is not None:
        return cached
    sierra: dict[str, Any] = {
        "sierra_program": list(contract_class["sierra_program"]),
        "contract_class_version": contract_class["contract_class_version"],
        "entry_points_by_type": contract_class["entry_points_by_type"],
    }
    abi = contract_class.get("abi")
    if isinstance(abi, str) and abi:
        # The ABI is informational: the compiler does without one that does not parse.
        with contextlib.suppress(ValueError):
            sierra["abi"] = json.loads(abi)
    elif isinstance(abi, list):
        sierra["abi"] = abi
    with _lock:
        _compilations += 1
    try:
        casm = compile_casm(sierra_compile_path(), sierra, f"class {class_hash:#x}")
    except ToolchainError as exc:
        log.info("declare of class %#x: %s", class_hash, exc)
        raise CompilationFailedError(_summary(str(exc))) from None
    return CompiledClass(casm=casm, blake2s_hash=compiled_class_hash(casm, blake2s=True))


def _summary(message: str) -> str:
    """The compiler's message without a Rust backtrace or its hints, at most a few lines."""
    lines: list[str] = []
    for line in message.splitlines():
        if line.startswith("stack backtrace:"):
            break
        if line.strip() and not line.startswith("note: "):
            lines.append(line)
    return "\n".join(lines)[:MAX_ERROR_CHARS]
