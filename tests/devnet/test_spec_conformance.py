"""Every answer of the devnet, checked against the Starknet JSON-RPC spec v0.10.2.

First the harness itself (``tests/devnet/spec.py``): a deliberately malformed answer must fail,
or a passing conformance run would prove nothing. Then every method of the spec is called on a
real devnet over HTTP with good input (the result must match the method's ``result`` schema) and
with bad input (the error must be one the method declares, with the spec's code and message, or
a JSON-RPC protocol error). The transactions that give the calls something to read are sent with
starknet-py through a client that validates every response it receives as well.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import pytest
from starknet_py.hash.address import compute_address
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.hash.storage import get_storage_var_address
from starknet_py.net.account.account import Account
from starknet_py.net.client_models import Call, ResourceBounds, ResourceBoundsMapping
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.http_client import HttpMethod, RpcHttpClient
from starknet_py.net.models import StarknetChainId
from starknet_py.net.schemas.broadcasted_txn import BroadcastedTransactionSchema
from starknet_py.net.signer.key_pair import KeyPair

from smainer.artifacts import load_contract
from tests.devnet.conftest import RunningServer
from tests.devnet.spec import Spec, SpecError

STRK = 0x04718F5A0FC34CC1AF16A1CDEE98FFB20C31F5CD61D6AB07201858F4287C938D
ONE = 10**18
GENEROUS = ResourceBoundsMapping(
    l1_gas=ResourceBounds(max_amount=0, max_price_per_unit=10**10),
    l1_data_gas=ResourceBounds(max_amount=10**5, max_price_per_unit=10**10),
    l2_gas=ResourceBounds(max_amount=10**9, max_price_per_unit=10**10),
)
POLL = 0.05
RETRIES = 2000
WS_ONLY = {
    "starknet_subscribeNewHeads",
    "starknet_subscribeEvents",
    "starknet_subscribeTransactionStatus",
    "starknet_subscribeNewTransactionReceipts",
    "starknet_subscribeNewTransactions",
    "starknet_unsubscribe",
}
"""WebSocket methods (tests/devnet/test_websocket.py); the rest of ``*_subscription*`` are
notifications, which no client calls."""


# The harness catches what it must.

PRICE = {"price_in_fri": "0x1", "price_in_wei": "0x2"}
HEADER = {
    "block_hash": "0x1",
    "parent_hash": "0x0",
    "block_number": 1,
    "new_root": "0x0",
    "timestamp": 5,
    "sequencer_address": "0x1",
    "l1_gas_price": PRICE,
    "l2_gas_price": PRICE,
    "l1_data_gas_price": PRICE,
    "l1_da_mode": "BLOB",
    "starknet_version": "0.14.1",
    "event_commitment": "0x0",
    "transaction_commitment": "0x0",
    "receipt_commitment": "0x0",
    "state_diff_commitment": "0x0",
    "event_count": 0,
    "transaction_count": 0,
    "state_diff_length": 0,
}
BLOCK = {"status": "ACCEPTED_ON_L2", **HEADER, "transactions": ["0x5"]}


def without(value: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != key}


def test_harness_accepts_well_formed_answers(spec: Spec) -> None:
    spec.validate_result("starknet_getBlockWithTxHashes", BLOCK)
    pre_confirmed = {k: BLOCK[k] for k in ("block_number", "timestamp", "sequencer_address")}
    pre_confirmed |= {k: BLOCK[k] for k in ("l1_gas_price", "l2_gas_price", "l1_data_gas_price")}
    pre_confirmed |= {k: BLOCK[k] for k in ("l1_da_mode", "starknet_version", "transactions")}
    spec.validate_result("starknet_getBlockWithTxHashes", pre_confirmed)
    spec.validate_result("starknet_specVersion", "0.10.2")
    spec.validate_notification(  # a ws schema with $refs into the read API's file
        {
            "jsonrpc": "2.0",
            "method": "starknet_subscriptionNewHeads",
            "params": {"subscription_id": "7", "result": HEADER},
        }
    )
    entry = spec.validate_error(
        "starknet_call", {"code": 40, "message": "Contract error", "data": {"revert_error": "boom"}}
    )
    assert entry is not None
    assert entry.name == "CONTRACT_ERROR"
    assert (
        spec.validate_error("starknet_call", {"code": -32602, "message": "Invalid params"}) is None
    )


@pytest.mark.parametrize(
    ("method", "answer"),
    [
        ("starknet_getBlockWithTxHashes", {**BLOCK, "block_hash": "0x01"}),  # FELT: no leading 0
        ("starknet_getBlockWithTxHashes", {**BLOCK, "block_hash": "0x" + "f" * 64}),  # > 252 bits
        ("starknet_getBlockWithTxHashes", {**BLOCK, "block_hash": 1}),
        ("starknet_getBlockWithTxHashes", without(BLOCK, "parent_hash")),
        ("starknet_getBlockWithTxHashes", {**BLOCK, "status": "MINED"}),
        ("starknet_getBlockWithTxHashes", {**BLOCK, "extra": 1}),  # closed objects
        ("starknet_getBlockWithTxHashes", {**BLOCK, "l1_gas_price": {"price_in_fri": "0x1"}}),
        ("starknet_getBlockWithTxHashes", {**BLOCK, "l1_gas_price": {**PRICE, "x": "0x1"}}),
        ("starknet_getBlockWithTxHashes", {**BLOCK, "transactions": [{"transaction_hash": "0x1"}]}),
        ("starknet_getBlockWithTxHashes", {**BLOCK, "timestamp": -1}),
        ("starknet_blockHashAndNumber", {"block_hash": "0x1"}),
        ("starknet_chainId", "SN_SEPOLIA"),  # must be the hex felt
        ("starknet_subscribeNewHeads", 17),  # SUBSCRIPTION_ID is a string once its wrapper goes
        ("starknet_getTransactionByHash", {"transaction_hash": "0x1"}),  # TXN_WITH_HASH unwrapped
        ("starknet_syncing", {"starting_block_num": 1}),  # an incomplete SYNC_STATUS
        ("starknet_getEvents", {"events": [], "continuation_token": 5}),
    ],
)
def test_harness_rejects_malformed_answers(spec: Spec, method: str, answer: Any) -> None:
    with pytest.raises(SpecError):
        spec.validate_result(method, answer)


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("starknet_getNonce", {"code": 40, "message": "Contract error"}),  # not declared here
        ("starknet_call", {"code": 40, "message": "contract error", "data": {"revert_error": "x"}}),
        ("starknet_call", {"code": 40, "message": "Contract error"}),  # data required
        ("starknet_call", {"code": 40, "message": "Contract error", "data": {"error": "x"}}),
        ("starknet_getNonce", {"code": 24, "message": "Block not found", "data": "extra"}),
        ("starknet_getNonce", {"code": -32601, "message": "Unknown"}),
        ("starknet_getNonce", {"code": "24", "message": "Block not found"}),
        ("starknet_getNonce", {"code": 24, "message": "Block not found", "trace": []}),
    ],
)
def test_harness_rejects_malformed_errors(spec: Spec, method: str, error: Any) -> None:
    with pytest.raises(SpecError):
        spec.validate_error(method, error)


# The devnet's answers.


class CheckedHttpClient(RpcHttpClient):
    """starknet-py's transport, validating every response against the spec as it arrives."""

    def __init__(self, url: str, spec: Spec, seen: set[str]) -> None:
        super().__init__(url=url)
        self.spec = spec
        self.seen = seen

    async def request(
        self,
        address: str,
        http_method: HttpMethod,
        params: dict[str, Any] | None = None,
        payload: Any = None,
    ) -> Any:
        answer = await super().request(address, http_method, params, payload)
        method = payload["method"]
        if method in self.spec.methods:
            self.spec.validate_response(method, answer, payload["id"])
            self.seen.add(method)
        return answer


