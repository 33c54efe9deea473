"""The RPC surface on a real devnet: result shapes against the spec, error codes, getEvents,
simulation, and starknet-py's own FullNodeClient, Account, Deployer and DevnetClient driving it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.udc_deployer.deployer import Deployer

from devnet.codec import BlockId
from devnet.errors import RpcError
from devnet.genesis import ETH_ADDRESS, STRK_ADDRESS, UDC_ADDRESS
from devnet.inprocess import in_process_client, in_process_devnet_client
from devnet.state import Devnet
from smainer.artifacts import load_contract
from smainer.config import DevnetSettings
from tests.devnet.spec import Spec
from tests.devnet.test_node_helpers import (
    ONE_STRK,
    START_TIME,
    TRANSFER_EVENT,
    Clock,
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
    devnet = Devnet(DevnetSettings(accounts=1, seed=7, dump_dir=tmp_path), clock=Clock())
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


# Bad input at the edge: spec codes, and a refused request changes nothing.


def _state(devnet: Devnet) -> tuple[Any, ...]:
    """What a refused request must leave as it was: block, time, nonces and balances."""
    alice = devnet.predeployed_accounts[0]
    pending = devnet.get_block(BlockId(tag="pre_confirmed"))
    return (
        devnet.latest_block.number,
        pending.timestamp,
        len(devnet.block_transactions(pending)),
        devnet.get_nonce(alice.address, _latest()),
        devnet.balance(alice.address, "FRI"),
        devnet.balance(ALICE_TARGET, "FRI"),
    )


@pytest.fixture(scope="module")
def quiet() -> Devnet:
    """A devnet the refused-request tests share: none of them may change it."""
    return make_devnet(accounts=1)


@pytest.mark.parametrize(
    "amount",
    [
        *(float("nan"), float("inf"), float("-inf"), 1e400, 1.5, -1, 2**256, 2**300, True),
        *(None, [1], "1e3", "NaN", "0x", "1_000", "12 ", "", "0x" + "f" * 65),
        "\u0661\u0662",  # Arabic-Indic digits
        "\uff11\uff12",  # fullwidth digits
    ],
)
def test_mint_refuses_bad_amounts_and_changes_nothing(quiet: Devnet, amount: Any) -> None:
    before = _state(quiet)
    error = rpc_error(quiet, "devnet_mint", [hex(ALICE_TARGET), amount])
    assert error.code == -32602
    assert _state(quiet) == before


def test_mint_takes_integral_numbers_and_strings() -> None:
    devnet = make_devnet(accounts=1)
    for amount, total in ((1e21, 10**21), ("5", 10**21 + 5), ("0x10", 10**21 + 21)):
        assert rpc(devnet, "devnet_mint", [hex(ALICE_TARGET), amount])["new_balance"] == str(total)
    error = rpc_error(devnet, "devnet_mint", [hex(ALICE_TARGET), 2**256 - 10])
    assert error.code == -32602  # the balance would overflow u256
    assert devnet.balance(ALICE_TARGET, "FRI") == 10**21 + 21


@pytest.mark.parametrize(
    ("method", "params"),
    [("devnet_setTime", [t]) for t in (2**300, 2**64, -1, 1.5, "5", None, True)]
    + [("devnet_increaseTime", [t]) for t in (2**64, 2**64 - 1, -5, 1e3, "60")]
    + [("devnet_setTime", [START_TIME, "yes"])],
)
def test_time_must_be_u64_seconds_and_refusals_change_nothing(
    quiet: Devnet, method: str, params: Any
) -> None:
    before = _state(quiet)
    assert rpc_error(quiet, method, params).code == -32602
    assert _state(quiet) == before
    rpc(quiet, "starknet_blockNumber")  # still serving


@pytest.mark.parametrize(
    "value",
    [
        *("0x\u0661\u0662", "0x\uff11\uff12", "\uff10x12"),  # Arabic-Indic, fullwidth
        *("0x1_0", "0x12 ", " 0x12", "0x", "12", "0x" + "1" * 65, "0X1g", 18, 0, True, None),
        ["0x1"],
        "0x800000000000011000000000000000000000000000000000000000000000001",  # the prime
    ],
)
def test_felts_follow_the_spec_pattern(chain, value: Any) -> None:
    devnet, _ = chain
    assert rpc_error(devnet, "starknet_getNonce", ["latest", value]).code == -32602
    assert rpc_error(devnet, "starknet_getTransactionReceipt", [value]).code == -32602


def test_padded_felts_are_read_as_starknet_nodes_read_them(chain) -> None:
    devnet, _ = chain
    alice = devnet.predeployed_accounts[0]
    padded = "0x" + f"{alice.address:064x}"
    assert rpc(devnet, "starknet_getNonce", ["latest", padded]) == rpc(
        devnet, "starknet_getNonce", ["latest", hex(alice.address)]
    )


@pytest.mark.parametrize(
    "token", ["\u00b2-0-0", "\u0663-0-0", "1-2", "a-b-c", "1-2-3-4", "", "x" * 5000]
)
def test_malformed_continuation_tokens_are_error_33(chain, spec: Spec, token: str) -> None:
    devnet, _ = chain
    error = rpc_error(
        devnet, "starknet_getEvents", [{"chunk_size": 5, "continuation_token": token}]
    )
    assert error.code == 33
    spec.validate_error("starknet_getEvents", error.to_json())


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (["latest"], 42),
        (["latest", ["0x1"], ["0x2"], [{"contract_address": "0x1", "storage_keys": ["0x2"]}]], 42),
        ([{"block_number": 999}], 24),
        ([5], -32602),
        (["latest", "0x1"], -32602),
        (["latest", [1]], -32602),
        (["latest", None, None, [{"contract_address": "0x1"}]], -32602),
        (["latest", None, None, {"a": 1}], -32602),
    ],
)
def test_storage_proof_checks_its_params(chain, spec: Spec, params: Any, code: int) -> None:
    devnet, _ = chain
    error = rpc_error(devnet, "starknet_getStorageProof", params)
    assert error.code == code
    spec.validate_error("starknet_getStorageProof", error.to_json())


def _declare(devnet: Devnet, contract_class: dict[str, Any]) -> dict[str, Any]:
    bound = {"max_amount": "0x0", "max_price_per_unit": "0x0"}
    return {
        "type": "DECLARE",
        "version": "0x3",
        "sender_address": hex(devnet.predeployed_accounts[0].address),
        "compiled_class_hash": "0x1",
        "contract_class": contract_class,
        "signature": [],
        "nonce": "0x0",
        "resource_bounds": {"l1_gas": bound, "l1_data_gas": bound, "l2_gas": bound},
        "tip": "0x0",
        "paymaster_data": [],
        "account_deployment_data": [],
        "nonce_data_availability_mode": "L1",
        "fee_data_availability_mode": "L1",
    }


def test_declare_checks_the_class_version_and_size_first(quiet: Devnet, spec: Spec) -> None:
    token = load_contract("Token").sierra
    before = _state(quiet)
    cases = [
        ({**token, "contract_class_version": "9.9.9"}, 62),
        ({**token, "sierra_program": ["0x1"] * 81_921}, 57),
        ({**token, "contract_class_version": 1}, -32602),
    ]
    for contract_class, code in cases:
        tx = _declare(quiet, {**contract_class, "abi": "[]"})
        error = rpc_error(quiet, "starknet_addDeclareTransaction", [tx])
        assert error.code == code
        spec.validate_error("starknet_addDeclareTransaction", error.to_json())
        error = rpc_error(quiet, "starknet_estimateFee", [[tx], [], "latest"])
        assert error.code == (41 if code > 0 else -32602)
        spec.validate_error("starknet_estimateFee", error.to_json())
    assert _state(quiet) == before


def test_work_per_request_is_bounded(quiet: Devnet) -> None:
    many = [{"type": "INVOKE"}] * 33
    for method, params in (
        ("starknet_estimateFee", [many, [], "latest"]),
        ("starknet_simulateTransactions", ["latest", many, []]),
    ):
        error = rpc_error(quiet, method, params)
        assert (error.code, "limit of 32" in error.data) == (-32602, True)


def test_get_config_reports_the_limits_applied(quiet: Devnet) -> None:
    from devnet.dispatch import Limits

    server = rpc(quiet, "devnet_getConfig")["server_config"]
    limits = Limits()
    assert server["request_body_size_limit"] == limits.max_body_bytes == 16 * 1024 * 1024
    assert server["batch_size_limit"] == limits.max_batch
    assert server["transactions_per_request_limit"] == limits.max_transactions


def test_handlers_run_alone(chain) -> None:
    """Each handler is a plain function of the devnet and the spec's params."""
    from devnet.methods import reads, traces

    devnet, txs = chain
    alice = devnet.predeployed_accounts[0]
    assert reads.get_nonce(devnet, "latest", hex(alice.address)) == "0x2"
    assert reads.block_number(devnet) == devnet.latest_block.number
    trace = traces.trace_transaction(devnet, txs["ok"]["transaction_hash"])
    assert trace["type"] == "INVOKE"


