"""Which corelib the Cairo 2.12 compiler builds against, and the errors that name the setting."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from smainer.config import get_settings
from smainer.toolchain import CorelibError, CorelibNotFoundError, ensure_toolchain
from smainer.toolchain.corelib import check_corelib, default_locations, find_corelib
from smainer.toolchain.pins import CAIRO_2_12

REPO = Path(__file__).resolve().parents[3]


def _corelib(root: Path, version: str | None = CAIRO_2_12.cairo_version) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "lib.cairo").write_text("mod integer;\n")
    if version is not None:
        (root / "Scarb.toml").write_text(f'[package]\nname = "core"\nversion = "{version}"\n')
    return root


def _find(configured: Path | None, locations: list[Path], notes: list[str] | None = None) -> Path:
    return find_corelib(
        configured, CAIRO_2_12, locations, (notes if notes is not None else []).append
    )


def test_the_setting_wins_over_the_default_locations(tmp_path):
    configured = _corelib(tmp_path / "configured")
    default = _corelib(tmp_path / "default")
    assert _find(configured, [default]) == configured.resolve()
    assert _find(None, [tmp_path / "absent", default]) == default.resolve()


def test_its_src_folder_is_accepted(tmp_path):
    root = _corelib(tmp_path / "corelib")
    assert _find(root / "src", []) == root.resolve()


def test_nothing_found_names_the_setting(tmp_path):
    with pytest.raises(CorelibNotFoundError) as err:
        _find(None, [tmp_path / "shared" / "cairo-2.12-corelib" / "corelib"])
    message = str(err.value)
    assert "SMAINER_CAIRO_CORELIB is not set" in message
    assert "src/lib.cairo" in message
    assert "../shared/cairo-2.12-corelib/corelib" in message
    assert str(tmp_path / "shared") in message, "says where it looked"


def test_a_configured_folder_without_a_corelib_is_refused(tmp_path):
    settings = replace(get_settings().toolchain, corelib=tmp_path)
    with pytest.raises(
        CorelibError, match=re.escape(f"SMAINER_CAIRO_CORELIB={tmp_path} holds no")
    ) as err:
        ensure_toolchain(settings)
    assert not isinstance(err.value, CorelibNotFoundError), "a wrong setting fails tests, not skips"


@pytest.mark.parametrize("version", ["2.1.0", "2.13.0", None])
def test_a_corelib_of_another_release_is_refused(tmp_path, version):
    root = _corelib(tmp_path / "corelib", version)
    with pytest.raises(CorelibError, match="SMAINER_CAIRO_CORELIB"):
        _find(root, [])


def test_another_patch_of_the_same_release_only_warns(tmp_path):
    root = _corelib(tmp_path / "corelib", "2.12.0")
    notes: list[str] = []
    assert _find(root, [], notes) == root.resolve()
    assert notes == [
        f"corelib {root.resolve()} is Cairo 2.12.0, the compiler 2.12.0-dev.0: the Sierra may "
        "differ from the committed artifacts"
    ]


def test_default_locations_are_beside_the_checkout(tmp_path):
    locations = default_locations(tmp_path / "checkout")
    assert locations[0] == tmp_path / "shared" / "cairo-2.12-corelib" / "corelib"
    assert locations[-1] == REPO.parent / "shared" / "cairo-2.12-corelib" / "corelib"


def test_the_shared_corelib_is_the_compilers_release():
    shared = REPO.parent / "shared" / "cairo-2.12-corelib" / "corelib"
    if not shared.exists():
        pytest.skip(f"no {shared}: the ../shared folder beside the checkout is absent")
    notes: list[str] = []
    assert check_corelib(shared, CAIRO_2_12, str(shared), notes.append) == shared.resolve()
    assert notes == []