@dataclass
class Tx:
    hash: int
    block_number: int
    block_hash: int
    json: dict[str, Any] = field(default_factory=dict)
    """The broadcasted transaction as sent."""


@dataclass
class Chain:
    """What the fixture put on the devnet, and signed transactions that must be refused."""

    url: str
    sender: tuple[int, int]
    account_class: int
    invoke: Tx
    reverted: Tx
    declare: Tx
    declared_class: int
    deploy_account: Tx
    deployed: int
    bad: dict[str, dict[str, Any]]
    """Broadcasted transactions that must be refused, by case name."""
    query: dict[str, Any]
    """A signed query-only invoke, for estimateFee and simulateTransactions."""
    seen: set[str]


def broadcasted(tx: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = BroadcastedTransactionSchema().dump(obj=tx)
    return dumped


def strk_transfer(recipient: int, amount: int) -> Call:
    selector = get_selector_from_name("transfer")
    return Call(
        to_addr=STRK, selector=selector, calldata=[recipient, amount % 2**128, amount >> 128]
    )


def account_variant(spaces: int) -> str:
    """The Account class with ``spaces`` after its ABI: a new class hash, the same CASM."""
    sierra = copy.deepcopy(load_contract("Account").sierra)
    sierra["abi"] = json.dumps(sierra["abi"]) + " " * spaces
    return json.dumps(sierra)


async def build_chain(url: str, spec: Spec) -> Chain:
    seen: set[str] = set()
    client = FullNodeClient(node_url=f"{url}/rpc")
    client._client = CheckedHttpClient(f"{url}/rpc", spec, seen)
    predeployed = await rpc(url, "devnet_getPredeployedAccounts")
    pairs = [(int(a["address"], 16), int(a["private_key"], 16)) for a in predeployed]
    sender_pair, receiver_pair = pairs[2], pairs[3]  # accounts 0-1 are other modules'
    sender = Account(
        address=sender_pair[0],
        client=client,
        key_pair=KeyPair.from_private_key(sender_pair[1]),
        chain=StarknetChainId.SEPOLIA,
    )

    async def mined(sent_hash: int, tx_json: dict[str, Any]) -> Tx:
        receipt = await client.wait_for_tx(sent_hash, check_interval=POLL, retries=RETRIES)
        return Tx(sent_hash, receipt.block_number or 0, receipt.block_hash or 0, tx_json)

    invoke_tx = await sender.sign_invoke_v3(
        calls=strk_transfer(receiver_pair[0], 1), resource_bounds=GENEROUS
    )
    await sender.estimate_fee(invoke_tx)
    sent = await client.send_transaction(invoke_tx)
    invoke = await mined(sent.transaction_hash, broadcasted(invoke_tx))

    too_much = await sender.sign_invoke_v3(
        calls=strk_transfer(receiver_pair[0], 10**30), resource_bounds=GENEROUS
    )
    sent = await client.send_transaction(too_much)
    try:
        reverted = await mined(sent.transaction_hash, broadcasted(too_much))
    except Exception:  # wait_for_tx raises on REVERTED; the block is what matters
        receipt = await client.get_transaction_receipt(sent.transaction_hash)
        reverted = Tx(sent.transaction_hash, receipt.block_number or 0, receipt.block_hash or 0)

    account_class = load_contract("Account")
    declare_tx = await sender.sign_declare_v3(
        compiled_contract=account_variant(1),
        compiled_class_hash=account_class.compiled_class_hash,
        resource_bounds=GENEROUS,
    )
    sent_declare = await client.declare(declare_tx)
    declare = await mined(sent_declare.transaction_hash, broadcasted(declare_tx))

    key_pair = KeyPair.from_private_key(0xC0FFEE)
    deployed = compute_address(
        class_hash=account_class.class_hash,
        salt=key_pair.public_key,
        constructor_calldata=[key_pair.public_key],
        deployer_address=0,
    )
    fund = await sender.execute_v3(
        calls=strk_transfer(deployed, 50 * ONE), resource_bounds=GENEROUS
    )
    await client.wait_for_tx(fund.transaction_hash, check_interval=POLL, retries=RETRIES)
    new_account = Account(
        address=deployed, client=client, key_pair=key_pair, chain=StarknetChainId.SEPOLIA
    )
    deploy_tx = await new_account.sign_deploy_account_v3(
        class_hash=account_class.class_hash,
        contract_address_salt=key_pair.public_key,
        constructor_calldata=[key_pair.public_key],
        resource_bounds=GENEROUS,
    )
    sent = await client.deploy_account(deploy_tx)
    deploy_account = await mined(sent.transaction_hash, broadcasted(deploy_tx))

    # Signed transactions that the devnet must refuse, each for one reason.
    nonce = await sender.get_nonce()
    call = strk_transfer(receiver_pair[0], 2)
    signed = await sender.sign_invoke_v3(calls=call, nonce=nonce, resource_bounds=GENEROUS)
    stale = await sender.sign_invoke_v3(calls=call, nonce=nonce - 1, resource_bounds=GENEROUS)
    broke_bounds = replace(
        GENEROUS, l2_gas=ResourceBounds(max_amount=10**15, max_price_per_unit=10**10)
    )
    broke = await sender.sign_invoke_v3(calls=call, nonce=nonce, resource_bounds=broke_bounds)
    starved_bounds = replace(
        GENEROUS, l2_gas=ResourceBounds(max_amount=1, max_price_per_unit=10**10)
    )
    starved = await sender.sign_invoke_v3(calls=call, nonce=nonce, resource_bounds=starved_bounds)
    mismatch = await sender.sign_declare_v3(
        compiled_contract=account_variant(2),
        compiled_class_hash=account_class.compiled_class_hash + 1,
        nonce=nonce,
        resource_bounds=GENEROUS,
    )
    redeclare = await sender.sign_declare_v3(
        compiled_contract=account_variant(1),
        compiled_class_hash=account_class.compiled_class_hash,
        nonce=nonce,
        resource_bounds=GENEROUS,
    )
    poor_key = KeyPair.from_private_key(0xB0B)
    poor_address = compute_address(
        class_hash=account_class.class_hash,
        salt=poor_key.public_key,
        constructor_calldata=[poor_key.public_key],
        deployer_address=0,
    )
    poor = Account(
        address=poor_address, client=client, key_pair=poor_key, chain=StarknetChainId.SEPOLIA
    )
    unfunded = await poor.sign_deploy_account_v3(
        class_hash=account_class.class_hash,
        contract_address_salt=poor_key.public_key,
        constructor_calldata=[poor_key.public_key],
        resource_bounds=GENEROUS,
    )
    unknown_class = await poor.sign_deploy_account_v3(
        class_hash=0x1234,
        contract_address_salt=poor_key.public_key,
        constructor_calldata=[poor_key.public_key],
        resource_bounds=GENEROUS,
        nonce=0,
    )
    bad_signature = {**broadcasted(signed), "signature": ["0x1", "0x2"]}
    v1 = {**broadcasted(signed), "version": "0x1", "max_fee": "0x1"}
    for key in ("resource_bounds", "tip", "paymaster_data", "account_deployment_data"):
        v1.pop(key, None)
    for key in ("nonce_data_availability_mode", "fee_data_availability_mode"):
        v1.pop(key, None)
    query = broadcasted(await sender.sign_for_fee_estimate(signed))
    bad = {
        "stale_nonce": broadcasted(stale),
        "bad_signature": bad_signature,
        "over_balance": broadcasted(broke),
        "under_validate": broadcasted(starved),
        "duplicate": invoke.json,
        "version_1": v1,
        "missing_field": without(broadcasted(signed), "calldata"),
        "redeclare": broadcasted(redeclare),
        "casm_mismatch": broadcasted(mismatch),
        "unfunded": broadcasted(unfunded),
        "unknown_class": broadcasted(unknown_class),
        "bad_query_signature": {**query, "signature": ["0x1", "0x2"]},
    }
    return Chain(
        url=url,
        sender=sender_pair,
        account_class=account_class.class_hash,
        invoke=invoke,
        reverted=reverted,
        declare=declare,
        declared_class=sent_declare.class_hash,
        deploy_account=deploy_account,
        deployed=deployed,
        bad=bad,
        query=query,
        seen=seen,
    )


async def rpc(url: str, method: str, params: Any = None) -> Any:
    answer = await post(url, method, params)
    assert "result" in answer, answer
    return answer["result"]


async def post(url: str, method: str, params: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 11, "method": method, "params": params or {}}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/rpc", json=body) as response,
    ):
        assert response.status == 200
        answer: dict[str, Any] = await response.json()
        return answer


