"""Block sealing (:mod:`devnet.sealing`): pre-confirmed transactions, mined blocks, hashes,
lite mode."""

from __future__ import annotations

import pytest

from devnet.codec import BlockId
from devnet.models import NewBlock, TransactionReceived
from devnet.state import Devnet, Notification
from smainer.cli import build_parser
from smainer.config import DevnetSettings, get_settings
from tests.devnet.spec import Spec
from tests.devnet.test_node_helpers import (
    INITIAL,
    START_TIME,
    Clock,
    make_devnet,
    rpc,
    send,
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
    queued = rpc(devnet, "starknet_addInvokeTransaction", [second])
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
    received = [TransactionReceived(int(tx["transaction_hash"], 16), 1) for tx in (added, queued)]
    assert seen == received  # each waiting transaction is told, no block yet
    created = rpc(devnet, "devnet_createBlock")
    assert seen == [*received, NewBlock(devnet.latest_block)]
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


def test_lite_mode_numbers_blocks_instead_of_hashing_them(spec: Spec):
    lite = Devnet(DevnetSettings(accounts=2, seed=7, lite_mode=True), clock=Clock())
    full = make_devnet()
    receipts = []
    for devnet in (lite, full):
        alice, bob = devnet.predeployed_accounts
        receipts.append(
            send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3)))
        )
    lite_receipt, full_receipt = receipts
    # Transactions run exactly as without lite mode; only the block's hash differs.
    assert {**lite_receipt, "block_hash": None} == {**full_receipt, "block_hash": None}
    assert lite_receipt["block_hash"] == "0x1"
    assert strk_balance(lite, lite.predeployed_accounts[1].address) == INITIAL + 3
    genesis = rpc(lite, "starknet_getBlockWithTxHashes", [{"block_number": 0}])
    latest = rpc(lite, "starknet_getBlockWithTxHashes", ["latest"])
    spec.validate_result("starknet_getBlockWithTxHashes", latest)
    assert (genesis["block_hash"], latest["block_hash"], latest["parent_hash"]) == (
        "0x0",
        "0x1",
        "0x0",
    )
    assert rpc(lite, "starknet_getBlockWithTxHashes", [{"block_hash": "0x1"}]) == latest
    commitments = (
        "transaction_commitment",
        "event_commitment",
        "receipt_commitment",
        "state_diff_commitment",
        "new_root",
    )
    assert {latest[name] for name in commitments} == {"0x0"}
    hashed = rpc(full, "starknet_getBlockWithTxHashes", ["latest"])
    assert "0x0" not in {hashed[name] for name in commitments}
    assert latest["event_count"] == hashed["event_count"] == len(full_receipt["events"])
    assert rpc(lite, "devnet_createBlock") == {"block_hash": "0x2"}
    # An aborted number is hashed the same when mined again.
    assert rpc(lite, "devnet_abortBlocks", [{"block_number": 2}]) == {"aborted": ["0x2"]}
    assert rpc(lite, "devnet_createBlock") == {"block_hash": "0x2"}
    assert rpc(lite, "devnet_getConfig")["lite_mode"] is True
    assert rpc(lite, "devnet_getStatus")["lite_mode"] is True
    assert rpc(full, "devnet_getConfig")["lite_mode"] is False


def test_lite_mode_from_the_cli_and_the_environment(monkeypatch: pytest.MonkeyPatch):
    assert build_parser().parse_args(["devnet", "--lite-mode"]).lite_mode is True
    assert build_parser().parse_args(["devnet"]).lite_mode is False
    get_settings.cache_clear()
    monkeypatch.setenv("SMAINER_DEVNET_LITE_MODE", "1")
    try:
        assert get_settings().devnet.lite_mode is True
    finally:
        get_settings.cache_clear()
