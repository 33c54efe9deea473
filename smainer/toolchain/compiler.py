"""Run the pinned compilers: Cairo sources to Sierra, Sierra to CASM.

Both run as subprocesses. Their diagnostics already name the file, line and column of each
problem; only the paths are made openable from the user's working directory, and warnings are
left out of a failure's message so the errors that caused it stand out.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smainer.toolchain.errors import CompileError
from smainer.toolchain.fetch import Toolchain

JsonDict = dict[str, Any]

_LOCATION = re.compile(r"^(\s*--> )(.+)$", re.MULTILINE)
_BLOCKS = re.compile(r"\n\s*\n")


def _errors_only(diagnostics: str) -> str:
    """The diagnostics without warnings (the 2.1 dialect draws dozens from Cairo 2.12) and
    without the backtrace ``RUST_BACKTRACE`` adds; all of them if nothing else is left."""
    blocks = [b for b in _BLOCKS.split(diagnostics.strip()) if b.strip()]
    kept = [b for b in blocks if not b.lstrip().startswith(("warning:", "Stack backtrace:"))]
    if not kept:
        return diagnostics
    hidden = sum(b.lstrip().startswith("warning:") for b in blocks)
    note = [f"({hidden} warning{'s' if hidden != 1 else ''} not shown)"] if hidden else []
    return "\n\n".join(kept + note)


def _run(
    cmd: list[str],
    what: str,
    *,
    cwd: Path | None = None,
    locate: Callable[[str], str] | None = None,
) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd)
    if done.returncode != 0:
        diagnostics = "\n".join(s for s in (done.stderr, done.stdout) if s.strip())
        if locate is not None:
            diagnostics = _LOCATION.sub(lambda m: m.group(1) + locate(m.group(2)), diagnostics)
        raise CompileError(what, _errors_only(diagnostics))


def _locator(crate_dir: Path, corelib_link: Path, corelib: Path | None) -> Callable[[str], str]:
    """Rewrites a diagnostic's path so it opens from the user's working directory.

    Cairo 2.1 names crate files relative to the crate root, Cairo 2.12 absolutely; corelib files
    appear under the link the compiler found them through.
    """
    shown = os.path.relpath(crate_dir)
    replacements = [(f"{crate_dir.resolve()}/", f"{shown}/")]
    if corelib is not None:
        replacements.append((f"{corelib_link}/", f"{corelib}/"))

    def locate(path: str) -> str:
        if not path.startswith("/"):
            return f"{shown}/{path}"
        for prefix, replacement in replacements:
            if path.startswith(prefix):
                return replacement + path[len(prefix) :]
        return path

    return locate


def compile_sierra(toolchain: Toolchain, crate_dir: Path, contract_path: str) -> JsonDict:
    """Compile one contract (``smainer::escrow::Escrow``) of the crate at ``crate_dir``."""
    with tempfile.TemporaryDirectory(prefix="smainer-build-") as tmp:
        workdir = Path(tmp).resolve()
        out = workdir / "contract.sierra.json"
        corelib_link = workdir / "corelib"
        if toolchain.corelib is not None:
            # starknet-compile takes no corelib argument; failing one beside its bin/ (which
            # fetch never unpacks for such a compiler) it uses ./corelib/src.
            corelib_link.symlink_to(toolchain.corelib, target_is_directory=True)
        _run(
            [
                str(toolchain.starknet_compile),
                *toolchain.compiler.extra_args,
                str(crate_dir.resolve()),
                "-c",
                contract_path,
                str(out),
            ],
            f"starknet-compile of {contract_path}",
            cwd=workdir,
            locate=_locator(crate_dir, corelib_link, toolchain.corelib),
        )
        sierra: JsonDict = json.loads(out.read_text())
    return sierra


def compile_casm(sierra_compile: Path, sierra: JsonDict, name: str) -> JsonDict:
    """Compile Sierra to CASM with the Python hints that cairo-lang's VM needs to run it.

    ``sierra_compile`` is the ``starknet-sierra-compile`` binary (``Toolchain.sierra_compile``,
    or ``fetch.sierra_compile_path()`` where no Cairo-to-Sierra compiler is needed, as in the
    devnet's declare). The default (audited) libfunc list applies, the one Starknet itself
    enforces on declare.
    """
    with tempfile.TemporaryDirectory(prefix="smainer-build-") as tmp:
        src = Path(tmp) / "contract.sierra.json"
        out = Path(tmp) / "contract.casm.json"
        src.write_text(json.dumps(sierra))
        _run(
            [
                str(sierra_compile),
                "--add-pythonic-hints",
                str(src),
                str(out),
            ],
            f"starknet-sierra-compile of {name}",
        )
        casm: JsonDict = json.loads(out.read_text())
    return casm