@pytest.fixture(scope="module")
def chain(devnet_server: RunningServer, spec: Spec) -> Chain:
    return asyncio.run(build_chain(devnet_server.url, spec))


def felt(value: int) -> str:
    return hex(value)


Params = Callable[[Chain], Any]


def latest(_: Chain) -> Any:
    return {"block_id": "latest"}


GOOD: list[tuple[str, str, Params]] = [
    ("starknet_specVersion", "plain", lambda c: []),
    ("starknet_chainId", "plain", lambda c: []),
    ("starknet_syncing", "plain", lambda c: []),
    ("starknet_blockNumber", "plain", lambda c: []),
    ("starknet_blockHashAndNumber", "plain", lambda c: []),
    ("starknet_getBlockWithTxHashes", "latest", latest),
    ("starknet_getBlockWithTxHashes", "pre_confirmed", lambda c: ["pre_confirmed"]),
    ("starknet_getBlockWithTxHashes", "l1_accepted", lambda c: ["l1_accepted"]),
    (
        "starknet_getBlockWithTxHashes",
        "by-hash",
        lambda c: [{"block_hash": felt(c.invoke.block_hash)}],
    ),
    ("starknet_getBlockWithTxHashes", "genesis", lambda c: [{"block_number": 0}]),
    ("starknet_getBlockWithTxs", "invoke", lambda c: [{"block_number": c.invoke.block_number}]),
    ("starknet_getBlockWithTxs", "declare", lambda c: [{"block_number": c.declare.block_number}]),
    (
        "starknet_getBlockWithTxs",
        "deploy-account",
        lambda c: [{"block_number": c.deploy_account.block_number}],
    ),
    ("starknet_getBlockWithTxs", "pre_confirmed", lambda c: ["pre_confirmed"]),
    (
        "starknet_getBlockWithReceipts",
        "invoke",
        lambda c: [{"block_number": c.invoke.block_number}],
    ),
    (
        "starknet_getBlockWithReceipts",
        "reverted",
        lambda c: [{"block_number": c.reverted.block_number}],
    ),
    (
        "starknet_getBlockWithReceipts",
        "declare",
        lambda c: [{"block_number": c.declare.block_number}],
    ),
    (
        "starknet_getBlockWithReceipts",
        "deploy-account",
        lambda c: [{"block_number": c.deploy_account.block_number}],
    ),
    ("starknet_getBlockWithReceipts", "pre_confirmed", lambda c: ["pre_confirmed"]),
    (
        "starknet_getBlockTransactionCount",
        "invoke",
        lambda c: [{"block_number": c.invoke.block_number}],
    ),
    ("starknet_getStateUpdate", "genesis", lambda c: [{"block_number": 0}]),
    ("starknet_getStateUpdate", "invoke", lambda c: [{"block_hash": felt(c.invoke.block_hash)}]),
    ("starknet_getStateUpdate", "declare", lambda c: [{"block_number": c.declare.block_number}]),
    (
        "starknet_getStateUpdate",
        "deploy-account",
        lambda c: [{"block_number": c.deploy_account.block_number}],
    ),
    ("starknet_getStateUpdate", "pre_confirmed", lambda c: ["pre_confirmed"]),
    ("starknet_getNonce", "latest", lambda c: ["latest", felt(c.sender[0])]),
    ("starknet_getNonce", "past", lambda c: [{"block_number": 0}, felt(c.sender[0])]),
    (
        "starknet_getStorageAt",
        "balance",
        lambda c: {
            "contract_address": felt(STRK),
            "key": felt(get_storage_var_address("ERC20_balances", c.sender[0])),
            "block_id": "latest",
        },
    ),
    ("starknet_getStorageAt", "empty-slot", lambda c: [felt(STRK), "0x7", "latest"]),
    ("starknet_getClassHashAt", "account", lambda c: ["latest", felt(c.deployed)]),
    ("starknet_getClass", "sierra", lambda c: ["latest", felt(c.account_class)]),
    ("starknet_getClassAt", "token", lambda c: ["latest", felt(STRK)]),
    ("starknet_getCompiledCasm", "account", lambda c: [felt(c.account_class)]),
    (
        "starknet_call",
        "balance_of",
        lambda c: {
            "request": {
                "contract_address": felt(STRK),
                "entry_point_selector": felt(get_selector_from_name("balance_of")),
                "calldata": [felt(c.sender[0])],
            },
            "block_id": "latest",
        },
    ),
    (
        "starknet_estimateFee",
        "invoke",
        lambda c: {"request": [c.query], "simulation_flags": [], "block_id": "latest"},
    ),
    (
        "starknet_estimateFee",
        "skip-validate",
        lambda c: [[c.query], ["SKIP_VALIDATE"], "pre_confirmed"],
    ),
    (
        "starknet_simulateTransactions",
        "invoke",
        lambda c: {"block_id": "latest", "transactions": [c.query], "simulation_flags": []},
    ),
    (
        "starknet_simulateTransactions",
        "flags",
        lambda c: ["latest", [c.bad["bad_signature"]], ["SKIP_VALIDATE", "SKIP_FEE_CHARGE"]],
    ),
    ("starknet_getTransactionByHash", "invoke", lambda c: [felt(c.invoke.hash)]),
    ("starknet_getTransactionByHash", "declare", lambda c: [felt(c.declare.hash)]),
    ("starknet_getTransactionByHash", "deploy-account", lambda c: [felt(c.deploy_account.hash)]),
    (
        "starknet_getTransactionByBlockIdAndIndex",
        "first",
        lambda c: [{"block_number": c.invoke.block_number}, 0],
    ),
    ("starknet_getTransactionReceipt", "invoke", lambda c: [felt(c.invoke.hash)]),
    ("starknet_getTransactionReceipt", "reverted", lambda c: [felt(c.reverted.hash)]),
    ("starknet_getTransactionReceipt", "declare", lambda c: [felt(c.declare.hash)]),
    ("starknet_getTransactionReceipt", "deploy-account", lambda c: [felt(c.deploy_account.hash)]),
    ("starknet_getTransactionStatus", "invoke", lambda c: [felt(c.invoke.hash)]),
    ("starknet_getTransactionStatus", "reverted", lambda c: [felt(c.reverted.hash)]),
    (
        "starknet_getEvents",
        "paged",
        lambda c: {
            "filter": {
                "from_block": {"block_number": 0},
                "to_block": "latest",
                "address": felt(STRK),
                "chunk_size": 2,
            }
        },
    ),
    (
        "starknet_getEvents",
        "keys",
        lambda c: {
            "filter": {
                "keys": [[felt(get_selector_from_name("Transfer"))], [], [felt(c.deployed)]],
                "chunk_size": 100,
            }
        },
    ),
    (
        "starknet_getEvents",
        "addresses",
        lambda c: {
            "filter": {
                "address": [felt(STRK), "0x1"],
                "from_block": "latest",
                "to_block": "pre_confirmed",
                "chunk_size": 5,
            }
        },
    ),
    ("starknet_traceTransaction", "invoke", lambda c: [felt(c.invoke.hash)]),
    ("starknet_traceTransaction", "declare", lambda c: [felt(c.declare.hash)]),
    ("starknet_traceTransaction", "deploy-account", lambda c: [felt(c.deploy_account.hash)]),
    (
        "starknet_traceBlockTransactions",
        "invoke",
        lambda c: [{"block_number": c.invoke.block_number}],
    ),
]

