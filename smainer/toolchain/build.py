"""``smainer build``: compile ``cairo/`` into the committed artifacts, or check that they match.

The artifacts are committed so users and CI run contracts without any compiler; ``--check``
recompiles from scratch and compares, so a source change without a rebuild cannot land unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smainer import artifacts
from smainer.class_hash import compiled_class_hash, sierra_class_hash
from smainer.toolchain import pins
from smainer.toolchain.compiler import compile_casm, compile_sierra
from smainer.toolchain.errors import ArtifactMismatchError, ToolchainError
from smainer.toolchain.fetch import Toolchain

Progress = Callable[[str], None]

SOURCE_PATTERNS = ("*.cairo", "cairo_project.toml")


@dataclass(frozen=True)
class BuiltContract:
    """One contract compiled in memory, before it is written or compared."""

    name: str
    cairo_path: str
    sierra: dict[str, Any]
    casm: dict[str, Any]

    def manifest_entry(self) -> dict[str, str]:
        return {
            "cairo_path": self.cairo_path,
            "sierra": f"{self.name}.sierra.json",
            "casm": f"{self.name}.casm.json",
            "class_hash": hex(sierra_class_hash(self.sierra)),
            "compiled_class_hash": hex(compiled_class_hash(self.casm)),
            "compiled_class_hash_poseidon": hex(compiled_class_hash(self.casm, blake2s=False)),
        }


def find_source_root(start: Path) -> Path:
    """The checkout holding ``cairo/cairo_project.toml``, searched from ``start`` upwards."""
    for candidate in (start, *start.parents):
        if (candidate / "cairo" / "cairo_project.toml").exists():
            return candidate
    raise ToolchainError(
        f"no cairo/cairo_project.toml in {start} or above: run from a Smainer checkout"
    )


def source_digest(crate_dir: Path) -> str:
    """sha256 over every Cairo source and the project file, names included."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in SOURCE_PATTERNS for p in crate_dir.rglob(pattern)})
    for path in files:
        digest.update(path.relative_to(crate_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def compile_all(
    toolchain: Toolchain,
    crate_dir: Path,
    contracts: Mapping[str, str],
    progress: Progress,
) -> list[BuiltContract]:
    built = []
    for name, cairo_path in contracts.items():
        progress(f"compiling {cairo_path} (Cairo {pins.CAIRO_VERSION} -> Sierra -> CASM)")
        sierra = compile_sierra(toolchain, crate_dir, cairo_path)
        casm = compile_casm(toolchain.sierra_compile, sierra, name)
        built.append(BuiltContract(name=name, cairo_path=cairo_path, sierra=sierra, casm=casm))
    return built


def _manifest(built: list[BuiltContract], digest: str) -> dict[str, Any]:
    return {
        "cairo_version": pins.CAIRO_VERSION,
        "compiler_sdist": pins.COMPILER_SDIST,
        "compiler_sdist_sha256": pins.COMPILER_SDIST_SHA256,
        "casm_compiler": "starknet-sierra-compile of cairo-lang==0.14.0.1 --add-pythonic-hints",
        "source_digest": digest,
        "contracts": {b.name: b.manifest_entry() for b in built},
    }


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def write_artifacts(built: list[BuiltContract], digest: str, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for b in built:
        (out_dir / f"{b.name}.sierra.json").write_text(_dump(b.sierra))
        (out_dir / f"{b.name}.casm.json").write_text(_dump(b.casm))
    (out_dir / artifacts.MANIFEST_FILE).write_text(_dump(_manifest(built, digest)))


def compare_artifacts(built: list[BuiltContract], digest: str, out_dir: Path) -> list[str]:
    """What differs between a fresh build and the committed artifacts (empty when all match)."""
    manifest_path = out_dir / artifacts.MANIFEST_FILE
    if not manifest_path.exists():
        return [f"{manifest_path} is missing"]
    committed = json.loads(manifest_path.read_text())
    problems = []
    if committed.get("source_digest") != digest:
        problems.append("the Cairo sources changed since the artifacts were built")
    expected = _manifest(built, digest)
    names = set(expected["contracts"]) | set(committed.get("contracts", {}))
    for name in sorted(names):
        want = expected["contracts"].get(name)
        have = committed.get("contracts", {}).get(name)
        if want is None or have is None:
            problems.append(f"{name}: {'not built from sources' if want is None else 'missing'}")
            continue
        for key in ("class_hash", "compiled_class_hash", "compiled_class_hash_poseidon"):
            if want[key] != have.get(key):
                problems.append(f"{name}: {key} is {have.get(key)}, sources give {want[key]}")
        for kind in ("sierra", "casm"):
            path = out_dir / want[kind]
            fresh = _dump(getattr(next(b for b in built if b.name == name), kind))
            if not path.exists() or path.read_text() != fresh:
                problems.append(f"{name}: {path.name} differs from a fresh build")
    return problems


def build(
    toolchain: Toolchain,
    source_root: Path,
    out_dir: Path,
    *,
    check: bool = False,
    contracts: Mapping[str, str] = artifacts.CONTRACT_PATHS,
    progress: Progress = print,
) -> list[BuiltContract]:
    """Compile every contract; write the artifacts, or with ``check`` raise on any mismatch."""
    crate_dir = source_root / "cairo"
    digest = source_digest(crate_dir)
    built = compile_all(toolchain, crate_dir, contracts, progress)
    if check:
        problems = compare_artifacts(built, digest, out_dir)
        if problems:
            raise ArtifactMismatchError(problems)
        progress(f"{len(built)} artifacts in {out_dir} match their sources")
    else:
        write_artifacts(built, digest, out_dir)
        progress(f"wrote {len(built)} contracts to {out_dir}")
    return built
