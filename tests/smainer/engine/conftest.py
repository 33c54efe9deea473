"""Fixtures for the engine tests: the compiled probe contract, deployed on a fresh chain.

The probe's compiled JSON is committed next to its source. To regenerate after editing
``fixtures/probe.cairo`` (Cairo 2.1.0, which ``smainer build`` fetches, and cairo-lang's Sierra
compiler with Python hints), from the repository root::

    F=tests/smainer/engine/fixtures/probe
    ~/.cache/smainer/toolchains/cairo-2.1.0/bin/starknet-compile --single-file \
$F.cairo $F.sierra.json
    $(.venv/bin/python -c "import os, starkware.starknet.compiler.v1 as m; \
print(os.path.dirname(m.__file__))")/sierra-compiler-major-1/bin/starknet-sierra-compile \
--add-pythonic-hints --allowed-libfuncs-list-name all $F.sierra.json $F.casm.json
    .venv/bin/python -c "import json, pathlib, sys; [p.write_text(json.dumps(json.loads(\
p.read_text()), separators=(',', ':')) + '\\n') for p in map(pathlib.Path, sys.argv[1:])]" \
$F.sierra.json $F.casm.json

(Each file is read before it is opened for writing: ``open(f, 'w').write(...json.load(open(f))``
would empty it first.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smainer.class_hash import sierra_class_hash
from smainer.engine import Chain, Snapshot

FIXTURES = Path(__file__).parent / "fixtures"
OWNER = 0x0A11CE
INITIAL_VALUE = 7


@dataclass(frozen=True)
class Probe:
    """The probe class and two deployed instances on a chain."""

    class_hash: int
    sierra: dict[str, Any]
    casm: dict[str, Any]
    first: int
    second: int
    owner: int = OWNER
    initial_value: int = INITIAL_VALUE


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.fixture(scope="session")
def probe_files() -> tuple[dict[str, Any], dict[str, Any]]:
    return _load("probe.sierra.json"), _load("probe.casm.json")


@pytest.fixture(scope="session")
def _base(probe_files: tuple[dict[str, Any], dict[str, Any]]) -> tuple[Chain, Snapshot, Probe]:
    sierra, casm = probe_files
    chain = Chain()
    class_hash = sierra_class_hash(sierra)
    chain.declare(class_hash, casm, sierra)
    first = chain.deploy(class_hash, [OWNER, INITIAL_VALUE]).address
    second = chain.deploy(class_hash, [OWNER, INITIAL_VALUE], salt=1).address
    probe = Probe(class_hash, sierra, casm, first, second)
    return chain, chain.snapshot(), probe


@pytest.fixture
def chain(_base: tuple[Chain, Snapshot, Probe]) -> Chain:
    """A chain with the probe declared and deployed twice, reset for every test."""
    base_chain, snapshot, _ = _base
    base_chain.restore(snapshot)
    return base_chain


@pytest.fixture
def probe(_base: tuple[Chain, Snapshot, Probe]) -> Probe:
    return _base[2]
