"""The RPC surface on a real devnet: result shapes against the spec, error codes, getEvents,
simulation, and starknet-py's own FullNodeClient, Account, Deployer and DevnetClient driving it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.udc_deployer.deployer import Deployer

from devnet.errors import RpcError
from devnet.genesis import ETH_ADDRESS, STRK_ADDRESS, UDC_ADDRESS
from devnet.inprocess import in_process_client, in_process_devnet_client
from devnet.state import Devnet
from smainer.artifacts import load_contract
from tests.devnet.spec import Spec
from tests.devnet.test_node_helpers import (
    ONE_STRK,
    START_TIME,
    TRANSFER_EVENT,
    account_of,
    make_devnet,
    rpc,
    rpc_error,
    send,
    signed_invoke,
    transfer_call,
)

ALICE_TARGET = 0xA11CE
BOB_TARGET = 0xB0B


@pytest.fixture(scope="module")
def chain() -> tuple[Devnet, dict[str, Any]]:
    """A devnet with a few blocks of events: mints (blocks 1-3), a transfer (4), a revert (5)."""
    devnet = make_devnet(accounts=2)
    alice, bob = devnet.predeployed_accounts
    rpc(devnet, "devnet_mint", [hex(ALICE_TARGET), 100])
    rpc(devnet, "devnet_mint", [hex(BOB_TARGET), 200, "WEI"])
    rpc(devnet, "devnet_mint", [hex(ALICE_TARGET), 300])
    ok = send(devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 5)))
    reverted = send(
        devnet, signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 10**30))
    )
    return devnet, {"ok": ok, "reverted": reverted}


def _events(devnet: Devnet, **filter: Any) -> dict[str, Any]:
    result: dict[str, Any] = rpc(devnet, "starknet_getEvents", {"filter": filter})
    return result


def test_get_events_filters(chain, spec: Spec):
    devnet, _ = chain
    everything = _events(devnet, chunk_size=100)
    spec.validate_result("starknet_getEvents", everything)
    assert "continuation_token" not in everything
    # 3 mints, transfer + fee, fee of the reverted tx.
    assert len(everything["events"]) == 6
    assert [e["block_number"] for e in everything["events"]] == [1, 2, 3, 4, 4, 5]
    strk = _events(devnet, chunk_size=100, address=hex(STRK_ADDRESS))
    assert len(strk["events"]) == 5
    eth = _events(devnet, chunk_size=100, address=[hex(ETH_ADDRESS)])
    assert [e["keys"][2] for e in eth["events"]] == [hex(BOB_TARGET)]
    to_alice = _events(
        devnet, chunk_size=100, keys=[[hex(TRANSFER_EVENT)], [], [hex(ALICE_TARGET)]]
    )
    assert [e["data"][0] for e in to_alice["events"]] == ["0x64", "0x12c"]
    minted = _events(devnet, chunk_size=100, keys=[[], ["0x0"]])
    assert len(minted["events"]) == 3
    either = _events(devnet, chunk_size=100, keys=[[], [], [hex(ALICE_TARGET), hex(BOB_TARGET)]])
    assert len(either["events"]) == 3
    assert _events(devnet, chunk_size=100, keys=[["0x1"]])["events"] == []
    window = _events(
        devnet, chunk_size=100, from_block={"block_number": 2}, to_block={"block_number": 3}
    )
    assert [e["block_number"] for e in window["events"]] == [2, 3]
    latest = _events(devnet, chunk_size=100, from_block="latest", to_block="latest")
    assert [e["block_number"] for e in latest["events"]] == [5]
    first = everything["events"][0]
    assert first["event_index"] == 0
    assert first["transaction_index"] == 0
    block = rpc(devnet, "starknet_getBlockWithTxHashes", [{"block_number": 1}])
    assert first["block_hash"] == block["block_hash"]
    assert first["transaction_hash"] == block["transactions"][0]


def test_get_events_pages_with_continuation_tokens(chain):
    devnet, _ = chain
    everything = _events(devnet, chunk_size=100)["events"]
    pages: list[list[dict[str, Any]]] = []
    token = None
    while True:
        page = _events(devnet, chunk_size=4, **({"continuation_token": token} if token else {}))
        pages.append(page["events"])
        token = page.get("continuation_token")
        if token is None:
            break
    assert [len(page) for page in pages] == [4, 2]
    assert [event for page in pages for event in page] == everything
    # Paging a filtered query.
    strk = _events(devnet, chunk_size=2, address=hex(STRK_ADDRESS))
    rest = _events(
        devnet,
        chunk_size=10,
        address=hex(STRK_ADDRESS),
        continuation_token=strk["continuation_token"],
    )
    assert len(strk["events"]) + len(rest["events"]) == 5


@pytest.mark.parametrize(
    ("filter", "code"),
    [
        ({"chunk_size": 1001}, 31),
        ({"chunk_size": 10, "continuation_token": "garbage"}, 33),
        ({"chunk_size": 10, "continuation_token": "99-0-0"}, 33),
        ({"chunk_size": 10, "to_block": {"block_number": 99}}, 24),
        ({"chunk_size": 10, "keys": [[hex(n) for n in range(1025)]]}, 34),
        ({"chunk_size": 0}, -32602),
    ],
)
def test_get_events_errors(chain, spec: Spec, filter: dict[str, Any], code: int):
    devnet, _ = chain
    error = rpc_error(devnet, "starknet_getEvents", {"filter": filter})
    assert error.code == code
    if code > 0:
        spec.validate_error("starknet_getEvents", error.to_json())


def test_results_match_the_spec(chain, spec: Spec):
    devnet, txs = chain
    ok, reverted = txs["ok"]["transaction_hash"], txs["reverted"]["transaction_hash"]
    alice = devnet.predeployed_accounts[0]
    balance_slot = devnet._chain.storage_address("ERC20_balances", alice.address)
    calls: list[tuple[str, Any]] = [
        ("starknet_specVersion", []),
        ("starknet_chainId", []),
        ("starknet_syncing", []),
        ("starknet_blockNumber", []),
        ("starknet_blockHashAndNumber", []),
        ("starknet_getBlockWithTxHashes", ["latest"]),
        ("starknet_getBlockWithTxHashes", ["pre_confirmed"]),
        ("starknet_getBlockWithReceipts", [{"block_number": 4}]),
        ("starknet_getBlockWithReceipts", ["pre_confirmed"]),
        ("starknet_getBlockTransactionCount", ["latest"]),
        ("starknet_getStateUpdate", [{"block_number": 0}]),
        ("starknet_getStateUpdate", ["latest"]),
        ("starknet_getStateUpdate", ["pre_confirmed"]),
        ("starknet_getStorageAt", [hex(STRK_ADDRESS), hex(balance_slot), "latest"]),
        (
            "starknet_getStorageAt",
            [hex(STRK_ADDRESS), hex(balance_slot), "latest", ["INCLUDE_LAST_UPDATE_BLOCK"]],
        ),
        ("starknet_getTransactionStatus", [ok]),
        ("starknet_getTransactionStatus", [reverted]),
        ("starknet_getTransactionByHash", [ok]),
        ("starknet_getTransactionByHash", [ok, ["INCLUDE_PROOF_FACTS"]]),
        ("starknet_getTransactionByBlockIdAndIndex", [{"block_number": 4}, 0]),
        ("starknet_getTransactionReceipt", [ok]),
        ("starknet_getTransactionReceipt", [reverted]),
        ("starknet_getClass", ["latest", hex(devnet.account_class_hash)]),
        ("starknet_getClassHashAt", ["latest", hex(alice.address)]),
        ("starknet_getClassAt", ["latest", hex(UDC_ADDRESS)]),
        ("starknet_getNonce", ["latest", hex(alice.address)]),
        (
            "starknet_call",
            [
                {
                    "contract_address": hex(STRK_ADDRESS),
                    "entry_point_selector": hex(get_selector_from_name("balance_of")),
                    "calldata": [hex(alice.address)],
                },
                "latest",
            ],
        ),
        ("starknet_traceTransaction", [ok]),
        ("starknet_traceTransaction", [reverted]),
        ("starknet_traceBlockTransactions", [{"block_number": 4}]),
    ]
    for method, params in calls:
        spec.validate_result(method, rpc(devnet, method, params))
    # BLOCK_BODY_WITH_TXS wraps its item schema in a content descriptor ({"schema": ...}) the
    # spec reader does not unwrap; check each transaction against TXN_WITH_HASH directly.
    block = rpc(devnet, "starknet_getBlockWithTxs", [{"block_number": 4}])
    for tx in block.pop("transactions"):
        spec.validate_component("TXN", {k: v for k, v in tx.items() if k != "transaction_hash"})
    spec.validate_component("BLOCK_HEADER", {k: v for k, v in block.items() if k != "status"})
    # The spec's CellRef forbids the negative offsets every real CASM has (e.g. [fp - 3]), so
    # starknet_getCompiledCasm cannot validate; check the envelope instead.
    casm = rpc(devnet, "starknet_getCompiledCasm", [hex(devnet.account_class_hash)])
    assert {"prime", "compiler_version", "entry_points_by_type", "bytecode", "hints"} <= set(casm)


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        ("starknet_getBlockWithTxHashes", [{"block_number": 999}], 24),
        ("starknet_getBlockWithTxs", [{"block_hash": "0x123"}], 24),
        ("starknet_getStateUpdate", [{"block_number": 999}], 24),
        ("starknet_getTransactionByHash", ["0x123"], 29),
        ("starknet_getTransactionReceipt", ["0x123"], 29),
        ("starknet_getTransactionStatus", ["0x123"], 29),
        ("starknet_getTransactionByBlockIdAndIndex", [{"block_number": 1}, 5], 27),
        ("starknet_getClass", ["latest", "0x123"], 28),
        ("starknet_getClassHashAt", ["latest", "0x123"], 20),
        ("starknet_getClassAt", [{"block_number": 0}, "0x123"], 20),
        ("starknet_getNonce", ["latest", "0x123"], 20),
        ("starknet_getStorageAt", ["0x123", "0x1", "latest"], 20),
        ("starknet_getCompiledCasm", ["0x123"], 28),
        (
            "starknet_call",
            [
                {"contract_address": "0x123", "entry_point_selector": "0x1", "calldata": []},
                "latest",
            ],
            20,
        ),
        (
            "starknet_call",
            [
                {
                    "contract_address": hex(STRK_ADDRESS),
                    "entry_point_selector": "0x1",
                    "calldata": [],
                },
                "latest",
            ],
            21,
        ),
        (
            "starknet_call",
            [
                {
                    "contract_address": hex(STRK_ADDRESS),
                    "entry_point_selector": hex(get_selector_from_name("transfer")),
                    "calldata": ["0x1", "0x5", "0x0"],
                },
                "latest",
            ],
            40,
        ),
        ("starknet_getStorageProof", ["latest"], 42),
        ("starknet_getBlockWithTxHashes", ["earliest"], -32602),
        ("starknet_getNonce", ["latest", "0xzz"], -32602),
    ],
)
def test_error_codes(chain, spec: Spec, method: str, params: Any, code: int):
    devnet, _ = chain
    error = rpc_error(devnet, method, params)
    assert error.code == code, error
    spec.validate_error(method, error.to_json())


def test_simulate_and_estimate_change_nothing(chain, spec: Spec):
    devnet, _ = chain
    alice, bob = devnet.predeployed_accounts
    nonce = devnet.get_nonce(alice.address, _latest())
    good = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1), nonce=nonce)
    bad = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 10**30), nonce=nonce + 1)
    before = devnet.dump()
    simulated = rpc(
        devnet, "starknet_simulateTransactions", ["latest", [good, bad], ["SKIP_FEE_CHARGE"]]
    )
    spec.validate_result("starknet_simulateTransactions", simulated)
    first, second = (item["transaction_trace"] for item in simulated)
    assert first["execute_invocation"]["contract_address"] == hex(alice.address)
    assert first["validate_invocation"]["result"] == [hex(int.from_bytes(b"VALID", "big"))]
    assert "fee_transfer_invocation" not in first
    assert "INSUFFICIENT_BALANCE" in second["execute_invocation"]["revert_reason"]
    charged = rpc(devnet, "starknet_simulateTransactions", ["latest", [good], ["SKIP_VALIDATE"]])
    spec.validate_result("starknet_simulateTransactions", charged)
    trace = charged[0]["transaction_trace"]
    assert "validate_invocation" not in trace
    assert trace["fee_transfer_invocation"]["entry_point_selector"] == hex(
        get_selector_from_name("transfer")
    )
    # An estimate of a reverting tx is an error naming it (spec error 41).
    error = rpc_error(devnet, "starknet_estimateFee", [[good, bad], [], "latest"])
    assert (error.code, error.data["transaction_index"]) == (41, 1)
    spec.validate_error("starknet_estimateFee", error.to_json())
    forged = {**good, "signature": ["0x1", "0x2"]}
    error = rpc_error(devnet, "starknet_estimateFee", [[forged], [], "latest"])
    assert error.code == 41
    assert "INVALID_SIGNATURE" in error.data["execution_error"]
    estimates = rpc(devnet, "starknet_estimateFee", [[forged], ["SKIP_VALIDATE"], "latest"])
    spec.validate_result("starknet_estimateFee", estimates)
    # An estimate at an older block runs on that block's state.
    old = rpc(devnet, "starknet_estimateFee", [[forged], ["SKIP_VALIDATE"], {"block_number": 3}])
    assert old[0]["unit"] == "FRI"
    assert devnet.dump() == before


def _latest() -> Any:
    from devnet.codec import BlockId

    return BlockId(tag="latest")


def test_starknet_py_account_and_udc_deployer():
    devnet = make_devnet(accounts=2)
    alice, bob = devnet.predeployed_accounts
    account = account_of(devnet, alice)
    client = in_process_client(devnet)
    token = load_contract("Token")

    async def scenario() -> None:
        assert await client.get_chain_id() == hex(devnet.chain_id)
        assert await client.spec_version() == "0.10.2"
        sent = await account.execute_v3(
            calls=transfer_call(devnet, bob.address, ONE_STRK), auto_estimate=True
        )
        receipt = await client.wait_for_tx(sent.transaction_hash)
        assert receipt.block_number == 1
        assert await account.get_nonce() == 1
        balance = await account.get_balance()
        assert balance == 10**21 - ONE_STRK - receipt.actual_fee.amount
        deployer = Deployer(deployer_address=UDC_ADDRESS, account_address=alice.address)
        deployment = deployer.create_contract_deployment_raw(
            token.class_hash,
            salt=42,
            raw_calldata=[1, 2, 18, 1000, 0, alice.address, alice.address],
        )
        sent = await account.execute_v3(calls=deployment.call, auto_estimate=True)
        receipt = await client.wait_for_tx(sent.transaction_hash)
        assert await client.get_class_hash_at(deployment.address) == token.class_hash
        deployed = [e for e in receipt.events if e.from_address == UDC_ADDRESS]
        assert len(deployed) == 1
        events = await client.get_events(address=deployment.address, chunk_size=10)
        assert len(events.events) == 1  # the initial mint's Transfer
        block = await client.get_block_with_receipts(block_number="latest")
        assert block.transactions[0].receipt.transaction_hash == sent.transaction_hash
        update = await client.get_state_update(block_number="latest")
        assert any(c.address == deployment.address for c in update.state_diff.deployed_contracts)

    asyncio.run(scenario())


def test_starknet_py_devnet_client(tmp_path: Path):
    devnet = make_devnet(accounts=1)
    client = in_process_devnet_client(devnet)
    target = 0x5EED

    async def scenario() -> None:
        minted = await client.mint(target, 10**18)
        assert minted.new_balance == 10**18
        assert (await client.get_account_balance(target, "FRI")).amount == 10**18
        accounts = await client.get_predeployed_accounts(with_balance=True)
        assert accounts[0].address == devnet.predeployed_accounts[0].address
        # DevnetClient.get_config parses an older layout than starknet-devnet's; read it raw.
        config = await client._devnet_client.call(method_name="getConfig")
        assert (config["total_accounts"], config["chain_id"]) == (1, "SN_SEPOLIA")
        created = await client.create_block()
        assert int(created, 16) == devnet.latest_block.block_hash
        set_time = await client.set_time(START_TIME + 1000, generate_block=True)
        assert set_time.block_timestamp == START_TIME + 1000
        increased = await client.increase_time(60)
        assert increased.timestamp_increased_by == 60
        assert (await client.get_block(block_number="latest")).timestamp == START_TIME + 1060
        path = str(tmp_path / "dump.json")
        await client.dump(path)
        aborted = await client.abort_block(block_number=2)
        assert len(aborted) == 3
        assert await client.get_block_number() == 1
        await client.load(path)
        assert await client.get_block_number() == 4

    asyncio.run(scenario())


def test_in_process_client_errors_are_client_errors():
    from starknet_py.net.client_errors import ClientError

    devnet = make_devnet(accounts=1)
    client = in_process_client(devnet)
    with pytest.raises(ClientError) as info:
        asyncio.run(client.get_block(block_number=99))
    assert info.value.code == 24
    assert isinstance(
        rpc_error(devnet, "starknet_getBlockWithTxs", [{"block_number": 9}]), RpcError
    )
