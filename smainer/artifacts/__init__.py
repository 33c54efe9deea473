"""The compiled contracts, committed so that installing and running Smainer needs no compiler.

``smainer build`` writes ``<Name>.sierra.json``, ``<Name>.casm.json`` and ``manifest.json`` here;
everything else (engine, devnet, deploy, tests) reads them through :func:`load_contract`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ARTIFACTS_DIR = Path(__file__).resolve().parent
"""Where the committed artifacts live (inside the package, so an install carries them)."""

MANIFEST_FILE = "manifest.json"

CONTRACT_PATHS: dict[str, str] = {
    "Token": "smainer::token::Token",
    "Account": "smainer::account::Account",
    "Escrow": "smainer::escrow::Escrow",
    "UniversalDeployer": "smainer::udc::UniversalDeployer",
    "Counter": "smainer::counter::Counter",
}
"""Every contract Smainer builds: artifact name -> Cairo path of its ``#[starknet::contract]``."""


class ArtifactNotFoundError(LookupError):
    """The requested contract has no committed artifact (run ``smainer build``)."""


@dataclass(frozen=True)
class ContractArtifact:
    """One compiled contract: what a declare sends and what the engine executes."""

    name: str
    cairo_path: str
    sierra: dict[str, Any]
    casm: dict[str, Any]
    class_hash: int
    compiled_class_hash: int
    """Blake2s hash of the CASM, as Starknet 0.14.1+ and starknet-py 0.30 expect on declare."""
    compiled_class_hash_poseidon: int
    """The pre-0.14.1 Poseidon hash of the same CASM (cairo-lang 0.14.0.1's own value)."""

    @property
    def abi(self) -> list[dict[str, Any]]:
        abi: list[dict[str, Any]] = self.sierra["abi"]
        return abi


def _read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@cache
def load_manifest(directory: Path = ARTIFACTS_DIR) -> dict[str, Any]:
    """The build manifest: compiler versions, source digest, hashes of each contract."""
    path = directory / MANIFEST_FILE
    if not path.exists():
        raise ArtifactNotFoundError(f"no {MANIFEST_FILE} in {directory}: run `smainer build`")
    return _read_json(path)


@cache
def load_contract(name: str, directory: Path = ARTIFACTS_DIR) -> ContractArtifact:
    """Load the committed artifact of ``name`` (one of :data:`CONTRACT_PATHS`)."""
    entry = load_manifest(directory)["contracts"].get(name)
    if entry is None:
        known = ", ".join(sorted(load_manifest(directory)["contracts"]))
        raise ArtifactNotFoundError(f"no artifact named {name!r}; known: {known}")
    return ContractArtifact(
        name=name,
        cairo_path=entry["cairo_path"],
        sierra=_read_json(directory / entry["sierra"]),
        casm=_read_json(directory / entry["casm"]),
        class_hash=int(entry["class_hash"], 16),
        compiled_class_hash=int(entry["compiled_class_hash"], 16),
        compiled_class_hash_poseidon=int(entry["compiled_class_hash_poseidon"], 16),
    )
