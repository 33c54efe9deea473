"""A failed request changes nothing (:mod:`devnet.rollback`): whatever breaks halfway through a
write, blocks, pre-confirmed transactions, history, nonces, balances and the clock are exactly as
before, listeners hear nothing, and the next valid request works.

Faults are injected by patching our own internals (the history, the clock's range check,
genesis) on a real devnet: a step deep inside sealing or aborting fails after earlier steps
already changed things.
"""

from __future__ import annotations

import pytest

from devnet import cheats, clock, state
from devnet.codec import BlockId
from devnet.errors import InvalidParamsError
from devnet.history import History
from devnet.models import NewBlock
from devnet.state import Notification
from tests.devnet.test_node_helpers import (
    INITIAL,
    START_TIME,
    InjectedFaultError,
    chain_state,
    fail_after,
    listened,
    make_devnet,
    rpc,
    rpc_error,
    send,
    signed_invoke,
    strk_balance,
    transfer_call,
)


def test_a_fault_while_sealing_a_transaction_changes_nothing(monkeypatch: pytest.MonkeyPatch):
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    seen = listened(devnet)
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 5))
    before = chain_state(devnet)
    with monkeypatch.context() as patch:
        # The tx executed, the block was appended and half its diff recorded: then a failure.
        fail_after(patch, History, "record")
        with pytest.raises(InjectedFaultError):
            devnet.add_transaction_json(wire)
        with pytest.raises(InjectedFaultError):
            devnet.mint(bob.address, 10)
    assert chain_state(devnet) == before
    assert seen == []
    assert rpc(devnet, "starknet_getNonce", ["pre_confirmed", hex(alice.address)]) == "0x0"
    assert strk_balance(devnet, bob.address, "pre_confirmed") == INITIAL
    # The very same transaction now goes through (it was not recorded as a duplicate).
    receipt = send(devnet, wire)
    assert (receipt["block_number"], receipt["execution_status"]) == (1, "SUCCEEDED")
    assert seen == [NewBlock(devnet.latest_block)]
    assert strk_balance(devnet, bob.address) == INITIAL + 5


def test_a_time_beyond_u64_is_refused_and_a_fault_at_such_a_time_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
):
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    before = chain_state(devnet)
    assert rpc_error(devnet, "devnet_setTime", {"time": 2**300}).code == -32602
    with pytest.raises(InvalidParamsError):
        devnet.set_time(2**64)
    with pytest.raises(InvalidParamsError):
        devnet.increase_time(2**64)
    assert chain_state(devnet) == before
    with monkeypatch.context() as patch:
        # Without the range check, 2**300 reaches the sealing code, which cannot hash it.
        patch.setattr(clock, "_check", lambda timestamp, name: None)
        with pytest.raises(Exception) as failure:  # noqa: PT011 - whatever the engine raises
            devnet.set_time(2**300)
        assert not isinstance(failure.value, InvalidParamsError)
    assert chain_state(devnet) == before
    # Later requests run at the devnet's time, not at 2**300.
    receipt = send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1)))
    block = rpc(devnet, "starknet_getBlockWithTxHashes", [{"block_number": 1}])
    assert (receipt["block_number"], block["timestamp"]) == (1, START_TIME)
    new_balance, _ = devnet.mint(bob.address, 2)
    assert new_balance == INITIAL + 1 + 2


def test_a_fault_while_aborting_blocks_changes_nothing(monkeypatch: pytest.MonkeyPatch):
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    for amount in (5, 7):
        send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, amount)))
    seen = listened(devnet)
    before = chain_state(devnet)
    with monkeypatch.context() as patch:
        # The blocks are cut and the history rewound; rebuilding the live state then fails.
        fail_after(patch, History, "state_at")
        with pytest.raises(InjectedFaultError):
            devnet.abort_blocks(BlockId(number=1))
    assert chain_state(devnet) == before
    assert seen == []
    assert strk_balance(devnet, bob.address, {"block_number": 1}) == INITIAL + 5
    assert strk_balance(devnet, bob.address, {"block_number": 2}) == INITIAL + 12
    assert len(devnet.abort_blocks(BlockId(number=2))) == 1
    assert strk_balance(devnet, bob.address) == INITIAL + 5
    assert rpc(devnet, "starknet_getNonce", ["latest", hex(alice.address)]) == "0x1"


def test_a_fault_while_mining_keeps_the_pre_confirmed_block(monkeypatch: pytest.MonkeyPatch):
    devnet = make_devnet(mine_per_tx=False)
    alice, bob = devnet.predeployed_accounts
    added = devnet.add_transaction_json(
        signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3))
    )
    before = chain_state(devnet)
    with monkeypatch.context() as patch:
        fail_after(patch, History, "record")
        for write in (devnet.create_block, lambda: devnet.increase_time(60)):
            with pytest.raises(InjectedFaultError):
                write()
            assert chain_state(devnet) == before
    assert devnet.is_pre_confirmed(added.transaction.transaction_hash)
    block = devnet.increase_time(60)
    assert block.transactions == (added.transaction.transaction_hash,)
    assert block.timestamp == START_TIME + 60


def test_a_fault_after_a_cheat_restores_prices_and_impersonation(
    monkeypatch: pytest.MonkeyPatch,
):
    devnet = make_devnet()
    alice, _ = devnet.predeployed_accounts
    prices = devnet.prices
    before = chain_state(devnet)
    with monkeypatch.context() as patch:
        # The new prices are in force and the block is mined when recording its diff fails.
        fail_after(patch, History, "record")
        with pytest.raises(InjectedFaultError):
            devnet.set_gas_price({"l2_gas_fri": 3 * prices.l2_gas_fri}, generate_block=True)
    assert devnet.prices == prices
    assert chain_state(devnet) == before
    with monkeypatch.context() as patch:
        fail_after(patch, cheats, "impersonate")
        with pytest.raises(InjectedFaultError):
            devnet.impersonate_account(alice.address)
        fail_after(patch, cheats, "set_auto_impersonate")
        with pytest.raises(InjectedFaultError):
            devnet.set_auto_impersonate(True)
    assert devnet._record.impersonated == frozenset()
    assert devnet._record.auto_impersonate is False


def test_a_fault_while_restarting_keeps_the_chain(monkeypatch: pytest.MonkeyPatch):
    devnet = make_devnet(accounts=1)
    rpc(devnet, "devnet_createBlock")
    before = chain_state(devnet)
    with monkeypatch.context() as patch:
        fail_after(patch, state, "build_genesis")
        with pytest.raises(InjectedFaultError):
            devnet.restart()
    assert chain_state(devnet) == before
    devnet.restart()
    assert rpc(devnet, "starknet_blockNumber") == 0


def test_a_failing_listener_does_not_fail_the_request(caplog: pytest.LogCaptureFixture):
    devnet = make_devnet(accounts=1)

    def broken(notification: Notification) -> None:
        raise InjectedFaultError("listener")

    devnet.add_listener(broken)
    seen = listened(devnet)
    block = devnet.create_block()
    assert seen == [NewBlock(block)]
    assert "a devnet listener failed" in caplog.text
