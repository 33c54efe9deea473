"""The pinned toolchain, run for real: fetch (cached), compile, write, check, diagnostics.

Builds use Cairo 2.12 with the corelib of ``SMAINER_CAIRO_CORELIB`` or ``../shared``; where
neither exists these tests skip, saying so.
"""

import json
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from smainer import artifacts, cli
from smainer.config import get_settings
from smainer.toolchain import (
    ArtifactMismatchError,
    CompileError,
    CompilerFetchError,
    CorelibNotFoundError,
    build,
    ensure_toolchain,
)
from smainer.toolchain.fetch import ensure_compiler, install_from_archive
from smainer.toolchain.pins import (
    BUILD_COMPILER,
    CAIRO_2_1,
    CAIRO_2_12,
    SIERRA_COMPILER_DIR_IN_SDIST,
)

pytestmark = pytest.mark.compiler

REPO = Path(__file__).resolve().parents[3]

COUNTER = """
#[starknet::contract]
mod Counter {
    #[storage]
    struct Storage { value: felt252, seen: LegacyMap<felt252, bool> }
    #[external(v0)]
    fn inc(ref self: ContractState) { self.value.write(self.value.read() + 1); }
    #[external(v0)]
    fn get(self: @ContractState) -> felt252 { self.value.read() }
}
"""
FLAG = """
#[starknet::contract]
mod Flag {
    #[storage]
    struct Storage { up: bool }
    #[external(v0)]
    fn raise(ref self: ContractState) { self.up.write(true); }
}
"""
CONTRACTS = {"Counter": "demo::counter::Counter"}
BOTH = {"Counter": "demo::counter::Counter", "Flag": "demo::flag::Flag"}


def _quiet(_: str) -> None:
    return None


def _sierra_version(sierra: dict) -> tuple[int, int, int]:
    major, minor, patch = (int(felt, 16) for felt in sierra["sierra_program"][:3])
    return major, minor, patch


@pytest.fixture(scope="module")
def toolchain():
    try:
        return ensure_toolchain(get_settings().toolchain, source_root=REPO)
    except CorelibNotFoundError as exc:
        pytest.skip(f"no Cairo 2.12 corelib to build with: {exc}")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    crate = tmp_path / "cairo"
    crate.mkdir()
    (crate / "cairo_project.toml").write_text('[crate_roots]\ndemo = "."\n')
    (crate / "lib.cairo").write_text("mod counter;\nmod flag;\n")
    (crate / "counter.cairo").write_text(COUNTER)
    (crate / "flag.cairo").write_text(FLAG)
    return tmp_path


def test_build_then_check_passes(toolchain, checkout):
    out = checkout / "artifacts"
    built = build(toolchain, checkout, out, contracts=CONTRACTS, progress=_quiet)
    assert {p.name for p in out.iterdir()} == {
        "Counter.sierra.json",
        "Counter.casm.json",
        "manifest.json",
    }
    assert "pythonic_hints" in built[0].casm, "cairo-lang's VM needs the Python hints"
    assert _sierra_version(built[0].sierra) >= (1, 5, 0), "Starknet refuses declares below 1.5"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["cairo_version"] == "2.12.0-dev.0"
    assert manifest["compiler_sdist"] == "cairo-lang==0.14.0.1"
    assert manifest["compiler_sdist_sha256"] == CAIRO_2_12.sdist_sha256
    build(toolchain, checkout, out, contracts=CONTRACTS, check=True, progress=_quiet)


def test_check_fails_after_a_source_change(toolchain, checkout):
    out = checkout / "artifacts"
    build(toolchain, checkout, out, contracts=CONTRACTS, progress=_quiet)
    source = checkout / "cairo" / "counter.cairo"
    source.write_text(source.read_text().replace("+ 1", "+ 2"))
    with pytest.raises(ArtifactMismatchError) as err:
        build(toolchain, checkout, out, contracts=CONTRACTS, check=True, progress=_quiet)
    problems = "\n".join(err.value.problems)
    assert "sources changed" in problems
    assert "Counter: class_hash" in problems
    assert "Counter.sierra.json differs" in problems


