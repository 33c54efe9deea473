"""Unit tests of the Counter contract (cairo/counter.cairo), run in the in-process engine.

The counter is what ``scripts/bench_devnet.py`` invokes and then reads back to prove the work was
done, so ``get`` must be exactly the sum of the increases, each ``Increased`` event must carry
the value after it, and an overflowing increase must change nothing.
"""

import pytest

from smainer.artifacts import load_contract
from smainer.engine import Chain
from smainer.engine.contract import DeployedContract
from tests.cairo.helpers import ALICE, BOB, U128, assert_events, reverts


@pytest.fixture(scope="module")
def _fresh() -> tuple[Chain, DeployedContract, object]:
    chain = Chain()
    artifact = load_contract("Counter")
    chain.declare(
        artifact.class_hash,
        artifact.casm,
        artifact.sierra,
        compiled_class_hash=artifact.compiled_class_hash,
    )
    counter, _ = DeployedContract.deploy(chain, artifact.class_hash, artifact.sierra)
    return chain, counter, chain.snapshot()


@pytest.fixture
def counter(_fresh) -> DeployedContract:
    """A counter just deployed (value zero), restored from a snapshot for each test."""
    chain, counter, snapshot = _fresh
    chain.restore(snapshot)
    return counter


def test_starts_at_zero(counter):
    assert counter.call("get") == 0


def test_increase_adds_and_emits_the_new_value(counter):
    first = counter.invoke("increase", amount=5, caller=ALICE)
    assert_events(first, [(counter.address, "Increased", [ALICE], [5, 5])])
    second = counter.invoke("increase", amount=1, caller=BOB)
    assert_events(second, [(counter.address, "Increased", [BOB], [1, 6])])
    assert counter.call("get") == 6


def test_increase_by_zero_changes_nothing_but_still_emits(counter):
    counter.invoke("increase", amount=3, caller=ALICE)
    result = counter.invoke("increase", amount=0, caller=ALICE)
    assert_events(result, [(counter.address, "Increased", [ALICE], [0, 3])])
    assert counter.call("get") == 3


def test_the_value_is_the_sum_of_many_increases(counter):
    amounts = [1, 2, 3, 1000, U128 // 2]
    for amount in amounts:
        counter.invoke("increase", amount=amount, caller=ALICE)
    assert counter.call("get") == sum(amounts)


def test_overflow_reverts_and_keeps_the_value(counter):
    counter.invoke("increase", amount=U128 - 1, caller=ALICE)
    with reverts(counter.chain, "u128_add Overflow"):
        counter.invoke("increase", amount=1, caller=ALICE)
    assert counter.call("get") == U128 - 1
