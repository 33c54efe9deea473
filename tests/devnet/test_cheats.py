"""starknet-devnet's cheats (:mod:`devnet.cheats`, :mod:`devnet.clock`): mint, time, aborts."""

from __future__ import annotations

from typing import Any

import pytest
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.client_models import Call

from devnet.clock import MAX_TIMESTAMP, Clock
from devnet.codec import BlockId
from devnet.errors import InvalidParamsError
from devnet.genesis import STRK_ADDRESS
from devnet.models import NewBlock, Reorg
from devnet.state import Devnet, Notification
from smainer.artifacts import load_contract
from tests.devnet.test_node_helpers import (
    INITIAL,
    ONE_STRK,
    PRICE,
    START_TIME,
    TRANSFER_EVENT,
    chain_state,
    make_devnet,
    rpc,
    rpc_error,
    send,
    signed_invoke,
    strk_balance,
    transfer_call,
)


def test_the_clock_flows_from_a_set_time_and_pins_the_next_block():
    wall = [1000.0]
    clock = Clock(lambda: wall[0])
    clock.set(5000)
    assert (clock.now(), clock.next_block_time()) == (5000, 5000)
    wall[0] += 10
    assert (clock.now(), clock.next_block_time()) == (5010, 5000)
    clock.advance(100)
    assert (clock.now(), clock.next_block_time()) == (5110, 5100)
    clock.unpin()
    assert clock.next_block_time() == 5110
    for bad in (-1, MAX_TIMESTAMP + 1, 2**300):
        with pytest.raises(InvalidParamsError):
            clock.set(bad)
    with pytest.raises(InvalidParamsError):
        clock.advance(-1)
    with pytest.raises(InvalidParamsError):
        clock.advance(MAX_TIMESTAMP)
    assert clock.now() == 5110  # refused changes changed nothing


def test_abort_blocks_rolls_back_and_renumbers():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    seen: list[Notification] = []
    devnet.add_listener(seen.append)
    first = send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 5)))
    second = send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 7)))
    assert [type(event) for event in seen] == [NewBlock, NewBlock]
    aborted = rpc(devnet, "devnet_abortBlocks", {"starting_block_id": {"block_number": 1}})
    assert aborted == {"aborted": [first["block_hash"], second["block_hash"]]}
    assert seen[-1] == Reorg(
        starting_block_number=1,
        starting_block_hash=int(first["block_hash"], 16),
        ending_block_number=2,
        ending_block_hash=int(second["block_hash"], 16),
    )
    assert rpc(devnet, "starknet_blockNumber") == 0
    for receipt in (first, second):
        error = rpc_error(devnet, "starknet_getTransactionStatus", [receipt["transaction_hash"]])
        assert error.code == 29
    assert (
        rpc_error(
            devnet, "starknet_getBlockWithTxHashes", [{"block_hash": first["block_hash"]}]
        ).code
        == 24
    )
    assert strk_balance(devnet, bob.address) == INITIAL
    assert strk_balance(devnet, alice.address) == INITIAL
    assert rpc(devnet, "starknet_getNonce", ["latest", hex(alice.address)]) == "0x0"
    # The chain goes on from block 1 again, with the aborted nonce free to reuse.
    again = send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 9)))
    assert again["block_number"] == 1
    assert again["block_hash"] != first["block_hash"]
    assert strk_balance(devnet, bob.address) == INITIAL + 9
    assert rpc_error(devnet, "devnet_abortBlocks", [{"block_number": 0}]).code == -32602


def test_time_is_what_contracts_see():
    devnet = make_devnet()
    alice = devnet.predeployed_accounts[0]
    escrow = load_contract("Escrow")
    address = devnet.predeploy(
        escrow.class_hash,
        [alice.address, STRK_ADDRESS, alice.address, alice.address, alice.address, 9300, 200, 500],
        sierra=escrow.sierra,
        casm=escrow.casm,
        compiled_class_hash=escrow.compiled_class_hash,
    )

    def node_times() -> tuple[int, int]:
        node = rpc(
            devnet,
            "starknet_call",
            [
                {
                    "contract_address": hex(address),
                    "entry_point_selector": hex(get_selector_from_name("get_node")),
                    "calldata": [hex(alice.address)],
                },
                "latest",
            ],
        )
        return int(node[5], 16), int(node[6], 16)  # registered_at, last_heartbeat

    later = START_TIME + 86_400
    assert rpc(devnet, "devnet_setTime", {"time": later, "generate_block": False}) == {
        "block_timestamp": later
    }
    register = Call(address, get_selector_from_name("register_node"), [1, 0, 2, 4])
    receipt = send(devnet, signed_invoke(devnet, alice, register))
    assert receipt["execution_status"] == "SUCCEEDED", receipt.get("revert_reason")
    assert node_times() == (later, 0)
    assert rpc(devnet, "starknet_getBlockWithTxHashes", ["latest"])["timestamp"] == later
    increased = rpc(devnet, "devnet_increaseTime", {"time": 3600})
    assert increased["timestamp_increased_by"] == 3600
    assert rpc(devnet, "starknet_getBlockWithTxHashes", ["latest"])["timestamp"] == later + 3600
    heartbeat = Call(address, get_selector_from_name("heartbeat"), [])
    send(devnet, signed_invoke(devnet, alice, heartbeat))
    assert node_times() == (later, later + 3600)
    generated = rpc(devnet, "devnet_setTime", {"time": START_TIME})
    block = rpc(devnet, "starknet_getBlockWithTxHashes", ["latest"])
    assert (block["timestamp"], block["block_hash"]) == (START_TIME, generated["block_hash"])


