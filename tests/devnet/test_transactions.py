"""The v3 transaction flow (:mod:`devnet.transactions`): invoke, declare, deploy-account, and
the rejections that must leave the chain exactly as it was.

Everything runs the real engine (no mocks) and goes through the JSON-RPC handlers where a client
would, so the result shapes are exercised too. Transactions are signed by starknet-py.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
from starknet_py.hash.address import compute_address
from starknet_py.net.account.account import Account
from starknet_py.net.client_models import ResourceBounds, ResourceBoundsMapping
from starknet_py.net.client_utils import _create_broadcasted_txn
from starknet_py.net.signer.key_pair import KeyPair

from devnet import compiler
from devnet.inprocess import in_process_client
from devnet.models import PredeployedAccount
from devnet.state import Devnet
from smainer.artifacts import load_contract
from smainer.engine.execution import version_seen_by
from tests.devnet.test_node_helpers import (
    BOUNDS,
    INITIAL,
    ONE_STRK,
    PRICE,
    TRANSFER_EVENT,
    account_of,
    chain_state,
    make_devnet,
    rpc,
    rpc_error,
    send,
    signed_invoke,
    strk_balance,
    transfer_call,
)


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
    before = chain_state(devnet)
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1), signature=[1, 2])
    error = rpc_error(devnet, "starknet_addInvokeTransaction", [wire])
    assert error.code == 55
    assert "INVALID_SIGNATURE" in error.data
    assert chain_state(devnet) == before
    assert rpc(devnet, "starknet_getNonce", ["pre_confirmed", hex(alice.address)]) == "0x0"


def test_wrong_nonce_is_rejected():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    before = chain_state(devnet)
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1), nonce=1)
    error = rpc_error(devnet, "starknet_addInvokeTransaction", [wire])
    assert error.code == 52
    assert chain_state(devnet) == before


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
    before = chain_state(devnet)
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
    assert chain_state(devnet) == before


def test_only_v3_and_no_query_versions_are_accepted():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    wire = signed_invoke(devnet, alice, transfer_call(devnet, bob.address, 1))
    for version in ("0x1", "0x100000000000000000000000000000003"):
        error = rpc_error(devnet, "starknet_addInvokeTransaction", [{**wire, "version": version}])
        assert error.code == 61


def _declare(
    devnet: Devnet,
    sender: PredeployedAccount | Account,
    sierra: dict[str, Any],
    compiled_class_hash: int,
    nonce: int,
    *,
    signature: list[int] | None = None,
) -> dict[str, Any]:
    """A BROADCASTED_DECLARE_TXN signed by starknet-py (its signature replaced if given)."""
    account = sender if isinstance(sender, Account) else account_of(devnet, sender)
    bounds = ResourceBoundsMapping(
        l1_gas=BOUNDS.l1_gas,
        l1_data_gas=BOUNDS.l1_data_gas,
        l2_gas=ResourceBounds(max_amount=10**9, max_price_per_unit=2 * PRICE),
    )
    tx = asyncio.run(
        account.sign_declare_v3(
            json.dumps(sierra), compiled_class_hash, nonce=nonce, resource_bounds=bounds
        )
    )
    if signature is not None:
        tx = dataclasses.replace(tx, signature=signature)
    return _create_broadcasted_txn(tx)


def test_declare_checks_the_compiled_class_hash():
    devnet = make_devnet()
    alice = devnet.predeployed_accounts[0]
    escrow = load_contract("Escrow")
    receipt = send(devnet, _declare(devnet, alice, escrow.sierra, escrow.compiled_class_hash, 0))
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
    account_class = load_contract("Account")  # declared at genesis
    again = _declare(devnet, alice, account_class.sierra, account_class.compiled_class_hash, 1)
    assert rpc_error(devnet, "starknet_addDeclareTransaction", [again]).code == 51
    # The accepted class stays compiled: on another chain, a declare of it committing to a
    # wrong hash is refused (60) without compiling again.
    compiled = compiler.compilations()
    other = make_devnet(accounts=1)
    sender = other.predeployed_accounts[0]
    wrong = _declare(other, sender, escrow.sierra, 0x1234, 0)
    assert rpc_error(other, "starknet_addDeclareTransaction", [wrong]).code == 60
    assert compiler.compilations() == compiled
    assert rpc(other, "starknet_getNonce", ["latest", hex(sender.address)]) == "0x0"
    # Older clients commit to the Poseidon hash of the CASM: accepted too.
    assert compiler.compile_class(escrow.class_hash, escrow.sierra).matches(
        escrow.compiled_class_hash_poseidon
    )


def test_a_rejected_declare_compiles_nothing():
    """Sender, nonce, fee and signature are checked before the seconds-long compilation, and a
    rejected class is not kept."""
    devnet = make_devnet()
    alice = devnet.predeployed_accounts[0]
    # A class no test declared: its ABI differs, so its class hash does.
    sierra = copy.deepcopy(load_contract("Escrow").sierra)
    sierra["abi"] = [*sierra["abi"], {"type": "interface", "name": "test::Unique", "items": []}]
    compiled = compiler.compilations()
    before = chain_state(devnet)
    stranger = Account(
        address=0x1234,
        client=in_process_client(devnet),
        key_pair=KeyPair.from_private_key(0xBAD),
        chain=devnet.chain_id,
    )
    cases = [
        (_declare(devnet, alice, sierra, 1, 0, signature=[1, 2]), 55),  # bad signature
        (_declare(devnet, stranger, sierra, 1, 0), 55),  # no account at the sender
        (_declare(devnet, alice, sierra, 1, 5), 52),  # nonce ahead
    ]
    for wire, code in cases:
        assert rpc_error(devnet, "starknet_addDeclareTransaction", [wire]).code == code
    assert compiler.compilations() == compiled
    assert chain_state(devnet) == before


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


# v1-bound accounts.

OZ_080_ACCOUNT = 0x5400E90F7E0AE78BD02C77CD75527280470E2FE19C54970DD79DC37A9D3645C
"""OpenZeppelin's 0.8.0 account class: its ``__execute__`` asserts ``tx_info.version == 1``."""
OZ_080_SIERRA = Path(
    os.environ.get(
        "SMAINER_OZ080_SIERRA", Path(__file__).parent / "data" / "account_oz_080.sierra.json"
    )
)
"""starknet.js's copy of that class (``__mocks__/cairo/account/account_oz_080.sierra.json``)."""