# Dump and load stay inside their folder.


def _dumping_devnet(tmp_path: Path, **settings: Any) -> Devnet:
    return Devnet(DevnetSettings(accounts=1, seed=7, **settings), clock=Clock())


def test_dump_and_load_stay_in_their_folder(tmp_path: Path) -> None:
    folder, outside = tmp_path / "dumps", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    devnet = _dumping_devnet(tmp_path, dump_dir=folder)
    assert rpc(devnet, "devnet_dump", ["state.json"]) is None  # relative: inside the folder
    assert (folder / "state.json").stat().st_size > 0
    rpc(devnet, "devnet_load", ["state.json"])
    for path in (outside / "x.json", "../elsewhere/x.json", "/etc/cron.d/x"):
        error = rpc_error(devnet, "devnet_dump", [str(path)])
        assert error.code == -1
        assert "inside" in error.data
    assert list(outside.iterdir()) == []
    # devnet_load answers the same whether a path outside exists or not.
    (outside / "real.json").write_text((folder / "state.json").read_text())
    there = rpc_error(devnet, "devnet_load", [str(outside / "real.json")])
    missing = rpc_error(devnet, "devnet_load", [str(outside / "missing.json")])
    assert (there.code, there.data.replace("real", "missing")) == (missing.code, missing.data)
    anywhere = _dumping_devnet(tmp_path, allow_any_dump_path=True)
    rpc(anywhere, "devnet_dump", [str(outside / "any.json")])
    rpc(anywhere, "devnet_load", [str(outside / "real.json")])