def test_mint_is_a_transaction():
    devnet = make_devnet(accounts=1)
    target = 0xABCDEF
    minted = rpc(devnet, "devnet_mint", {"address": hex(target), "amount": 5 * ONE_STRK})
    assert minted["unit"] == "FRI"
    assert minted["new_balance"] == str(5 * ONE_STRK)
    receipt = rpc(devnet, "starknet_getTransactionReceipt", [minted["tx_hash"]])
    assert receipt["execution_status"] == "SUCCEEDED"
    (transfer,) = receipt["events"]
    assert transfer["keys"] == [hex(TRANSFER_EVENT), "0x0", hex(target)]
    again = rpc(devnet, "devnet_mint", [hex(target), 1.9e1, "FRI"])
    assert again["new_balance"] == str(5 * ONE_STRK + 19)
    assert again["tx_hash"] != minted["tx_hash"]
    assert rpc(devnet, "devnet_getAccountBalance", {"address": hex(target)}) == {
        "amount": str(5 * ONE_STRK + 19),
        "unit": "FRI",
    }
    wei = rpc(devnet, "devnet_mint", {"address": hex(target), "amount": 3, "unit": "WEI"})
    assert wei == {"new_balance": "3", "unit": "WEI", "tx_hash": wei["tx_hash"]}
    assert devnet.balance(target, "WEI", BlockId(tag="latest")) == 3


def _header_prices(devnet: Devnet, block_id: Any) -> dict[str, int]:
    header = rpc(devnet, "starknet_getBlockWithTxHashes", [block_id])
    return {
        f"{name}_{unit}": int(header[name][f"price_in_{unit}"], 16)
        for name in ("l1_gas_price", "l1_data_gas_price", "l2_gas_price")
        for unit in ("fri", "wei")
    }


def test_set_gas_price_prices_the_next_block_and_estimates():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1))

    def estimate() -> dict[str, Any]:
        (found,) = rpc(devnet, "starknet_estimateFee", [[wire], [], "pre_confirmed"])
        return dict(found)

    before = estimate()
    assert int(before["l2_gas_price"], 16) == PRICE
    answer = rpc(
        devnet,
        "devnet_setGasPrice",
        {"l2_gas_price_fri": 2 * PRICE, "data_gas_price_fri": 3, "gas_price_wei": 7},
    )
    assert answer == {
        "gas_price_wei": 7,
        "data_gas_price_wei": PRICE,
        "gas_price_fri": PRICE,
        "data_gas_price_fri": 3,
        "l2_gas_price_wei": PRICE,
        "l2_gas_price_fri": 2 * PRICE,
    }
    config = rpc(devnet, "devnet_getConfig")
    assert {name: config[name] for name in answer} == answer
    # No block yet: the latest block keeps its prices, the block being built has the new ones.
    assert rpc(devnet, "starknet_blockNumber") == 0
    assert set(_header_prices(devnet, "latest").values()) == {PRICE}
    assert _header_prices(devnet, "pre_confirmed")["l2_gas_price_fri"] == 2 * PRICE
    after = estimate()
    assert (int(after["l2_gas_price"], 16), int(after["l1_data_gas_price"], 16)) == (2 * PRICE, 3)
    assert after["l2_gas_consumed"] == before["l2_gas_consumed"]
    assert int(after["overall_fee"], 16) == (
        int(after["l1_gas_consumed"], 16) * PRICE
        + int(after["l1_data_gas_consumed"], 16) * 3
        + int(after["l2_gas_consumed"], 16) * 2 * PRICE
    )
    receipt = send(devnet, wire)
    assert receipt["actual_fee"]["amount"] == after["overall_fee"]
    mined = _header_prices(devnet, "latest")
    assert (mined["l2_gas_price_fri"], mined["l1_data_gas_price_fri"]) == (2 * PRICE, 3)
    assert mined["l1_gas_price_wei"] == 7
    # generate_block mines at once; a price above a transaction's max price is then error 53.
    generated = rpc(
        devnet, "devnet_setGasPrice", {"l2_gas_price_fri": 2 * PRICE + 1, "generate_block": True}
    )
    assert generated["l2_gas_price_fri"] == 2 * PRICE + 1
    assert rpc(devnet, "starknet_blockNumber") == 2
    assert _header_prices(devnet, "latest")["l2_gas_price_fri"] == 2 * PRICE + 1
    late = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1))
    assert rpc_error(devnet, "starknet_addInvokeTransaction", [late]).code == 53


def test_bad_gas_prices_change_nothing():
    devnet = make_devnet(accounts=1)
    before = chain_state(devnet), rpc(devnet, "devnet_getConfig")
    for params in [
        {"gas_price_fri": 0},
        {"gas_price_fri": 2**128},
        {"l2_gas_price_fri": -1},
        {"data_gas_price_wei": "0x5"},
        {"l2_gas_price_wei": True},
        {"gas_price_wei": 1.5},
        {"gas_price": 5},
        {"gas_price_fri": 5, "generate_block": "yes"},
        {"gas_price_fri": 5, "l2_gas_price_fri": 0, "generate_block": True},
    ]:
        assert rpc_error(devnet, "devnet_setGasPrice", params).code == -32602, params
    assert (chain_state(devnet), rpc(devnet, "devnet_getConfig")) == before
