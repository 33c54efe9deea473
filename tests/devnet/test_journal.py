"""The write journal (:mod:`devnet.journal`): diffs squash writes since a mark, rollbacks undo
them, and calls run by the engine are journaled through its ``new_overlay`` hook."""

from __future__ import annotations

import pytest

from devnet.genesis import STRK_ADDRESS, build_genesis
from devnet.journal import JournalingChain
from devnet.models import StateDiff
from devnet.transactions import balance_of
from smainer.artifacts import load_contract
from smainer.engine import ExecutionRevertedError


def test_diffs_squash_and_rollbacks_undo_raw_writes():
    chain = JournalingChain()
    chain.set_storage(1, 10, 5)
    chain.set_class_hash_at(7, 0x70)
    start = chain.mark()
    chain.set_storage(1, 10, 6)
    chain.set_storage(1, 10, 8)  # two writes, one entry in the diff: the last value
    chain.set_storage(1, 11, 3)
    chain.set_storage(1, 11, 0)  # back to what it was: left out
    chain.set_nonce(2, 1)
    chain.set_class_hash_at(3, 0x30)  # 0 -> class: deployed
    chain.set_class_hash_at(7, 0x71)  # class -> class: replaced
    udc = load_contract("UniversalDeployer")  # the smallest class
    chain.declare(udc.class_hash, udc.casm, udc.sierra, compiled_class_hash=udc.compiled_class_hash)
    assert chain.diff(start) == StateDiff(
        storage={(1, 10): 8},
        nonces={2: 1},
        deployed={3: 0x30},
        replaced={7: 0x71},
        declared={udc.class_hash: udc.compiled_class_hash},
    )
    assert chain.diff() == StateDiff(
        storage={(1, 10): 8},
        nonces={2: 1},
        deployed={3: 0x30, 7: 0x71},
        declared={udc.class_hash: udc.compiled_class_hash},
    )
    chain.rollback(start)
    assert chain.diff(start) == StateDiff()
    state = chain.state
    assert (state.storage, state.nonces, state.contracts) == ({(1, 10): 5}, {}, {7: 0x70})
    assert not chain.is_declared(udc.class_hash)


def test_forget_drops_old_entries_and_keeps_later_marks_working():
    chain = JournalingChain()
    chain.set_storage(1, 1, 1)
    block = chain.mark()
    chain.set_storage(1, 2, 2)
    expected = chain.diff(block)
    chain.forget(block)
    assert chain.mark() == 1
    assert chain.diff() == expected
    chain.rollback(0)
    assert chain.state.storage == {(1, 1): 1}  # forgotten writes stay, later ones are undone


def test_calls_are_journaled_through_the_engine_hook():
    chain = JournalingChain()
    genesis = build_genesis(chain, seed=0, accounts=2, initial_balance=1000)
    alice, bob = (account.address for account in genesis.accounts)
    start = chain.mark()
    chain.invoke(STRK_ADDRESS, "transfer", [bob, 300, 0], caller=alice)
    assert (balance_of(chain, STRK_ADDRESS, alice), balance_of(chain, STRK_ADDRESS, bob)) == (
        700,
        1300,
    )
    assert {address for address, _ in chain.diff(start).storage} == {STRK_ADDRESS}
    assert len(chain.diff(start).storage) == 2  # the two balances' low words
    reverted = chain.mark()
    with pytest.raises(ExecutionRevertedError):
        chain.invoke(STRK_ADDRESS, "transfer", [bob, 10**6, 0], caller=alice)
    assert chain.mark() == reverted  # a reverted call commits nothing, so journals nothing
    chain.rollback(start)
    assert balance_of(chain, STRK_ADDRESS, alice) == balance_of(chain, STRK_ADDRESS, bob) == 1000