def get_v1_bound_accounts_max_tip() -> int:
    """cairo-lang's ``v1_bound_accounts_max_tip`` (imported once the engine made it importable)."""
    from starkware.starknet.core.os.execution.account_backward_compatibility import (
        get_v1_bound_accounts_max_tip as max_tip,
    )

    return max_tip()


def test_v1_bound_classes_see_v3_as_version_1_below_the_max_tip():
    """The rule of Starknet's OS, with the class list and tip read from cairo-lang's
    ``versioned_constants.json`` (OpenZeppelin's 0.8.0 account is listed there)."""
    max_tip = get_v1_bound_accounts_max_tip()
    query = 2**128
    assert version_seen_by(OZ_080_ACCOUNT, 3, 0) == 1
    assert version_seen_by(OZ_080_ACCOUNT, query + 3, 0) == query + 1
    assert version_seen_by(OZ_080_ACCOUNT, 3, max_tip) == 1
    assert version_seen_by(OZ_080_ACCOUNT, 3, max_tip + 1) == 3
    assert version_seen_by(OZ_080_ACCOUNT, query + 3, max_tip + 1) == query + 3
    ours = load_contract("Account").class_hash
    assert version_seen_by(ours, 3, 0) == 3
    assert version_seen_by(ours, query + 3, 0) == query + 3


@pytest.mark.skipif(not OZ_080_SIERRA.exists(), reason=f"{OZ_080_SIERRA} is not checked in")
def test_an_oz_080_account_estimates_and_executes_v3_transactions():
    """A bulk estimate of its deploy-account then an invoke (``SKIP_VALIDATE``), then both sent:
    without the v1-bound rule its ``__execute__`` reverts with "invalid tx version"; with a tip
    above ``v1_bound_accounts_max_tip`` it does again, as on Starknet."""
    sierra = json.loads(OZ_080_SIERRA.read_text())
    sierra.pop("sierra_program_debug_info", None)
    sierra["abi"] = sierra["abi"] if isinstance(sierra["abi"], str) else json.dumps(sierra["abi"])
    devnet = make_devnet(accounts=1)
    alice = devnet.predeployed_accounts[0]
    compiled = compiler.compile_class(OZ_080_ACCOUNT, sierra)
    send(devnet, _declare(devnet, alice, sierra, compiled.blake2s_hash, 0))
    key = KeyPair.from_private_key(0xC0FFEE)
    address = compute_address(
        class_hash=OZ_080_ACCOUNT, constructor_calldata=[key.public_key], salt=key.public_key
    )
    rpc(devnet, "devnet_mint", {"address": hex(address), "amount": ONE_STRK})
    account = Account(
        address=address, client=in_process_client(devnet), key_pair=key, chain=devnet.chain_id
    )
    account._cairo_version = 1  # type: ignore[assignment]  # not deployed: cannot ask the chain

    async def sign(tip: int, nonce: int) -> Any:
        return await account.sign_invoke_v3(
            calls=transfer_call(devnet, alice.address, 5),
            resource_bounds=BOUNDS,
            nonce=nonce,
            tip=tip,
        )

    deploy = _create_broadcasted_txn(
        asyncio.run(
            account.sign_deploy_account_v3(
                OZ_080_ACCOUNT,
                key.public_key,
                constructor_calldata=[key.public_key],
                resource_bounds=BOUNDS,
            )
        )
    )
    invoke = _create_broadcasted_txn(asyncio.run(sign(0, 1)))
    query = hex(2**128 + 3)
    estimates = rpc(
        devnet,
        "starknet_estimateFee",
        {
            "request": [{**deploy, "version": query}, {**invoke, "version": query}],
            "simulation_flags": ["SKIP_VALIDATE"],
            "block_id": "pre_confirmed",
        },
    )
    assert len(estimates) == 2
    assert send(devnet, deploy)["execution_status"] == "SUCCEEDED"
    assert send(devnet, invoke)["execution_status"] == "SUCCEEDED"
    over = _create_broadcasted_txn(asyncio.run(sign(get_v1_bound_accounts_max_tip() + 1, 2)))
    reverted = send(devnet, over)
    assert reverted["execution_status"] == "REVERTED"
    assert "invalid tx version" in reverted["revert_reason"]
