"""The devnet's chain: genesis, the v3 transaction flow, fees, blocks, history, reorgs, time, dumps.

Everything runs the real engine (no mocks) and goes through the JSON-RPC handlers where a client
would, so the result shapes are exercised too. Transactions are signed by starknet-py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from starknet_py.hash.address import compute_address
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.account.account import Account
from starknet_py.net.client_models import Call, ResourceBounds, ResourceBoundsMapping
from starknet_py.net.client_utils import _create_broadcasted_txn
from starknet_py.net.signer.key_pair import KeyPair

from devnet.codec import BlockId
from devnet.compiler import compile_class
from devnet.genesis import ETH_ADDRESS, STRK_ADDRESS, UDC_ADDRESS, derive_private_key
from devnet.inprocess import in_process_client
from devnet.models import NewBlock, Reorg
from devnet.state import Notification
from smainer.artifacts import load_contract
from tests.devnet.test_node_helpers import (
    BOUNDS,
    ONE_STRK,
    PRICE,
    START_TIME,
    TRANSFER_EVENT,
    account_of,
    make_devnet,
    rpc,
    rpc_error,
    send,
    signed_invoke,
    strk_balance,
    transfer_call,
)

INITIAL = 10**21


def _state(devnet):
    """Everything a rejected tx must leave alone: storage, contracts, nonces, blocks."""
    data = devnet._chain.state
    return dict(data.storage), dict(data.contracts), dict(data.nonces), devnet.latest_block


def test_genesis_predeploys_funded_accounts():
    devnet = make_devnet(accounts=3)
    token = load_contract("Token")
    assert rpc(devnet, "starknet_blockNumber") == 0
    assert rpc(devnet, "starknet_getClassHashAt", ["latest", hex(STRK_ADDRESS)]) == hex(
        token.class_hash
    )
    assert rpc(devnet, "starknet_getClassHashAt", ["latest", hex(ETH_ADDRESS)]) == hex(
        token.class_hash
    )
    assert devnet.udc_address == UDC_ADDRESS
    accounts = rpc(devnet, "devnet_getPredeployedAccounts", {"with_balance": True})
    assert len(accounts) == 3
    for index, (entry, account) in enumerate(
        zip(accounts, devnet.predeployed_accounts, strict=True)
    ):
        # Keys derive from the seed (documented in devnet.genesis) and the address from the key.
        assert account.private_key == derive_private_key(7, index)
        assert account.public_key == KeyPair.from_private_key(account.private_key).public_key
        assert account.address == compute_address(
            class_hash=devnet.account_class_hash,
            constructor_calldata=[account.public_key],
            salt=account.public_key,
        )
        assert int(entry["address"], 16) == account.address
        assert entry["balance"]["strk"] == {"amount": str(INITIAL), "unit": "FRI"}
        assert entry["balance"]["eth"] == {"amount": str(INITIAL), "unit": "WEI"}
        assert strk_balance(devnet, account.address) == INITIAL
    block = rpc(devnet, "starknet_getStateUpdate", {"block_id": {"block_number": 0}})
    deployed = {int(item["address"], 16) for item in block["state_diff"]["deployed_contracts"]}
    assert {STRK_ADDRESS, ETH_ADDRESS, UDC_ADDRESS} <= deployed
    # Same seed, same accounts.
    assert make_devnet(accounts=3).predeployed_accounts == devnet.predeployed_accounts


def test_signed_invoke_is_mined_with_a_receipt():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    receipt = send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1234)))
    assert receipt["execution_status"] == "SUCCEEDED"
    assert receipt["finality_status"] == "ACCEPTED_ON_L2"
    assert receipt["block_number"] == 1
    assert receipt["block_hash"] == rpc(devnet, "starknet_blockHashAndNumber")["block_hash"]
    fee = int(receipt["actual_fee"]["amount"], 16)
    assert receipt["actual_fee"]["unit"] == "FRI"
    assert fee > 0
    resources = receipt["execution_resources"]
    assert fee == PRICE * (resources["l1_gas"] + resources["l1_data_gas"] + resources["l2_gas"])
    transfer, fee_transfer = receipt["events"]
    assert transfer["keys"] == [hex(TRANSFER_EVENT), hex(alice.address), hex(bob.address)]
    assert transfer["data"] == ["0x4d2", "0x0"]
    assert fee_transfer["keys"][2] == hex(devnet.sequencer_address)
    assert int(fee_transfer["data"][0], 16) == fee
    assert strk_balance(devnet, alice.address) == INITIAL - 1234 - fee
    assert strk_balance(devnet, bob.address) == INITIAL + 1234
    assert rpc(devnet, "starknet_getNonce", ["latest", hex(alice.address)]) == "0x1"
    status = rpc(devnet, "starknet_getTransactionStatus", [receipt["transaction_hash"]])
    assert status == {"finality_status": "ACCEPTED_ON_L2", "execution_status": "SUCCEEDED"}


def test_bad_signature_is_rejected_and_changes_nothing():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    before = _state(devnet)
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1), signature=[1, 2])
    error = rpc_error(devnet, "starknet_addInvokeTransaction", [wire])
    assert error.code == 55
    assert "INVALID_SIGNATURE" in error.data
    assert _state(devnet) == before
    assert rpc(devnet, "starknet_getNonce", ["pre_confirmed", hex(alice.address)]) == "0x0"


def test_wrong_nonce_is_rejected():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    before = _state(devnet)
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1), nonce=1)
    error = rpc_error(devnet, "starknet_addInvokeTransaction", [wire])
    assert error.code == 52
    assert _state(devnet) == before


def test_revert_bumps_the_nonce_and_charges_the_fee_only():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    too_much = INITIAL * 2
    receipt = send(
        devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, too_much))
    )
    assert receipt["execution_status"] == "REVERTED"
    assert "INSUFFICIENT_BALANCE" in receipt["revert_reason"]
    fee = int(receipt["actual_fee"]["amount"], 16)
    assert fee > 0
    assert [event["keys"][2] for event in receipt["events"]] == [hex(devnet.sequencer_address)]
    assert strk_balance(devnet, alice.address) == INITIAL - fee
    assert strk_balance(devnet, bob.address) == INITIAL
    assert rpc(devnet, "starknet_getNonce", ["latest", hex(alice.address)]) == "0x1"
    status = rpc(devnet, "starknet_getTransactionStatus", [receipt["transaction_hash"]])
    assert status["execution_status"] == "REVERTED"
    assert "INSUFFICIENT_BALANCE" in status["failure_reason"]


def test_balance_below_max_fee_and_low_bounds_are_rejected():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    before = _state(devnet)
    greedy = ResourceBoundsMapping(
        l1_gas=BOUNDS.l1_gas,
        l1_data_gas=BOUNDS.l1_data_gas,
        l2_gas=ResourceBounds(max_amount=10**12, max_price_per_unit=10**12),
    )
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1), bounds=greedy)
    assert rpc_error(devnet, "starknet_addInvokeTransaction", [wire]).code == 54
    cheap = ResourceBoundsMapping(
        l1_gas=BOUNDS.l1_gas,
        l1_data_gas=BOUNDS.l1_data_gas,
        l2_gas=ResourceBounds(max_amount=10**7, max_price_per_unit=PRICE - 1),
    )
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1), bounds=cheap)
    assert rpc_error(devnet, "starknet_addInvokeTransaction", [wire]).code == 53
    tiny = ResourceBoundsMapping(
        l1_gas=BOUNDS.l1_gas,
        l1_data_gas=BOUNDS.l1_data_gas,
        l2_gas=ResourceBounds(max_amount=1000, max_price_per_unit=PRICE),
    )
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1), bounds=tiny)
    assert rpc_error(devnet, "starknet_addInvokeTransaction", [wire]).code == 53
    assert _state(devnet) == before


def test_only_v3_and_no_query_versions_are_accepted():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1))
    for version in ("0x1", "0x100000000000000000000000000000003"):
        error = rpc_error(devnet, "starknet_addInvokeTransaction", [{**wire, "version": version}])
        assert error.code == 61


def test_fee_estimate_equals_the_fee_charged():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    call = transfer_call(devnet, bob.address, 10)
    wire = signed_invoke(devnet, alice, call)
    query = {**wire, "version": "0x100000000000000000000000000000003"}
    query["signature"] = signed_invoke(devnet, alice, call)["signature"]  # any: skip validate
    (estimate,) = rpc(devnet, "starknet_estimateFee", [[query], ["SKIP_VALIDATE"], "latest"])
    (validated,) = rpc(devnet, "starknet_estimateFee", [[wire], [], "pre_confirmed"])
    assert estimate["unit"] == "FRI"
    receipt = send(devnet, wire)
    assert receipt["actual_fee"]["amount"] == validated["overall_fee"]
    assert int(estimate["overall_fee"], 16) < int(validated["overall_fee"], 16)
    resources = receipt["execution_resources"]
    assert int(validated["l2_gas_consumed"], 16) == resources["l2_gas"]
    assert int(validated["l1_data_gas_consumed"], 16) == resources["l1_data_gas"]
    # Estimating changed nothing: the nonce only moved with the real transaction.
    assert rpc(devnet, "starknet_getNonce", ["latest", hex(alice.address)]) == "0x1"


def _declare(devnet, sender, artifact, compiled_class_hash: int, nonce: int) -> dict:
    """A BROADCASTED_DECLARE_TXN signed by starknet-py."""
    account = account_of(devnet, sender)
    bounds = ResourceBoundsMapping(
        l1_gas=BOUNDS.l1_gas,
        l1_data_gas=BOUNDS.l1_data_gas,
        l2_gas=ResourceBounds(max_amount=10**9, max_price_per_unit=2 * PRICE),
    )
    tx = asyncio.run(
        account.sign_declare_v3(
            json.dumps(artifact.sierra), compiled_class_hash, nonce=nonce, resource_bounds=bounds
        )
    )
    return _create_broadcasted_txn(tx)


def test_declare_checks_the_compiled_class_hash():
    devnet = make_devnet()
    alice = devnet.predeployed_accounts[0]
    escrow = load_contract("Escrow")
    wrong = rpc_error(
        devnet, "starknet_addDeclareTransaction", [_declare(devnet, alice, escrow, 0x1234, 0)]
    )
    assert wrong.code == 60
    assert rpc(devnet, "starknet_getNonce", ["latest", hex(alice.address)]) == "0x0"
    receipt = send(devnet, _declare(devnet, alice, escrow, escrow.compiled_class_hash, 0))
    assert receipt["type"] == "DECLARE"
    assert receipt["execution_status"] == "SUCCEEDED"
    sierra = rpc(devnet, "starknet_getClass", ["latest", hex(escrow.class_hash)])
    assert sierra["sierra_program"] == escrow.sierra["sierra_program"]
    update = rpc(devnet, "starknet_getStateUpdate", ["latest"])
    assert update["state_diff"]["declared_classes"] == [
        {
            "class_hash": hex(escrow.class_hash),
            "compiled_class_hash": hex(escrow.compiled_class_hash),
        }
    ]
    casm = rpc(devnet, "starknet_getCompiledCasm", [hex(escrow.class_hash)])
    assert "pythonic_hints" not in casm
    assert casm["bytecode"] == escrow.casm["bytecode"]
    # Older clients commit to the Poseidon hash of the CASM: accepted too.
    assert compile_class(escrow.class_hash, escrow.sierra).matches(
        escrow.compiled_class_hash_poseidon
    )
    account_class = load_contract("Account")  # declared at genesis
    again = _declare(devnet, alice, account_class, account_class.compiled_class_hash, 1)
    assert rpc_error(devnet, "starknet_addDeclareTransaction", [again]).code == 51


def test_deploy_account_from_a_funded_address():
    devnet = make_devnet(accounts=1)
    key = KeyPair.from_private_key(0xC0FFEE)
    address = compute_address(
        class_hash=devnet.account_class_hash,
        constructor_calldata=[key.public_key],
        salt=key.public_key,
    )
    minted = rpc(devnet, "devnet_mint", {"address": hex(address), "amount": ONE_STRK})
    assert minted["new_balance"] == str(ONE_STRK)
    account = Account(
        address=address, client=in_process_client(devnet), key_pair=key, chain=devnet.chain_id
    )
    tx = asyncio.run(
        account.sign_deploy_account_v3(
            devnet.account_class_hash,
            key.public_key,
            constructor_calldata=[key.public_key],
            resource_bounds=BOUNDS,
        )
    )
    wire = _create_broadcasted_txn(tx)
    added = rpc(devnet, "starknet_addDeployAccountTransaction", [wire])
    assert added["contract_address"] == hex(address)
    receipt = rpc(devnet, "starknet_getTransactionReceipt", [added["transaction_hash"]])
    assert receipt["type"] == "DEPLOY_ACCOUNT"
    assert receipt["contract_address"] == hex(address)
    assert receipt["execution_status"] == "SUCCEEDED"
    fee = int(receipt["actual_fee"]["amount"], 16)
    assert strk_balance(devnet, address) == ONE_STRK - fee
    assert rpc(devnet, "starknet_getClassHashAt", ["latest", hex(address)]) == hex(
        devnet.account_class_hash
    )
    assert rpc(devnet, "starknet_getNonce", ["latest", hex(address)]) == "0x1"
    assert rpc_error(devnet, "starknet_addDeployAccountTransaction", [wire]).code == 59


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
    slot = devnet._chain.storage_address("ERC20_balances", bob.address)
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


def test_dump_and_load_round_trip(tmp_path: Path):
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 5)))
    rpc(devnet, "devnet_mint", {"address": hex(bob.address), "amount": 77, "unit": "WEI"})
    path = tmp_path / "state.json"
    assert rpc(devnet, "devnet_dump", {"path": str(path)}) is None
    loaded = make_devnet()
    rpc(loaded, "devnet_load", {"path": str(path)})
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


@pytest.mark.parametrize("tag", ["latest", "l1_accepted"])
def test_latest_and_l1_accepted_name_the_last_block(tag: str):
    devnet = make_devnet(accounts=1)
    rpc(devnet, "devnet_createBlock")
    assert rpc(devnet, "starknet_getBlockWithTxHashes", [tag])["block_number"] == 1
