"""Account impersonation (starknet-devnet's ``devnet_impersonateAccount`` and friends).

starknet-py's own ``Account`` and ``DevnetClient`` talk to a devnet through the real JSON-RPC
layer (:mod:`devnet.inprocess`): an account holding a WRONG key is refused, accepted while
impersonated (its ``__validate*__`` is skipped), and refused again once impersonation stops;
nonce and balance checks stay on throughout.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starknet_py.hash.address import compute_address
from starknet_py.net.account.account import Account
from starknet_py.net.client_errors import ClientError
from starknet_py.net.client_models import ResourceBounds, ResourceBoundsMapping
from starknet_py.net.signer.key_pair import KeyPair

from devnet.inprocess import in_process_client, in_process_devnet_client
from devnet.state import Devnet
from smainer.artifacts import load_contract
from tests.devnet.test_node_helpers import (
    BOUNDS,
    INITIAL,
    ONE_STRK,
    PRICE,
    chain_state,
    make_devnet,
    rpc,
    rpc_error,
    strk_balance,
    transfer_call,
)

WRONG_KEY = KeyPair.from_private_key(0xBAD5EED)


def impostor(devnet: Devnet, address: int) -> Account:
    """starknet-py's Account for ``address``, signing with a key that is not the account's."""
    return Account(
        address=address,
        client=in_process_client(devnet),
        key_pair=WRONG_KEY,
        chain=devnet.chain_id,
    )


def code_of(call: Any) -> int:
    """The JSON-RPC error code starknet-py raises for ``call`` (a coroutine)."""
    with pytest.raises(ClientError) as info:
        asyncio.run(call)
    code = info.value.code
    assert code is not None, info.value
    return int(code)


def nonce_of(devnet: Devnet, address: int) -> int:
    return int(rpc(devnet, "starknet_getNonce", ["latest", hex(address)]), 16)


def test_an_impersonated_account_sends_without_its_key():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    account = impostor(devnet, alice.address)
    control = in_process_devnet_client(devnet)
    call = transfer_call(devnet, bob.address, 5)

    def send(**options: Any) -> Any:
        return account.execute_v3(calls=call, resource_bounds=BOUNDS, **options)

    assert code_of(send()) == 55  # the wrong key fails __validate__
    asyncio.run(control.impersonate_account(alice.address))
    assert rpc(devnet, "devnet_getStatus")["impersonated_accounts"] == [hex(alice.address)]
    sent = asyncio.run(send())
    receipt = rpc(devnet, "starknet_getTransactionReceipt", [hex(sent.transaction_hash)])
    assert receipt["execution_status"] == "SUCCEEDED"
    assert strk_balance(devnet, bob.address) == INITIAL + 5
    trace = rpc(devnet, "starknet_traceTransaction", [hex(sent.transaction_hash)])
    assert "validate_invocation" not in trace  # __validate__ did not run
    # Estimates skip validation too, as starknet-devnet's do: starknet-py's own estimate works.
    estimated = asyncio.run(account.execute_v3(calls=call, auto_estimate=True))
    assert nonce_of(devnet, alice.address) == 2
    assert estimated.transaction_hash != sent.transaction_hash
    # The nonce and the balance are still checked.
    assert code_of(send(nonce=5)) == 52  # ahead of the account's nonce
    too_much = ResourceBoundsMapping(
        l1_gas=BOUNDS.l1_gas,
        l1_data_gas=BOUNDS.l1_data_gas,
        l2_gas=ResourceBounds(max_amount=10**12, max_price_per_unit=2 * PRICE),
    )
    assert code_of(account.execute_v3(calls=call, resource_bounds=too_much)) == 54
    asyncio.run(control.stop_impersonate_account(alice.address))
    assert code_of(send()) == 55
    assert nonce_of(devnet, alice.address) == 2
    # Stopping an address that is not impersonated changes nothing (as in starknet-devnet).
    asyncio.run(control.stop_impersonate_account(bob.address))
    assert rpc(devnet, "devnet_getStatus")["impersonated_accounts"] == []


def test_auto_impersonation_covers_every_sender():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    control = in_process_devnet_client(devnet)
    call = transfer_call(devnet, alice.address, 1)
    accounts = [impostor(devnet, alice.address), impostor(devnet, bob.address)]
    asyncio.run(control.auto_impersonate())
    assert rpc(devnet, "devnet_getStatus")["auto_impersonate"] is True
    for account in accounts:
        asyncio.run(account.execute_v3(calls=call, resource_bounds=BOUNDS))
    assert nonce_of(devnet, alice.address) == nonce_of(devnet, bob.address) == 1
    asyncio.run(control.stop_auto_impersonate())
    assert rpc(devnet, "devnet_getStatus")["auto_impersonate"] is False
    for account in accounts:
        assert code_of(account.execute_v3(calls=call, resource_bounds=BOUNDS)) == 55


def test_impersonated_declare_and_deploy_account_skip_validation():
    devnet = make_devnet(accounts=1)
    alice = devnet.predeployed_accounts[0]
    account = impostor(devnet, alice.address)
    escrow = load_contract("Escrow")
    bounds = ResourceBoundsMapping(
        l1_gas=BOUNDS.l1_gas,
        l1_data_gas=BOUNDS.l1_data_gas,
        l2_gas=ResourceBounds(max_amount=10**9, max_price_per_unit=2 * PRICE),
    )

    def declare() -> Any:
        return account.sign_declare_v3(
            json.dumps(escrow.sierra), escrow.compiled_class_hash, nonce=0, resource_bounds=bounds
        )

    declare_tx = asyncio.run(declare())
    client = in_process_client(devnet)
    assert code_of(client.declare(declare_tx)) == 55  # refused before compiling
    rpc(devnet, "devnet_impersonateAccount", {"account_address": hex(alice.address)})
    declared = asyncio.run(client.declare(declare_tx))
    assert declared.class_hash == escrow.class_hash

    # A deploy-account signed by a key that is not the one its constructor sets.
    real = KeyPair.from_private_key(0xC0FFEE)
    address = compute_address(
        class_hash=devnet.account_class_hash, constructor_calldata=[real.public_key], salt=7
    )
    rpc(devnet, "devnet_mint", {"address": hex(address), "amount": ONE_STRK})
    newcomer = impostor(devnet, address)

    def deploy() -> Any:
        return newcomer.sign_deploy_account_v3(
            devnet.account_class_hash,
            7,
            constructor_calldata=[real.public_key],
            resource_bounds=BOUNDS,
        )

    deploy_tx = asyncio.run(deploy())
    assert code_of(client.deploy_account(deploy_tx)) == 55
    rpc(devnet, "devnet_impersonateAccount", [hex(address)])
    deployed = asyncio.run(client.deploy_account(deploy_tx))
    assert deployed.address == address
    assert rpc(devnet, "starknet_getClassHashAt", ["latest", hex(address)]) == hex(
        devnet.account_class_hash
    )


def test_bad_impersonation_params_change_nothing():
    devnet = make_devnet(accounts=1)
    before = chain_state(devnet), rpc(devnet, "devnet_getStatus")
    for method, params in [
        ("devnet_impersonateAccount", {}),
        ("devnet_impersonateAccount", {"account_address": 5}),
        ("devnet_impersonateAccount", {"account_address": "0xZZ"}),
        ("devnet_impersonateAccount", {"account_address": "0x1", "extra": 1}),
        ("devnet_stopImpersonateAccount", {"address": "0x1"}),
        ("devnet_autoImpersonate", {"on": True}),
        ("devnet_stopAutoImpersonate", [True]),
        ("devnet_getStatus", {"verbose": True}),
    ]:
        assert rpc_error(devnet, method, params).code == -32602, (method, params)
    assert (chain_state(devnet), rpc(devnet, "devnet_getStatus")) == before
