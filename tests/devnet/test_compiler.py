"""Sierra -> CASM for declares (:mod:`devnet.compiler`): failures are error 56 with a short
message, and only classes whose declare went through are kept."""

from __future__ import annotations

import copy
from collections import OrderedDict

import pytest

from devnet import compiler
from devnet.errors import CompilationFailedError
from smainer.artifacts import load_contract


def test_a_class_that_does_not_compile_is_56_and_is_not_kept():
    sierra = copy.deepcopy(load_contract("UniversalDeployer").sierra)
    sierra["sierra_program"] = sierra["sierra_program"][:40]
    for attempt in (1, 2):
        before = compiler.compilations()
        with pytest.raises(CompilationFailedError) as failed:
            compiler.compile_class(0x5EED, sierra)
        assert compiler.compilations() == before + 1, attempt  # compiled again: nothing kept
        assert "backtrace" not in failed.value.data
        assert len(failed.value.data) <= compiler.MAX_ERROR_CHARS


def test_remembered_classes_are_served_without_compiling_and_the_cache_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(compiler, "_cache", OrderedDict())  # this test's own, filled with fakes
    udc = load_contract("UniversalDeployer")
    compiled = compiler.compile_class(udc.class_hash, udc.sierra)
    assert compiled.matches(udc.compiled_class_hash)
    compiler.remember(udc.class_hash, compiled)
    before = compiler.compilations()
    assert compiler.compile_class(udc.class_hash, udc.sierra) is compiled
    assert compiler.compilations() == before
    for fake_hash in range(1, compiler.CACHE_SIZE + 1):
        compiler.remember(fake_hash, compiled)
    compiler.compile_class(udc.class_hash, udc.sierra)  # pushed out by newer ones
    assert compiler.compilations() == before + 1