NO_BLOCK = {"block_number": 10**9}
UNKNOWN = "0x1234567"

BAD: list[tuple[str, str, Params, int]] = [
    ("starknet_getBlockWithTxHashes", "far-number", lambda c: [NO_BLOCK], 24),
    ("starknet_getBlockWithTxHashes", "unknown-hash", lambda c: [{"block_hash": UNKNOWN}], 24),
    ("starknet_getBlockWithTxHashes", "bad-tag", lambda c: ["newest"], -32602),
    ("starknet_getBlockWithTxHashes", "negative", lambda c: [{"block_number": -1}], -32602),
    ("starknet_getBlockWithTxHashes", "no-params", lambda c: [], -32602),
    ("starknet_getBlockWithTxs", "far-number", lambda c: [NO_BLOCK], 24),
    ("starknet_getBlockWithReceipts", "far-number", lambda c: [NO_BLOCK], 24),
    ("starknet_getBlockTransactionCount", "far-number", lambda c: [NO_BLOCK], 24),
    ("starknet_getStateUpdate", "unknown-hash", lambda c: [{"block_hash": UNKNOWN}], 24),
    ("starknet_getNonce", "no-contract", lambda c: ["latest", UNKNOWN], 20),
    ("starknet_getNonce", "far-block", lambda c: [NO_BLOCK, felt(c.sender[0])], 24),
    ("starknet_getNonce", "not-a-felt", lambda c: ["latest", "0xzz"], -32602),
    ("starknet_getStorageAt", "no-contract", lambda c: [UNKNOWN, "0x1", "latest"], 20),
    ("starknet_getStorageAt", "far-block", lambda c: [felt(STRK), "0x1", NO_BLOCK], 24),
    ("starknet_getClassHashAt", "no-contract", lambda c: ["latest", UNKNOWN], 20),
    (
        "starknet_getClassHashAt",
        "before-deploy",
        lambda c: [{"block_number": 0}, felt(c.deployed)],
        20,
    ),
    ("starknet_getClass", "unknown", lambda c: ["latest", UNKNOWN], 28),
    ("starknet_getClassAt", "no-contract", lambda c: ["latest", UNKNOWN], 20),
    ("starknet_getCompiledCasm", "unknown", lambda c: [UNKNOWN], 28),
    (
        "starknet_call",
        "no-contract",
        lambda c: [
            {"contract_address": UNKNOWN, "entry_point_selector": "0x1", "calldata": []},
            "latest",
        ],
        20,
    ),
    (
        "starknet_call",
        "no-entry-point",
        lambda c: [
            {"contract_address": felt(STRK), "entry_point_selector": "0x1", "calldata": []},
            "latest",
        ],
        21,
    ),
    (
        "starknet_call",
        "reverts",
        lambda c: [
            {
                "contract_address": felt(STRK),
                "entry_point_selector": felt(get_selector_from_name("balance_of")),
                "calldata": [],
            },
            "latest",
        ],
        40,
    ),
    (
        "starknet_call",
        "far-block",
        lambda c: [
            {"contract_address": felt(STRK), "entry_point_selector": "0x1", "calldata": []},
            NO_BLOCK,
        ],
        24,
    ),
    (
        "starknet_estimateFee",
        "bad-signature",
        lambda c: [[c.bad["bad_query_signature"]], [], "latest"],
        41,
    ),
    ("starknet_estimateFee", "far-block", lambda c: [[c.query], [], NO_BLOCK], 24),
    (
        "starknet_estimateFee",
        "bad-flag",
        lambda c: [[c.query], ["SKIP_EVERYTHING"], "latest"],
        -32602,
    ),
    (
        "starknet_simulateTransactions",
        "bad-signature",
        lambda c: ["latest", [c.bad["bad_query_signature"]], []],
        41,
    ),
    ("starknet_addInvokeTransaction", "stale-nonce", lambda c: [c.bad["stale_nonce"]], 52),
    ("starknet_addInvokeTransaction", "bad-signature", lambda c: [c.bad["bad_signature"]], 55),
    ("starknet_addInvokeTransaction", "over-balance", lambda c: [c.bad["over_balance"]], 54),
    ("starknet_addInvokeTransaction", "under-validate", lambda c: [c.bad["under_validate"]], 53),
    ("starknet_addInvokeTransaction", "duplicate", lambda c: [c.bad["duplicate"]], 59),
    ("starknet_addInvokeTransaction", "version-1", lambda c: [c.bad["version_1"]], 61),
    ("starknet_addInvokeTransaction", "missing-field", lambda c: [c.bad["missing_field"]], -32602),
    ("starknet_addInvokeTransaction", "query-version", lambda c: [c.query], 61),
    ("starknet_addDeclareTransaction", "redeclare", lambda c: [c.bad["redeclare"]], 51),
    ("starknet_addDeclareTransaction", "casm-mismatch", lambda c: [c.bad["casm_mismatch"]], 60),
    ("starknet_addDeclareTransaction", "not-a-declare", lambda c: [c.invoke.json], -32602),
    ("starknet_addDeployAccountTransaction", "unfunded", lambda c: [c.bad["unfunded"]], 54),
    (
        "starknet_addDeployAccountTransaction",
        "unknown-class",
        lambda c: [c.bad["unknown_class"]],
        28,
    ),
    ("starknet_getTransactionByHash", "unknown", lambda c: [UNKNOWN], 29),
    (
        "starknet_getTransactionByBlockIdAndIndex",
        "bad-index",
        lambda c: [{"block_number": c.invoke.block_number}, 99],
        27,
    ),
    ("starknet_getTransactionByBlockIdAndIndex", "far-block", lambda c: [NO_BLOCK, 0], 24),
    ("starknet_getTransactionReceipt", "unknown", lambda c: [UNKNOWN], 29),
    ("starknet_getTransactionStatus", "unknown", lambda c: [UNKNOWN], 29),
    (
        "starknet_getEvents",
        "far-block",
        lambda c: {"filter": {"from_block": NO_BLOCK, "chunk_size": 1}},
        24,
    ),
    (
        "starknet_getEvents",
        "bad-token",
        lambda c: {"filter": {"continuation_token": "nonsense", "chunk_size": 1}},
        33,
    ),
    ("starknet_getEvents", "huge-page", lambda c: {"filter": {"chunk_size": 10**9}}, 31),
    (
        "starknet_getEvents",
        "too-many-keys",
        lambda c: {"filter": {"keys": [[felt(k) for k in range(1, 1500)]], "chunk_size": 1}},
        34,
    ),
    ("starknet_getEvents", "no-chunk-size", lambda c: {"filter": {}}, -32602),
    ("starknet_traceTransaction", "unknown", lambda c: [UNKNOWN], 29),
    ("starknet_traceBlockTransactions", "far-block", lambda c: [NO_BLOCK], 24),
]

