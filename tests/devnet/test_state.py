"""``Devnet``'s listeners (:mod:`devnet.state`): ``TransactionReceived`` for a transaction left
waiting in the pre-confirmed block, in order with the blocks, and only for writes that succeeded.

Blocks and aborts alone are pinned in ``test_sealing.py``, ``test_cheats.py`` and
``test_rollback.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devnet import cheats, sealing
from devnet.codec import BlockId
from devnet.errors import DuplicateTransactionError, InvalidTransactionNonceError
from devnet.models import NewBlock, Reorg, TransactionReceived
from devnet.state import Devnet
from tests.devnet.test_node_helpers import (
    InjectedFaultError,
    chain_state,
    fail_after,
    listened,
    make_devnet,
    rpc,
    rpc_error,
    signed_invoke,
    transfer_call,
)


def test_each_waiting_transaction_is_told_before_the_block_that_mines_it() -> None:
    devnet = make_devnet(mine_per_tx=False)
    alice, bob = devnet.predeployed_accounts
    seen = listened(devnet)
    invoked = devnet.add_transaction_json(
        signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3))
    )
    _, minted = devnet.mint(bob.address, 10)
    pending = devnet.latest_block.number + 1
    received = [
        TransactionReceived(invoked.transaction.transaction_hash, pending),
        TransactionReceived(minted.transaction.transaction_hash, pending),
    ]
    assert seen == received
    block = devnet.create_block()
    assert seen == [*received, NewBlock(block)]
    assert block.transactions == tuple(r.transaction_hash for r in received)


def test_a_transaction_mined_at_once_is_told_by_its_block_only() -> None:
    """The default (no ``--block-time``): one block per transaction, as before."""
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    seen = listened(devnet)
    devnet.add_transaction_json(signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3)))
    devnet.mint(bob.address, 10)
    assert [type(note) for note in seen] == [NewBlock, NewBlock]


def test_a_rejected_transaction_tells_nothing() -> None:
    devnet = make_devnet(mine_per_tx=False)
    alice, bob = devnet.predeployed_accounts
    seen = listened(devnet)
    stale = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3), nonce=7)
    with pytest.raises(InvalidTransactionNonceError):
        devnet.add_transaction_json(stale)
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3))
    accepted = rpc(devnet, "starknet_addInvokeTransaction", [wire])
    duplicate = rpc_error(devnet, "starknet_addInvokeTransaction", [wire])
    assert isinstance(duplicate, DuplicateTransactionError)
    assert seen == [
        TransactionReceived(int(accepted["transaction_hash"], 16), devnet.latest_block.number + 1)
    ]


def _invoke(devnet: Devnet, wire: dict[str, Any], to: int) -> object:
    return devnet.add_transaction_json(wire)


def _mint(devnet: Devnet, wire: dict[str, Any], to: int) -> object:
    return devnet.mint(to, 10)


@pytest.mark.parametrize(("owner", "write"), [(sealing, _invoke), (cheats, _mint)])
def test_a_write_that_fails_after_including_its_transaction_tells_nothing(
    monkeypatch: pytest.MonkeyPatch, owner: Any, write: Callable[[Devnet, Any, int], object]
) -> None:
    devnet = make_devnet(mine_per_tx=False)
    alice, bob = devnet.predeployed_accounts
    seen = listened(devnet)
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3))
    before = chain_state(devnet)
    with monkeypatch.context() as patch:
        fail_after(patch, owner, "include")
        with pytest.raises(InjectedFaultError):
            write(devnet, wire, bob.address)
    assert chain_state(devnet) == before
    assert seen == []
    write(devnet, wire, bob.address)  # the same write then goes through, and is told
    assert [type(note) for note in seen] == [TransactionReceived]


def test_an_abort_of_waiting_transactions_tells_their_block_and_the_reorg_only() -> None:
    """``devnet_abortBlocks`` mines the pre-confirmed block first, then aborts it."""
    devnet = make_devnet(mine_per_tx=False)
    _, bob = devnet.predeployed_accounts
    _, minted = devnet.mint(bob.address, 10)
    seen = listened(devnet)
    (aborted,) = devnet.abort_blocks(BlockId(number=devnet.latest_block.number + 1))
    assert aborted.transactions == (minted.transaction.transaction_hash,)
    assert seen == [
        NewBlock(aborted),
        Reorg(aborted.number, aborted.block_hash or 0, aborted.number, aborted.block_hash or 0),
    ]
