"""Block sealing (:mod:`devnet.sealing`): pre-confirmed transactions, mined blocks, hashes."""

from __future__ import annotations

from devnet.codec import BlockId
from devnet.models import NewBlock
from devnet.state import Notification
from tests.devnet.test_node_helpers import (
    INITIAL,
    START_TIME,
    make_devnet,
    rpc,
    signed_invoke,
    strk_balance,
    transfer_call,
)


def test_on_demand_blocks_collect_pre_confirmed_transactions():
    devnet = make_devnet(mine_per_tx=False)
    alice, bob = devnet.predeployed_accounts
    seen: list[Notification] = []
    devnet.add_listener(seen.append)
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3))
    added = rpc(devnet, "starknet_addInvokeTransaction", [wire])
    second = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 4))
    rpc(devnet, "starknet_addInvokeTransaction", [second])
    receipt = rpc(devnet, "starknet_getTransactionReceipt", [added["transaction_hash"]])
    assert receipt["finality_status"] == "PRE_CONFIRMED"
    assert "block_hash" not in receipt
    assert receipt["block_number"] == 1
    pending = rpc(devnet, "starknet_getBlockWithTxHashes", ["pre_confirmed"])
    assert len(pending["transactions"]) == 2
    assert "block_hash" not in pending
    assert strk_balance(devnet, bob.address, "pre_confirmed") == INITIAL + 7
    assert strk_balance(devnet, bob.address, "latest") == INITIAL
    assert rpc(devnet, "starknet_blockNumber") == 0
    assert seen == []
    created = rpc(devnet, "devnet_createBlock")
    assert seen == [NewBlock(devnet.latest_block)]
    assert devnet.latest_block.block_hash == int(created["block_hash"], 16)
    block = rpc(devnet, "starknet_getBlockWithTxHashes", ["latest"])
    assert block["transactions"] == pending["transactions"]
    receipt = rpc(devnet, "starknet_getTransactionReceipt", [added["transaction_hash"]])
    assert (receipt["finality_status"], receipt["block_hash"]) == (
        "ACCEPTED_ON_L2",
        created["block_hash"],
    )
    assert strk_balance(devnet, bob.address, "latest") == INITIAL + 7


def test_block_hashes_are_deterministic_and_commit_to_the_block():
    devnet, twin = make_devnet(accounts=1), make_devnet(accounts=1)
    assert devnet.latest_block == twin.latest_block  # same settings, same clock: same genesis
    first = rpc(devnet, "devnet_createBlock")
    assert rpc(twin, "devnet_createBlock") == first
    # An empty block keeps the state root and links to its parent.
    latest, genesis = devnet.latest_block, devnet.get_block(BlockId(number=0))
    assert (latest.parent_hash, latest.old_root, latest.new_root) == (
        genesis.block_hash,
        genesis.new_root,
        genesis.new_root,
    )
    # A different timestamp is a different block.
    rpc(twin, "devnet_setTime", {"time": START_TIME + 1})
    rpc(devnet, "devnet_setTime", {"time": START_TIME + 2})
    assert twin.latest_block.block_hash != devnet.latest_block.block_hash
