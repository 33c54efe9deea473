"""The contracts build with current Cairo (2.12), the toolchain Scarb users have, not only 2.1.0.

Uses ``../shared/tools/cairo-2.12-compile`` (or the folder named by ``SMAINER_SHARED_DIR``); skips
with a message where neither exists.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from smainer.artifacts import CONTRACT_PATHS, load_contract

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SMAINER_SHARED_DIR", REPO.parent / "shared"))
COMPILER = SHARED / "tools" / "cairo-2.12-compile"

pytestmark = [
    pytest.mark.compiler,
    pytest.mark.slow,
    pytest.mark.skipif(
        not COMPILER.exists(),
        reason=f"Cairo 2.12 compiler script not found at {COMPILER} (set SMAINER_SHARED_DIR)",
    ),
]


def _selectors(sierra: dict) -> dict[str, set[str]]:
    return {
        kind: {entry["selector"] for entry in entries}
        for kind, entries in sierra["entry_points_by_type"].items()
    }


@pytest.mark.parametrize("name", sorted(CONTRACT_PATHS))
def test_contract_compiles_with_cairo_2_12(name, tmp_path):
    out = tmp_path / f"{name}.json"
    done = subprocess.run(
        [
            str(COMPILER),
            "--allow-warnings",
            str(REPO / "cairo"),
            "-c",
            CONTRACT_PATHS[name],
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"Cairo 2.12 rejected {name}:\n{done.stderr}\n{done.stdout}"
    sierra_212 = json.loads(out.read_text())
    # Same sources, same external surface: every entry point exists under both compilers.
    assert _selectors(sierra_212) == _selectors(load_contract(name).sierra)