def test_default_dump_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    devnet = _dumping_devnet(tmp_path)
    rpc(devnet, "devnet_dump", ["a.json"])
    assert (tmp_path / ".smainer" / "devnet" / "a.json").is_file()
    beside = _dumping_devnet(tmp_path, dump_path=tmp_path / "run" / "state.json")
    (tmp_path / "run").mkdir()
    rpc(beside, "devnet_dump", [str(tmp_path / "run" / "b.json")])
    assert rpc_error(beside, "devnet_dump", [str(tmp_path / "c.json")]).code == -1


def test_bad_dump_files_and_paths_are_clear_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    devnet = _dumping_devnet(tmp_path, dump_dir=tmp_path)
    before = _state(devnet)
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "adir").mkdir()
    with caplog.at_level(logging.DEBUG):
        for name in ("junk.json", "list.json", "adir", "missing.json"):
            error = rpc_error(devnet, "devnet_load", [name])
            assert error.code == -1, name
        error = rpc_error(devnet, "devnet_dump", ["adir"])
        assert (error.code, "cannot write" in error.data) == (-1, True)
        error = rpc_error(devnet, "devnet_dump", ["no/such/folder/x.json"])
        assert error.code == -1
    assert "Traceback" not in caplog.text
    assert _state(devnet) == before
