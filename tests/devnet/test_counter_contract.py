"""The shipped Counter artifact on ``smainer devnet`` through starknet-py, as the benchmark uses it.

``scripts/bench_devnet.py`` declares and deploys the Counter on each devnet it measures, invokes
``increase(1)`` and finally reads ``get`` to prove every invoke ran; this is that path with a
dApp developer's tools: the committed Sierra declared as is, a UDC deploy, invokes from two
accounts, the value read back, and the ``Increased`` events found by ``starknet_getEvents``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest
from starknet_py.contract import Contract
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.account.account import Account
from starknet_py.net.client_models import TransactionExecutionStatus
from starknet_py.net.full_node_client import FullNodeClient

from smainer.artifacts import load_contract
from smainer.network.accounts import predeployed_accounts, signing_account
from tests.devnet.conftest import RunningServer

POLL = 0.05
"""starknet-py polls every 2 s by default; the devnet mines at once."""
RETRIES = 2000
INCREASED = get_selector_from_name("Increased")


@dataclass
class Deployed:
    """The counter on the session devnet, and the two accounts that invoke it."""

    client: FullNodeClient
    counter: Contract
    """Bound to ``first``."""
    first: Account
    second: Account
    declared_class_hash: int


async def _deploy(url: str) -> Deployed:
    client = FullNodeClient(node_url=f"{url}/rpc")
    chain_id = await client.get_chain_id()
    accounts = await predeployed_accounts(f"{url}/rpc")
    assert accounts is not None
    # Accounts 2 and 3: the other devnet tests send from 0 and 1, whose nonces stay theirs.
    first, second = (
        signing_account(a["address"], int(a["private_key"], 16), client, int(chain_id, 16))
        for a in accounts[2:4]
    )
    artifact = load_contract("Counter")
    declare = await Contract.declare_v3(
        account=first,
        compiled_contract=json.dumps(artifact.sierra),
        compiled_class_hash=artifact.compiled_class_hash,
        auto_estimate=True,
    )
    await declare.wait_for_acceptance(check_interval=POLL, retries=RETRIES)
    deploy = await declare.deploy_v3(auto_estimate=True)
    await deploy.wait_for_acceptance(check_interval=POLL, retries=RETRIES)
    return Deployed(client, deploy.deployed_contract, first, second, declare.class_hash)


@pytest.fixture(scope="module")
def deployed(devnet_server: RunningServer) -> Deployed:
    return asyncio.run(_deploy(devnet_server.url))


async def _increase(deployed: Deployed, account: Account, amount: int) -> int:
    """Send ``increase(amount)`` from ``account``; its transaction hash once it succeeded."""
    call = deployed.counter.functions["increase"].prepare_invoke_v3(amount=amount)
    sent = await account.execute_v3(calls=call, auto_estimate=True)
    receipt = await deployed.client.wait_for_tx(
        sent.transaction_hash, check_interval=POLL, retries=RETRIES
    )
    assert receipt.execution_status == TransactionExecutionStatus.SUCCEEDED
    return sent.transaction_hash


async def test_counter_counts_and_its_events_say_so(deployed: Deployed) -> None:
    artifact = load_contract("Counter")
    assert deployed.declared_class_hash == artifact.class_hash
    assert await deployed.client.get_class_hash_at(deployed.counter.address) == artifact.class_hash
    (start,) = await deployed.counter.functions["get"].call()
    assert start == 0

    sent = [
        (await _increase(deployed, deployed.first, 2), deployed.first.address, 2, 2),
        (await _increase(deployed, deployed.second, 1), deployed.second.address, 1, 3),
        (await _increase(deployed, deployed.first, 40), deployed.first.address, 40, 43),
    ]
    (value,) = await deployed.counter.functions["get"].call()
    assert value == 43

    # Receipt events: keys [selector, caller], data [amount, value after].
    for tx_hash, caller, amount, after in sent:
        receipt = await deployed.client.get_transaction_receipt(tx_hash)
        ours = [e for e in receipt.events if e.from_address == deployed.counter.address]
        assert [(e.keys, e.data) for e in ours] == [([INCREASED, caller], [amount, after])]

    # starknet_getEvents filters them by emitter and by caller key, in order.
    everyone = await deployed.client.get_events(
        address=deployed.counter.address, keys=[[INCREASED]], from_block_number=0, chunk_size=10
    )
    assert [e.transaction_hash for e in everyone.events] == [tx for tx, *_ in sent]
    by_second = await deployed.client.get_events(
        address=deployed.counter.address,
        keys=[[INCREASED], [deployed.second.address]],
        from_block_number=0,
        chunk_size=10,
    )
    assert [(e.transaction_hash, e.data) for e in by_second.events] == [(sent[1][0], [1, 3])]
