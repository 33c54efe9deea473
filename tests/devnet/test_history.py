"""Values by block (:mod:`devnet.history`): reads as of any block, aborts, re-recording."""

from __future__ import annotations

from devnet.history import History
from devnet.models import StateDiff
from smainer.artifacts import load_contract
from smainer.engine import DeclaredClass


def _history() -> tuple[History, DeclaredClass]:
    token = load_contract("Token")
    declared = DeclaredClass(token.class_hash, 0x99, token.casm, token.sierra, compiled=None)
    history = History()
    history.record(0, StateDiff(storage={(1, 1): 10}, deployed={1: 0x11}), {})
    history.record(2, StateDiff(storage={(1, 1): 20, (1, 2): 5}, nonces={1: 1}), {})
    history.record(
        3,
        StateDiff(replaced={1: token.class_hash}, declared={token.class_hash: 0x99}),
        {token.class_hash: declared},
    )
    return history, declared


def test_reads_answer_what_each_block_left():
    history, declared = _history()
    assert [history.storage_at(1, 1, block) for block in range(4)] == [
        (10, 0),
        (10, 0),
        (20, 2),
        (20, 2),
    ]
    assert history.storage_at(1, 3, 3) == (0, 0)  # never written
    assert [history.nonce_at(1, block) for block in range(4)] == [0, 0, 1, 1]
    assert [history.class_hash_at(1, block) for block in (0, 2, 3)] == [
        0x11,
        0x11,
        declared.class_hash,
    ]
    assert history.declared_class(declared.class_hash, 2) is None
    assert history.declared_class(declared.class_hash, 3) is declared
    at_two = history.state_at(2)
    assert (at_two.storage, at_two.nonces, at_two.contracts, at_two.classes) == (
        {(1, 1): 20, (1, 2): 5},
        {1: 1},
        {1: 0x11},
        {},
    )


def test_truncate_forgets_the_newest_blocks_and_recording_again_replaces():
    history, declared = _history()
    block_three = StateDiff(replaced={1: declared.class_hash}, declared={declared.class_hash: 0x99})
    history.truncate(3, block_three)
    assert history.class_hash_at(1, 3) == 0x11
    assert history.declared_class(declared.class_hash, 3) is None
    history.truncate(3, block_three)  # twice: nothing more goes
    assert history.storage_at(1, 1, 3) == (20, 2)
    block_two = StateDiff(storage={(1, 1): 20, (1, 2): 5}, nonces={1: 1})
    history.record(2, block_two, {})  # the newest block again: replaced, not doubled
    history.truncate(2, block_two)
    assert history.storage_at(1, 1, 2) == (10, 0)
    assert history.nonce_at(1, 2) == 0
    assert history.state_at(5).storage == {(1, 1): 10}
