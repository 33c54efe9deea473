"""Find the corelib that the Cairo 2.12 ``starknet-compile`` builds against.

The ``cairo-lang==0.14.0.1`` sdist carries the 2.12 compiler but not a complete corelib, and the
compiler takes no corelib argument (it looks for ``corelib/src`` beside its ``bin/``, then in its
working directory; :func:`smainer.toolchain.compiler.compile_sierra` runs it from a folder that
links the one found here). So the corelib comes from a setting, and one of another Cairo release
is refused: the compiler's libfuncs and the corelib's ``extern`` declarations must agree.

Resolution order: ``SMAINER_CAIRO_CORELIB`` when set (and then nothing else); otherwise
``shared/cairo-2.12-corelib/corelib`` beside the checkout being built, then beside the checkout
Smainer runs from.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import smainer
from smainer.toolchain.errors import CorelibError, CorelibNotFoundError
from smainer.toolchain.pins import PinnedCompiler

Progress = Callable[[str], None]

SETTING = "SMAINER_CAIRO_CORELIB"

SHARED_CORELIB = Path("shared") / "cairo-2.12-corelib" / "corelib"
"""Where ``../shared`` (beside every developer's and CI's checkout) keeps the corelib."""


def _hint(compiler: PinnedCompiler) -> str:
    return (
        f"set {SETTING} to the corelib of Cairo {compiler.cairo_version} (the folder holding "
        "src/lib.cairo): ../shared/cairo-2.12-corelib/corelib beside a Smainer checkout, or "
        "Scarb's own (the root of package `core` in `scarb metadata --format-version 1`)"
    )


def default_locations(source_root: Path | None) -> list[Path]:
    """Where an unset ``SMAINER_CAIRO_CORELIB`` lets a build look, in order."""
    checkouts = [source_root, Path(smainer.__file__).resolve().parents[1]]
    found = (c.resolve().parent / SHARED_CORELIB for c in checkouts if c is not None)
    return list(dict.fromkeys(found))


def corelib_version(root: Path) -> str | None:
    """The release the corelib's ``Scarb.toml`` declares (Scarb's and upstream's both have one)."""
    manifest = root / "Scarb.toml"
    if not manifest.is_file():
        return None
    try:
        version = tomllib.loads(manifest.read_text()).get("package", {}).get("version")
    except tomllib.TOMLDecodeError:
        return None
    return version if isinstance(version, str) else None


def check_corelib(path: Path, compiler: PinnedCompiler, origin: str, progress: Progress) -> Path:
    """The corelib root at ``path`` (its ``src`` folder is accepted too), if ``compiler`` can
    build with it: same major and minor release; another patch or pre-release only warns."""
    root = path.resolve()
    if root.name == "src" and (root / "lib.cairo").is_file():
        root = root.parent
    if not (root / "src" / "lib.cairo").is_file():
        raise CorelibError(f"{origin} holds no src/lib.cairo: {_hint(compiler)}")
    version = corelib_version(root)
    if version is None:
        raise CorelibError(
            f"{origin}: no Scarb.toml with a package version, so its Cairo release is unknown: "
            + _hint(compiler)
        )
    wanted = compiler.cairo_version
    if version.split(".")[:2] != wanted.split(".")[:2]:
        raise CorelibError(f"{origin} is the corelib of Cairo {version}: {_hint(compiler)}")
    if version != wanted:
        progress(
            f"corelib {root} is Cairo {version}, the compiler {wanted}: the Sierra may differ "
            "from the committed artifacts"
        )
    return root


def find_corelib(
    configured: Path | None,
    compiler: PinnedCompiler,
    locations: Sequence[Path],
    progress: Progress,
) -> Path:
    """The corelib root for ``compiler``: the setting, else the first of ``locations`` found."""
    if configured is not None:
        return check_corelib(configured, compiler, f"{SETTING}={configured}", progress)
    for location in locations:
        if location.exists():
            return check_corelib(location, compiler, str(location), progress)
    raise CorelibNotFoundError(
        f"no Cairo {compiler.cairo_version} corelib: {SETTING} is not set and none is at "
        f"{' or '.join(map(str, locations))}; {_hint(compiler)}"
    )
