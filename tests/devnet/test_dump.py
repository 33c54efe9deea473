"""``devnet_dump`` / ``devnet_load`` (:mod:`devnet.dump`): the record encoded and decoded, a
dumped chain loaded exactly, and files that are not dumps refused without changing anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devnet import dump
from devnet.errors import InvalidParamsError
from devnet.models import (
    Block,
    ExecutionResources,
    GasPrices,
    Receipt,
    ResourceBound,
    ResourceBounds,
    StateDiff,
    TransactionType,
)
from smainer.engine import Event
from tests.devnet.test_node_helpers import (
    chain_state,
    make_devnet,
    rpc,
    send,
    signed_invoke,
    transfer_call,
)


@pytest.mark.parametrize(
    "record",
    [
        StateDiff(storage={(1, 2): 3}, nonces={4: 5}, deployed={6: 7}, declared={8: 9}),
        Receipt(
            transaction_hash=1,
            type=TransactionType.DECLARE,
            actual_fee=2,
            execution_resources=ExecutionResources(1, 2, 3),
            events=(Event(from_address=3, keys=[4], data=[5, 6]),),
            revert_reason="no",
        ),
        ResourceBounds(ResourceBound(1, 2), ResourceBound(3, 4), ResourceBound(5, 6)),
        Block(
            number=1,
            parent_hash=2,
            timestamp=3,
            sequencer_address=4,
            prices=GasPrices(),
            starknet_version="0.14.1",
            transactions=(5, 6),
            state_diff=StateDiff(),
            old_root=7,
            block_hash=8,
        ),
    ],
)
def test_records_survive_encode_json_decode(record: object):
    assert dump.decode(json.loads(json.dumps(dump.encode(record)))) == record


def test_dump_and_load_round_trip(tmp_path: Path):
    devnet = make_devnet(dump_dir=tmp_path)
    alice, bob = devnet.predeployed_accounts
    send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 5)))
    rpc(devnet, "devnet_mint", {"address": hex(bob.address), "amount": 77, "unit": "WEI"})
    assert rpc(devnet, "devnet_dump", {"path": "state.json"}) is None
    loaded = make_devnet(dump_dir=tmp_path)
    rpc(loaded, "devnet_load", {"path": "state.json"})
    for method, params in (
        ("starknet_getBlockWithReceipts", ["latest"]),
        ("starknet_getBlockWithTxs", [{"block_number": 1}]),
        ("starknet_getStateUpdate", [{"block_number": 0}]),
        ("starknet_getEvents", [{"chunk_size": 100}]),
        ("devnet_getPredeployedAccounts", [True]),
    ):
        assert rpc(loaded, method, params) == rpc(devnet, method, params), method
    assert loaded.dump() == json.loads(json.dumps(devnet.dump()))
    # The loaded chain goes on.
    receipt = send(loaded, signed_invoke(loaded, alice, transfer_call(loaded, bob.address, 1)))
    assert receipt["block_number"] == 3
    assert rpc(loaded, "starknet_getNonce", ["latest", hex(alice.address)]) == "0x2"


def test_a_pre_confirmed_block_is_dumped_and_loaded_too(tmp_path: Path):
    devnet = make_devnet(mine_per_tx=False)
    alice, bob = devnet.predeployed_accounts
    rpc(
        devnet,
        "starknet_addInvokeTransaction",
        [signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 3))],
    )
    path = tmp_path / "pending.json"
    devnet.dump(path)
    loaded = make_devnet(mine_per_tx=False)
    loaded.load(path)
    assert loaded.dump() == devnet.dump()
    pending = ["pre_confirmed", hex(alice.address)]
    assert rpc(loaded, "starknet_getNonce", pending) == rpc(devnet, "starknet_getNonce", pending)
    assert rpc(loaded, "devnet_createBlock") == rpc(devnet, "devnet_createBlock")


def test_a_file_that_is_not_a_dump_is_refused_and_changes_nothing(tmp_path: Path):
    devnet = make_devnet(accounts=1)
    good = devnet.dump()
    before = chain_state(devnet)
    broken_block = {**good, "blocks": [{"@": "Block", "number": "one"}]}
    for content in (
        "not json",
        "[]",
        json.dumps({"format": "something else"}),
        json.dumps({**good, "chain_id": "SN_MAIN"}),
        json.dumps({**good, "blocks": []}),
        json.dumps({**good, "classes": [{"class_hash": "0x1"}]}),
        json.dumps(broken_block),
        json.dumps({**good, "genesis": {"@": "Nope"}}),
    ):
        path = tmp_path / "bad.json"
        path.write_text(content)
        with pytest.raises(InvalidParamsError):
            devnet.load(path)
        assert chain_state(devnet) == before, content[:40]
    with pytest.raises(InvalidParamsError):
        devnet.load(tmp_path)  # a folder: unreadable as a file
    with pytest.raises(InvalidParamsError):
        devnet.dump(tmp_path / "no such folder" / "state.json")
    assert chain_state(devnet) == before
