"""Sierra -> CASM for declare transactions, as a sequencer does it, cached by class hash.

A declare carries Sierra only; the devnet compiles it with cairo-lang 0.14.0.1's
``starknet-sierra-compile --add-pythonic-hints`` (the engine runs the Python hints) and checks
the compiled class hash the tx committed to (spec error 60). The same class is often estimated,
simulated and then sent, so each class hash is compiled once per process.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devnet.errors import CompilationFailedError
from smainer.class_hash import compiled_class_hash
from smainer.toolchain.compiler import compile_casm
from smainer.toolchain.errors import ToolchainError
from smainer.toolchain.fetch import sierra_compile_path

__all__ = ["CompiledClass", "compile_class"]


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


_cache: dict[int, CompiledClass] = {}
_lock = threading.Lock()


def compile_class(class_hash: int, contract_class: Mapping[str, Any]) -> CompiledClass:
    """Compile a spec ``CONTRACT_CLASS`` (its ABI a JSON string) to CASM; spec error 56 if bad."""
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
    try:
        casm = compile_casm(sierra_compile_path(), sierra, f"class {class_hash:#x}")
    except ToolchainError as exc:
        raise CompilationFailedError(str(exc)) from None
    compiled = CompiledClass(casm=casm, blake2s_hash=compiled_class_hash(casm, blake2s=True))
    with _lock:
        _cache[class_hash] = compiled
    return compiled
