"""The pinned toolchain, run for real: fetch (cached), compile, write, check, diagnostics."""

import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from smainer.config import get_settings
from smainer.toolchain import (
    ArtifactMismatchError,
    CompileError,
    CompilerFetchError,
    build,
    ensure_toolchain,
)
from smainer.toolchain.fetch import install_from_archive
from smainer.toolchain.pins import COMPILER_DIR_IN_SDIST

pytestmark = pytest.mark.compiler

COUNTER = """
#[starknet::contract]
mod Counter {
    #[storage]
    struct Storage { value: felt252 }
    #[external(v0)]
    fn inc(ref self: ContractState) { self.value.write(self.value.read() + 1); }
    #[external(v0)]
    fn get(self: @ContractState) -> felt252 { self.value.read() }
}
"""
CONTRACTS = {"Counter": "demo::counter::Counter"}


@pytest.fixture(scope="module")
def toolchain():
    return ensure_toolchain(get_settings().toolchain)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    crate = tmp_path / "cairo"
    crate.mkdir()
    (crate / "cairo_project.toml").write_text('[crate_roots]\ndemo = "."\n')
    (crate / "lib.cairo").write_text("mod counter;\n")
    (crate / "counter.cairo").write_text(COUNTER)
    return tmp_path


def test_build_then_check_passes(toolchain, checkout):
    out = checkout / "artifacts"
    built = build(toolchain, checkout, out, contracts=CONTRACTS, progress=lambda _: None)
    assert {p.name for p in out.iterdir()} == {
        "Counter.sierra.json",
        "Counter.casm.json",
        "manifest.json",
    }
    assert "pythonic_hints" in built[0].casm, "cairo-lang's VM needs the Python hints"
    build(toolchain, checkout, out, contracts=CONTRACTS, check=True, progress=lambda _: None)


def test_check_fails_after_a_source_change(toolchain, checkout):
    out = checkout / "artifacts"
    build(toolchain, checkout, out, contracts=CONTRACTS, progress=lambda _: None)
    source = checkout / "cairo" / "counter.cairo"
    source.write_text(source.read_text().replace("+ 1", "+ 2"))
    with pytest.raises(ArtifactMismatchError) as err:
        build(toolchain, checkout, out, contracts=CONTRACTS, check=True, progress=lambda _: None)
    problems = "\n".join(err.value.problems)
    assert "sources changed" in problems
    assert "Counter: class_hash" in problems
    assert "Counter.sierra.json differs" in problems


def test_compile_error_shows_file_and_line(toolchain, checkout):
    source = checkout / "cairo" / "counter.cairo"
    source.write_text(source.read_text().replace("+ 1", "+ undefined_name"))
    with pytest.raises(CompileError) as err:
        build(toolchain, checkout, checkout / "out", contracts=CONTRACTS, progress=lambda _: None)
    message = str(err.value)
    assert "Identifier not found" in message
    assert "cairo/counter.cairo:7:" in message
    assert not (checkout / "out").exists(), "a failed build writes nothing"


def test_a_download_with_the_wrong_hash_is_refused(tmp_path):
    archive = tmp_path / "cairo-lang-0.12.3.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("cairo-lang-0.12.3/" + COMPILER_DIR_IN_SDIST + "bin/starknet-compile", "evil")
    target = tmp_path / "cache" / "cairo-2.1.0"
    with pytest.raises(CompilerFetchError, match="expected 651abdaa"):
        install_from_archive(archive, target)
    assert not target.exists()


def test_fetch_reports_pip_failure(tmp_path):
    settings = replace(
        get_settings().toolchain,
        cache_dir=tmp_path / "cache",
        pip_index_args=("--no-index", "--find-links", str(tmp_path)),
    )
    with pytest.raises(CompilerFetchError, match="pip could not download"):
        ensure_toolchain(settings)
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)
