"""``smainer build``: compile ``cairo/`` into the committed artifacts, or check that they match.

The artifacts are committed so users and CI run contracts without any compiler; ``--check``
recompiles from scratch and compares, so a source change without a rebuild cannot land unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smainer import artifacts
from smainer.class_hash import compiled_class_hash, sierra_class_hash
from smainer.toolchain import pins
from smainer.toolchain.compiler import compile_casm, compile_sierra
from smainer.toolchain.errors import ArtifactMismatchError, ToolchainError
from smainer.toolchain.fetch import Toolchain
from smainer.toolchain.pins import PinnedCompiler

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
    version = toolchain.compiler.cairo_version
    built = []
    for name, cairo_path in contracts.items():
        progress(f"compiling {cairo_path} (Cairo {version} -> Sierra -> CASM)")
        sierra = compile_sierra(toolchain, crate_dir, cairo_path)
        casm = compile_casm(toolchain.sierra_compile, sierra, name)
        built.append(BuiltContract(name=name, cairo_path=cairo_path, sierra=sierra, casm=casm))
    return built


TOOLCHAIN_KEYS = ("cairo_version", "compiler_sdist", "compiler_sdist_sha256", "casm_compiler")
"""The manifest fields that say how the artifacts were compiled."""


def _manifest(compiler: PinnedCompiler, built: list[BuiltContract], digest: str) -> dict[str, Any]:
    return {
        "cairo_version": compiler.cairo_version,
        "compiler_sdist": compiler.sdist,
        "compiler_sdist_sha256": compiler.sdist_sha256,
        "casm_compiler": pins.CASM_COMPILER,
        "source_digest": digest,
        "contracts": {b.name: b.manifest_entry() for b in built},
    }


def _committed_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / artifacts.MANIFEST_FILE
    if not path.exists():
        return None
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def _keep_unbuilt(
    manifest: dict[str, Any], committed: dict[str, Any] | None, names: Iterable[str]
) -> dict[str, Any]:
    """``manifest`` plus the committed entries of the contracts in ``names`` not built now."""
    fresh = manifest["contracts"]
    kept = (committed or {}).get("contracts", {})
    entries = {n: fresh.get(n, kept.get(n)) for n in names if n in fresh or n in kept}
    return {**manifest, "contracts": entries}


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def write_artifacts(built: list[BuiltContract], manifest: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for b in built:
        (out_dir / f"{b.name}.sierra.json").write_text(_dump(b.sierra))
        (out_dir / f"{b.name}.casm.json").write_text(_dump(b.casm))
    (out_dir / artifacts.MANIFEST_FILE).write_text(_dump(manifest))


def compare_artifacts(
    built: list[BuiltContract], manifest: dict[str, Any], out_dir: Path, *, complete: bool = True
) -> list[str]:
    """What differs between a fresh build and the committed artifacts (empty when all match).

    ``complete``: ``built`` is every contract, so a committed entry it lacks is a problem too.
    """
    committed = _committed_manifest(out_dir)
    if committed is None:
        return [f"{out_dir / artifacts.MANIFEST_FILE} is missing"]
    problems = [
        f"built with {key} {committed.get(key)}, the pinned toolchain is {manifest[key]}"
        for key in TOOLCHAIN_KEYS
        if committed.get(key) != manifest[key]
    ]
    if committed.get("source_digest") != manifest["source_digest"]:
        problems.append("the Cairo sources changed since the artifacts were built")
    names = set(manifest["contracts"])
    if complete:
        names |= set(committed.get("contracts", {}))
    for name in sorted(names):
        want = manifest["contracts"].get(name)
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


def _select(contracts: Mapping[str, str], only: Collection[str] | None) -> Mapping[str, str]:
    if only is None:
        return contracts
    unknown = sorted(set(only) - set(contracts))
    if unknown:
        raise ToolchainError(
            f"unknown contract(s) {', '.join(unknown)}; known: {', '.join(contracts)}"
        )
    return {name: path for name, path in contracts.items() if name in only}


def build(
    toolchain: Toolchain,
    source_root: Path,
    out_dir: Path,
    *,
    check: bool = False,
    contracts: Mapping[str, str] = artifacts.CONTRACT_PATHS,
    only: Collection[str] | None = None,
    progress: Progress = print,
) -> list[BuiltContract]:
    """Compile ``contracts``; write the artifacts, or with ``check`` raise on any mismatch.

    ``only`` names the contracts to compile: the manifest keeps the other entries of
    ``contracts`` as they were, and ``check`` compares only those compiled.
    """
    crate_dir = source_root / "cairo"
    digest = source_digest(crate_dir)
    built = compile_all(toolchain, crate_dir, _select(contracts, only), progress)
    manifest = _manifest(toolchain.compiler, built, digest)
    if check:
        problems = compare_artifacts(built, manifest, out_dir, complete=only is None)
        if problems:
            raise ArtifactMismatchError(problems)
        progress(f"{len(built)} artifacts in {out_dir} match their sources")
    else:
        if only is not None:
            manifest = _keep_unbuilt(manifest, _committed_manifest(out_dir), contracts)
        write_artifacts(built, manifest, out_dir)
        progress(f"wrote {len(built)} contracts to {out_dir}")
    return built
