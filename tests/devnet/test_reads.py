"""Reads at any block (:mod:`devnet.reads`): past blocks see their state, tags name blocks."""

from __future__ import annotations

import pytest

from devnet.genesis import STRK_ADDRESS
from devnet.transactions import balance_slot
from tests.devnet.test_node_helpers import (
    INITIAL,
    make_devnet,
    rpc,
    rpc_error,
    send,
    signed_invoke,
    strk_balance,
    transfer_call,
)


def test_reads_at_past_blocks_see_that_blocks_state():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    first = send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 5)))
    second = send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 7)))
    assert (first["block_number"], second["block_number"]) == (1, 2)
    assert strk_balance(devnet, bob.address, {"block_number": 0}) == INITIAL
    assert strk_balance(devnet, bob.address, {"block_number": 1}) == INITIAL + 5
    assert strk_balance(devnet, bob.address, {"block_hash": second["block_hash"]}) == INITIAL + 12
    nonces = [
        rpc(devnet, "starknet_getNonce", [{"block_number": n}, hex(alice.address)])
        for n in range(3)
    ]
    assert nonces == ["0x0", "0x1", "0x2"]
    slot = balance_slot(bob.address)
    stored = rpc(
        devnet,
        "starknet_getStorageAt",
        [hex(STRK_ADDRESS), hex(slot), {"block_number": 1}, ["INCLUDE_LAST_UPDATE_BLOCK"]],
    )
    assert stored == {"value": hex(INITIAL + 5), "last_update_block": 1}
    assert rpc(devnet, "starknet_getStorageAt", [hex(STRK_ADDRESS), hex(slot), "latest"]) == hex(
        INITIAL + 12
    )
    assert (
        rpc_error(devnet, "starknet_getNonce", [{"block_number": 3}, hex(alice.address)]).code == 24
    )
    assert rpc_error(devnet, "starknet_getNonce", ["latest", "0x1234"]).code == 20


@pytest.mark.parametrize("tag", ["latest", "l1_accepted"])
def test_latest_and_l1_accepted_name_the_last_block(tag: str):
    devnet = make_devnet(accounts=1)
    rpc(devnet, "devnet_createBlock")
    assert rpc(devnet, "starknet_getBlockWithTxHashes", [tag])["block_number"] == 1
