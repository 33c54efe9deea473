"""The sources stay in the dialect Cairo 2.1.0 accepts: the one Cairo-to-Sierra compiler with a
complete corelib that the package registries alone provide (``cairo-lang==0.12.3``'s sdist).

Every contract compiles with it and has the entry points of its committed (Cairo 2.12) artifact.
"""

from pathlib import Path

import pytest

from smainer.artifacts import CONTRACT_PATHS, load_contract
from smainer.config import get_settings
from smainer.toolchain import ensure_toolchain
from smainer.toolchain.compiler import compile_sierra
from smainer.toolchain.pins import CAIRO_2_1

REPO = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.compiler, pytest.mark.slow]


@pytest.fixture(scope="module")
def toolchain():
    return ensure_toolchain(get_settings().toolchain, compiler=CAIRO_2_1)


def _selectors(sierra: dict) -> dict[str, set[str]]:
    return {
        kind: {entry["selector"] for entry in entries}
        for kind, entries in sierra["entry_points_by_type"].items()
    }


@pytest.mark.parametrize("name", sorted(CONTRACT_PATHS))
def test_contract_compiles_with_cairo_2_1(toolchain, name):
    sierra = compile_sierra(toolchain, REPO / "cairo", CONTRACT_PATHS[name])
    assert sierra["sierra_program"][:3] == ["0x1", "0x3", "0x0"], "Cairo 2.1.0 emits Sierra 1.3.0"
    # Same sources, same external surface: every entry point exists under both compilers.
    assert _selectors(sierra) == _selectors(load_contract(name).sierra)