OTHER: list[tuple[str, str, Params]] = [
    # Methods outside the list: any spec-valid answer (result or declared error).
    ("starknet_getMessagesStatus", "unknown", lambda c: ["0x" + "ab" * 32]),
    (
        "starknet_estimateMessageFee",
        "no-handler",
        lambda c: [
            {
                "from_address": "0x" + "12" * 20,
                "to_address": felt(STRK),
                "entry_point_selector": "0x1",
                "payload": [],
            },
            "latest",
        ],
    ),
    (
        "starknet_getStorageProof",
        "latest",
        lambda c: {"block_id": "latest", "class_hashes": [felt(c.account_class)]},
    ),
]


@pytest.mark.parametrize(
    ("method", "case", "params"), GOOD, ids=[f"{m[9:]}-{c}" for m, c, _ in GOOD]
)
async def test_good_input_gets_a_spec_result(
    chain: Chain, spec: Spec, method: str, case: str, params: Params
) -> None:
    answer = await post(chain.url, method, params(chain))
    assert "result" in answer, answer
    spec.validate_response(method, answer, 11)


@pytest.mark.parametrize(
    ("method", "case", "params", "code"), BAD, ids=[f"{m[9:]}-{c}" for m, c, _, _ in BAD]
)
async def test_bad_input_gets_a_declared_error(
    chain: Chain, spec: Spec, method: str, case: str, params: Params, code: int
) -> None:
    answer = await post(chain.url, method, params(chain))
    assert "error" in answer, answer
    spec.validate_response(method, answer, 11)
    assert answer["error"]["code"] == code, answer["error"]