def test_building_one_contract_keeps_the_others(toolchain, checkout, monkeypatch, capsys):
    out = checkout / "artifacts"
    monkeypatch.setattr(cli, "CONTRACT_PATHS", BOTH)
    argv = ["build", "--source", str(checkout), "--out", str(out)]
    assert cli.main(argv) == 0
    before = json.loads((out / "manifest.json").read_text())["contracts"]
    source = checkout / "cairo" / "counter.cairo"
    source.write_text(source.read_text().replace("+ 1", "+ 2"))

    capsys.readouterr()
    assert cli.main([*argv, "--contract", "Counter"]) == 0
    printed = capsys.readouterr().out
    assert "Counter" in printed
    assert "Flag" not in printed, "only the named contract is compiled"

    after = json.loads((out / "manifest.json").read_text())["contracts"]
    assert list(after) == ["Counter", "Flag"]
    assert after["Flag"] == before["Flag"]
    assert after["Counter"]["class_hash"] != before["Counter"]["class_hash"]
    for name in BOTH:
        artifacts.load_manifest.cache_clear()
        artifacts.load_contract.cache_clear()
        assert artifacts.load_contract(name, out).class_hash == int(after[name]["class_hash"], 16)
    # Only Counter changed, so the whole set matches its sources again.
    assert cli.main([*argv, "--check"]) == 0


@pytest.fixture(scope="module")
def toolchain_2_1():
    return ensure_toolchain(get_settings().toolchain, compiler=CAIRO_2_1)


def test_compile_error_shows_file_and_line(toolchain, checkout, monkeypatch):
    source = checkout / "cairo" / "counter.cairo"
    source.write_text(source.read_text().replace("+ 1", "+ undefined_name"))
    monkeypatch.chdir(checkout)
    with pytest.raises(CompileError) as err:
        build(toolchain, checkout, checkout / "out", contracts=CONTRACTS, progress=_quiet)
    message = str(err.value)
    assert "Identifier not found" in message
    # Cairo 2.12 names files absolutely: shown relative to the user's working directory.
    assert "--> cairo/counter.cairo:7:" in message
    assert "warning:" not in message, "the LegacyMap warnings would bury the error"
    assert "(1 warning not shown)" in message
    assert not (checkout / "out").exists(), "a failed build writes nothing"


def test_cairo_2_1_compile_error_shows_file_and_line(toolchain_2_1, checkout, monkeypatch):
    source = checkout / "cairo" / "counter.cairo"
    source.write_text(source.read_text().replace("+ 1", "+ undefined_name"))
    monkeypatch.chdir(checkout.parent)
    with pytest.raises(CompileError) as err:
        build(toolchain_2_1, checkout, checkout / "out", contracts=CONTRACTS, progress=_quiet)
    # Cairo 2.1 names files relative to the crate root.
    assert f"--> {checkout.name}/cairo/counter.cairo:7:" in str(err.value)


@pytest.mark.parametrize("compiler", [CAIRO_2_12, CAIRO_2_1], ids=lambda c: c.cairo_version)
def test_a_download_with_the_wrong_hash_is_refused(tmp_path, compiler):
    archive = tmp_path / "cairo-lang.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("cairo-lang/" + SIERRA_COMPILER_DIR_IN_SDIST + "bin/starknet-compile", "evil")
    target = tmp_path / "cache" / f"cairo-{compiler.cairo_version}"
    with pytest.raises(CompilerFetchError, match=f"expected {compiler.sdist_sha256[:8]}"):
        install_from_archive(archive, target, compiler)
    assert not target.exists()


def test_fetch_reports_pip_failure(tmp_path):
    settings = replace(
        get_settings().toolchain,
        cache_dir=tmp_path / "cache",
        pip_index_args=("--no-index", "--find-links", str(tmp_path)),
    )
    with pytest.raises(CompilerFetchError, match=r"pip could not download cairo-lang==0\.14\.0\.1"):
        ensure_compiler(settings, BUILD_COMPILER)
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)
