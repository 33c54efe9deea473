"""starknet-py 0.30 against ``smainer devnet`` over HTTP, as a dApp developer would use it.

One module-scoped scenario builds the marketplace with starknet-py's own high-level API (declare,
UDC deploy, approve, create a task, deploy an account) and each test then checks one thing a
client relies on. Each transaction costs about half a second of Cairo in Python, so the scenario
is shared and tests add only the transactions they are about.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from starknet_py.cairo.felt import encode_shortstring
from starknet_py.contract import Contract
from starknet_py.hash.address import compute_address
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.account.account import Account
from starknet_py.net.client_errors import ClientError
from starknet_py.net.client_models import (
    Call,
    ResourceBounds,
    ResourceBoundsMapping,
    StarknetBlockWithTxHashes,
    TransactionExecutionStatus,
    TransactionFinalityStatus,
)
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.models import StarknetChainId
from starknet_py.net.signer.key_pair import KeyPair
from starknet_py.transaction_errors import TransactionRevertedError

from smainer.artifacts import load_contract
from smainer.config import DevnetSettings
from smainer.payload import encode_json
from tests.devnet.conftest import RunningServer, serve_real_devnet, start_in_thread

STRK = 0x04718F5A0FC34CC1AF16A1CDEE98FFB20C31F5CD61D6AB07201858F4287C938D
ONE = 10**18
REQUIREMENTS = {
    "min_tier": 1,
    "gpu_required": False,
    "cpu_threads": 2,
    "ram_gb": 4,
    "max_execution_time": 600,
}
GENEROUS = ResourceBoundsMapping(
    l1_gas=ResourceBounds(max_amount=0, max_price_per_unit=10**10),
    l1_data_gas=ResourceBounds(max_amount=10**5, max_price_per_unit=10**10),
    l2_gas=ResourceBounds(max_amount=10**9, max_price_per_unit=10**10),
)
"""Bounds that cover any of these transactions, to send one without estimating it first."""


async def devnet_call(url: str, method: str, params: Any = None) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        answer = await response.json()
    assert "result" in answer, answer
    return answer["result"]


def account(client: FullNodeClient, address: int, private_key: int) -> Account:
    return Account(
        address=address,
        client=client,
        key_pair=KeyPair.from_private_key(private_key),
        chain=StarknetChainId.SEPOLIA,
    )


POLL = 0.05
"""starknet-py polls every 2 s by default; the devnet mines at once."""
RETRIES = 2000


@dataclass
class Market:
    """What the scenario left on the devnet.

    The contracts are parsed once: starknet-py 0.30 needs ~10 s of CPU to parse the Escrow's ABI
    (2.5 s for the Token's), far more than the devnet spends on a transaction. They are bound
    to the owner's account; other accounts send their calldata as plain calls.
    """

    url: str
    owner: tuple[int, int]
    """(address, private key) of the predeployed account that deployed everything."""
    user: tuple[int, int]
    token: Contract
    escrow: Contract
    task_tx: int
    task_block: int
    new_account: tuple[int, int]
    """(address, private key) of the account the scenario deployed with DEPLOY_ACCOUNT."""

    def client(self) -> FullNodeClient:
        return FullNodeClient(node_url=f"{self.url}/rpc")

    def account(self, which: tuple[int, int]) -> Account:
        return account(self.client(), *which)


async def build_market(url: str) -> Market:
    predeployed = await devnet_call(url, "devnet_getPredeployedAccounts")
    keys = [(int(a["address"], 16), int(a["private_key"], 16)) for a in predeployed]
    owner_pair, user_pair = keys[0], keys[1]
    client = FullNodeClient(node_url=f"{url}/rpc")
    owner = account(client, *owner_pair)

    token_artifact, escrow_artifact = load_contract("Token"), load_contract("Escrow")
    # The Token class is the fee tokens' class, declared at genesis: deploy it directly.
    token_deploy = await Contract.deploy_contract_v3(
        account=owner,
        class_hash=token_artifact.class_hash,
        abi=token_artifact.abi,
        constructor_args={
            "name": encode_shortstring("Smainer"),
            "symbol": encode_shortstring("SMNR"),
            "decimals": 18,
            "initial_supply": 1000 * ONE,
            "recipient": user_pair[0],
            "owner": owner_pair[0],
        },
        resource_bounds=GENEROUS,
    )
    await token_deploy.wait_for_acceptance(check_interval=POLL, retries=RETRIES)
    token = token_deploy.deployed_contract

    declare = await Contract.declare_v3(
        account=owner,
        compiled_contract=json.dumps(escrow_artifact.sierra),
        compiled_class_hash=escrow_artifact.compiled_class_hash,
        auto_estimate=True,
    )
    await declare.wait_for_acceptance(check_interval=POLL, retries=RETRIES)
    escrow_deploy = await declare.deploy_v3(
        constructor_args={
            "owner": owner_pair[0],
            "payment_token": token.address,
            "scheduler": owner_pair[0],
            "treasury": owner_pair[0],
            "gas_recipient": owner_pair[0],
            "provider_bps": 9300,
            "gas_bps": 200,
            "treasury_bps": 500,
        },
        resource_bounds=GENEROUS,
    )
    await escrow_deploy.wait_for_acceptance(check_interval=POLL, retries=RETRIES)
    escrow = escrow_deploy.deployed_contract

    # The user approves the escrow and creates a task, in one multicall.
    user = account(client, *user_pair)
    calls = [
        token.functions["approve"].prepare_invoke_v3(spender=escrow.address, amount=25 * ONE),
        escrow.functions["create_task"].prepare_invoke_v3(
            kind=int.from_bytes(b"matmul", "big"),
            payload=encode_json({"algorithm": "matrix_multiplication"}),
            requirements=REQUIREMENTS,
            amount=25 * ONE,
        ),
    ]
    sent = await user.execute_v3(calls=calls, auto_estimate=True)
    receipt = await client.wait_for_tx(sent.transaction_hash, check_interval=POLL, retries=RETRIES)

    # DEPLOY_ACCOUNT: a fresh key, its address funded with STRK first.
    key_pair = KeyPair.from_private_key(0x5EED5EED)
    account_class = await client.get_class_hash_at(owner_pair[0])
    salt = key_pair.public_key
    new_address = compute_address(
        class_hash=account_class,
        salt=salt,
        constructor_calldata=[key_pair.public_key],
        deployer_address=0,
    )
    fund = await owner.execute_v3(
        calls=strk_transfer(new_address, 10 * ONE), resource_bounds=GENEROUS
    )
    await client.wait_for_tx(fund.transaction_hash, check_interval=POLL, retries=RETRIES)
    deployed = await Account.deploy_account_v3(
        address=new_address,
        class_hash=account_class,
        salt=salt,
        key_pair=key_pair,
        client=client,
        constructor_calldata=[key_pair.public_key],
        auto_estimate=True,
    )
    await deployed.wait_for_acceptance(check_interval=POLL, retries=RETRIES)
    assert deployed.account.address == new_address

    return Market(
        url=url,
        owner=owner_pair,
        user=user_pair,
        token=token,
        escrow=escrow,
        task_tx=sent.transaction_hash,
        task_block=receipt.block_number or 0,
        new_account=(new_address, key_pair.private_key),
    )


def strk_transfer(recipient: int, amount: int) -> Call:
    return Call(
        to_addr=STRK,
        selector=get_selector_from_name("transfer"),
        calldata=[recipient, amount, 0],
    )


@pytest.fixture(scope="module")
def market(devnet_server: RunningServer) -> Market:
    return asyncio.run(build_market(devnet_server.url))


async def test_views_read_what_the_transactions_wrote(market: Market) -> None:
    (count,) = await market.escrow.functions["get_task_count"].call()
    assert count >= 1
    (task,) = await market.escrow.functions["get_task"].call(task_id=1)
    assert task["creator"] == market.user[0]
    assert task["amount"] == 25 * ONE
    (escrowed,) = await market.token.functions["balance_of"].call(account=market.escrow.address)
    assert escrowed == 25 * ONE
    (payment_token,) = await market.escrow.functions["payment_token"].call()
    assert payment_token == market.token.address


async def test_receipt_and_status_of_a_successful_transaction(market: Market) -> None:
    client = market.client()
    receipt = await client.get_transaction_receipt(market.task_tx)
    assert receipt.execution_status == TransactionExecutionStatus.SUCCEEDED
    assert receipt.finality_status == TransactionFinalityStatus.ACCEPTED_ON_L2
    assert receipt.block_number == market.task_block
    assert receipt.actual_fee.amount > 0
    emitters = {e.from_address for e in receipt.events}
    assert emitters >= {market.token.address, market.escrow.address, STRK}
    status = await client.get_transaction_status(market.task_tx)
    assert status.execution_status == TransactionExecutionStatus.SUCCEEDED
    tx = await client.get_transaction(market.task_tx)
    assert tx.hash == market.task_tx
    block = await client.get_block_with_txs(block_number=market.task_block)
    assert market.task_tx in [t.hash for t in block.transactions]


async def test_events_with_paging(market: Market) -> None:
    client = market.client()
    # The fee token's Transfer events: one per fee paid so far at least, read 2 at a time.
    transfer = get_selector_from_name("Transfer")
    seen: list[Any] = []
    token = None
    pages = 0
    while True:
        chunk = await client.get_events(
            address=STRK,
            keys=[[transfer]],
            from_block_number=0,
            to_block_number="latest",
            continuation_token=token,
            chunk_size=2,
        )
        seen += chunk.events
        pages += 1
        token = chunk.continuation_token
        if token is None:
            break
    assert pages >= 3
    assert len(seen) >= 5
    assert all(e.from_address == STRK and e.keys[0] == transfer for e in seen)
    numbers = [e.block_number for e in seen]
    assert numbers == sorted(numbers)
    created = get_selector_from_name("TaskCreated")
    escrow_events = await client.get_events(
        address=market.escrow.address, keys=[[created]], from_block_number=0, chunk_size=10
    )
    (event,) = escrow_events.events
    assert event.transaction_hash == market.task_tx
    assert event.keys[1] == 1  # the task id, first key after the selector


async def test_estimate_fee_is_what_the_transaction_is_charged(market: Market) -> None:
    owner = market.account(market.owner)
    call = strk_transfer(market.user[0], 1)
    nonce = await owner.get_nonce()
    invoke = await owner.sign_invoke_v3(calls=call, nonce=nonce, resource_bounds=GENEROUS)
    estimate = await owner.estimate_fee(invoke)
    assert not isinstance(estimate, list)
    assert estimate.overall_fee > 0
    assert estimate.unit.value == "FRI"
    sent = await market.client().send_transaction(invoke)
    receipt = await market.client().wait_for_tx(
        sent.transaction_hash, check_interval=POLL, retries=RETRIES
    )
    assert receipt.actual_fee.amount == estimate.overall_fee


async def test_reverted_transaction_has_a_reason(market: Market) -> None:
    user = market.account(market.user)
    nonce = await user.get_nonce()
    cancel = market.escrow.functions["cancel_task"].prepare_invoke_v3(task_id=999)
    # Estimation would fail (the call reverts), so bounds are given and the tx is mined.
    sent = await user.execute_v3(calls=cancel, resource_bounds=GENEROUS)
    client = market.client()
    with pytest.raises(TransactionRevertedError) as reverted:
        await client.wait_for_tx(sent.transaction_hash, check_interval=POLL, retries=RETRIES)
    assert reverted.value.message
    receipt = await client.get_transaction_receipt(sent.transaction_hash)
    assert receipt.execution_status == TransactionExecutionStatus.REVERTED
    assert receipt.revert_reason
    assert receipt.actual_fee.amount > 0  # a reverted transaction still pays
    assert await user.get_nonce() == nonce + 1


async def test_rejected_transactions_have_spec_codes(market: Market) -> None:
    owner = market.account(market.owner)
    client = market.client()
    call = strk_transfer(market.user[0], 3)  # an amount no other test sends: a new tx hash
    nonce = await owner.get_nonce()
    stale = await owner.sign_invoke_v3(calls=call, nonce=nonce - 1, resource_bounds=GENEROUS)
    with pytest.raises(ClientError) as wrong_nonce:
        await client.send_transaction(stale)
    assert wrong_nonce.value.code == 52
    signed = await owner.sign_invoke_v3(calls=call, nonce=nonce, resource_bounds=GENEROUS)
    forged = dataclasses.replace(signed, signature=[1, 2])
    with pytest.raises(ClientError) as bad_signature:
        await client.send_transaction(forged)
    assert bad_signature.value.code == 55
    assert await owner.get_nonce() == nonce  # rejected: nothing was mined


async def test_declaring_twice_is_class_already_declared(market: Market) -> None:
    escrow = load_contract("Escrow")
    with pytest.raises(ClientError) as declared:
        await Contract.declare_v3(
            account=market.account(market.owner),
            compiled_contract=json.dumps(escrow.sierra),
            compiled_class_hash=escrow.compiled_class_hash,
            resource_bounds=GENEROUS,
        )
    assert declared.value.code == 51


async def test_deployed_account_can_transact(market: Market) -> None:
    fresh = market.account(market.new_account)
    assert await fresh.get_nonce() == 1
    balance = await fresh.get_balance(STRK)
    assert 0 < balance < 10 * ONE
    sent = await fresh.execute_v3(calls=strk_transfer(market.owner[0], ONE), auto_estimate=True)
    receipt = await market.client().wait_for_tx(
        sent.transaction_hash, check_interval=POLL, retries=RETRIES
    )
    assert receipt.execution_status == TransactionExecutionStatus.SUCCEEDED


async def test_reorg_with_abort_blocks(market: Market) -> None:
    owner = market.account(market.owner)
    client = market.client()
    before = await client.get_block_number()
    sent = await owner.execute_v3(calls=strk_transfer(market.user[0], 7), resource_bounds=GENEROUS)
    receipt = await client.wait_for_tx(sent.transaction_hash, check_interval=POLL, retries=RETRIES)
    nonce = await owner.get_nonce()
    aborted = await devnet_call(
        market.url, "devnet_abortBlocks", {"starting_block_id": {"block_number": before + 1}}
    )
    assert aborted["aborted"] == [hex(receipt.block_hash or 0)]
    assert await client.get_block_number() == before
    assert await owner.get_nonce() == nonce - 1
    with pytest.raises(ClientError) as gone:
        await client.get_transaction_receipt(sent.transaction_hash)
    assert gone.value.code == 29


async def test_dump_and_load(market: Market, tmp_path: Path) -> None:
    dump_file = tmp_path / "devnet.json"
    await devnet_call(market.url, "devnet_dump", {"path": str(dump_file)})
    assert dump_file.stat().st_size > 0
    client = market.client()
    latest = await client.get_block_with_tx_hashes(block_number="latest")
    assert isinstance(latest, StarknetBlockWithTxHashes)
    settings = DevnetSettings(port=0, seed=7, accounts=2, load_path=dump_file)
    loaded = await asyncio.to_thread(start_in_thread, serve_real_devnet(settings))
    try:
        copy = FullNodeClient(node_url=f"{loaded.url}/rpc")
        same = await copy.get_block_with_tx_hashes(block_number="latest")
        assert isinstance(same, StarknetBlockWithTxHashes)
        assert (same.block_hash, same.block_number) == (latest.block_hash, latest.block_number)
        (task,) = await market.escrow.functions["get_task"].call(task_id=1)
        selector = get_selector_from_name("get_task_count")
        on_copy = await copy.call_contract(Call(market.escrow.address, selector, []))
        on_original = await client.call_contract(Call(market.escrow.address, selector, []))
        assert on_copy == on_original
        receipt = await copy.get_transaction_receipt(market.task_tx)
        assert receipt.block_number == market.task_block
        assert task["creator"] == market.user[0]
    finally:
        await asyncio.to_thread(loaded.stop)