@pytest.mark.parametrize(
    ("method", "case", "params"), OTHER, ids=[f"{m[9:]}-{c}" for m, c, _ in OTHER]
)
async def test_other_methods_answer_in_spec(
    chain: Chain, spec: Spec, method: str, case: str, params: Params
) -> None:
    spec.validate_response(method, await post(chain.url, method, params(chain)), 11)


async def test_specific_values(chain: Chain) -> None:
    assert await rpc(chain.url, "starknet_specVersion") == "0.10.2"
    assert await rpc(chain.url, "starknet_chainId") == "0x534e5f5345504f4c4941"
    assert await rpc(chain.url, "starknet_syncing") is False
    status = await rpc(chain.url, "starknet_getTransactionStatus", [felt(chain.reverted.hash)])
    assert status["execution_status"] == "REVERTED"
    assert status["failure_reason"]


def test_every_spec_method_is_called(spec: Spec, chain: Chain) -> None:
    called = {m for m, *_ in GOOD} | {m for m, *_ in BAD} | {m for m, *_ in OTHER} | chain.seen
    callable_methods = {
        name for name, method in spec.methods.items() if method.has_result and name not in WS_ONLY
    }
    assert callable_methods - called == set()
    # The write methods got a good answer through starknet-py's validated transport.
    assert {
        "starknet_addInvokeTransaction",
        "starknet_addDeclareTransaction",
        "starknet_addDeployAccountTransaction",
        "starknet_estimateFee",
    } <= chain.seen
