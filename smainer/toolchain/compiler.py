"""Run the pinned compilers: Cairo sources to Sierra, Sierra to CASM.

Both run as subprocesses; their diagnostics are passed through untouched because they already
name the file, line and column of each problem.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from smainer.toolchain.errors import CompileError
from smainer.toolchain.fetch import Toolchain

JsonDict = dict[str, Any]


_LOCATION = re.compile(r"^(\s*--> )(?!/)", re.MULTILINE)


def _run(cmd: list[str], what: str, crate_dir: Path | None = None) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        diagnostics = "\n".join(s for s in (done.stderr, done.stdout) if s.strip())
        if crate_dir is not None:
            # Cairo 2.1 names files relative to the crate root; make them openable from cwd.
            shown = os.path.relpath(crate_dir)
            diagnostics = _LOCATION.sub(lambda m: f"{m.group(1)}{shown}/", diagnostics)
        raise CompileError(what, diagnostics)


def compile_sierra(toolchain: Toolchain, crate_dir: Path, contract_path: str) -> JsonDict:
    """Compile one contract (``smainer::escrow::Escrow``) of the crate at ``crate_dir``."""
    with tempfile.TemporaryDirectory(prefix="smainer-build-") as tmp:
        out = Path(tmp) / "contract.sierra.json"
        _run(
            [str(toolchain.starknet_compile), str(crate_dir), "-c", contract_path, str(out)],
            f"starknet-compile of {contract_path}",
            crate_dir,
        )
        sierra: JsonDict = json.loads(out.read_text())
    return sierra


def compile_casm(sierra_compile: Path, sierra: JsonDict, name: str) -> JsonDict:
    """Compile Sierra to CASM with the Python hints that cairo-lang's VM needs to run it.

    ``sierra_compile`` is the ``starknet-sierra-compile`` binary (``Toolchain.sierra_compile``,
    or ``fetch.sierra_compile_path()`` where the Cairo 2.1 compiler is not needed, as in the
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
