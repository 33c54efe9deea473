"""``devnet.codec`` alone: felts held to the spec's pattern, and JSON -> record -> JSON round trips
of block ids and broadcasted transactions (hypothesis), hashes agreeing with starknet-py's."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starknet_py.hash.address import compute_address

from devnet.codec import (
    FIELD_PRIME,
    BlockId,
    bounded,
    check_class_limits,
    contract_class_json,
    felt,
    parse_block_id,
    parse_broadcasted,
    transaction_json,
)
from devnet.errors import (
    ContractClassSizeTooLargeError,
    InvalidParamsError,
    UnsupportedContractClassVersionError,
)
from devnet.models import DeclareTransaction, DeployAccountTransaction, InvokeTransaction
from smainer.artifacts import load_contract

SPEC_FELT = re.compile(r"0x(0|[a-fA-F1-9][a-fA-F0-9]{0,62})")
CHAIN_ID = int.from_bytes(b"SN_SEPOLIA", "big")

felts = st.integers(min_value=0, max_value=FIELD_PRIME - 1)
hex_felts = felts.map(hex)


def u(bits: int) -> st.SearchStrategy[str]:
    return st.integers(min_value=0, max_value=2**bits - 1).map(hex)


@given(felts)
def test_felt_round_trip(number: int) -> None:
    assert felt(hex(number), "x") == number
    assert SPEC_FELT.fullmatch(hex(number))


@given(st.text(max_size=70))
def test_felt_takes_only_ascii_hex(text: str) -> None:
    """Any string that is not ``0x`` and 1-64 ASCII hex digits is refused (no ``int`` leniency:
    other scripts' digits, underscores, spaces)."""
    ok = re.fullmatch(r"0x[0-9a-fA-F]{1,64}", text, re.ASCII) is not None
    if ok and int(text, 16) < FIELD_PRIME:
        assert felt(text, "x") == int(text, 16)
    else:
        with pytest.raises(InvalidParamsError):
            felt(text, "x")


@pytest.mark.parametrize("value", [5, 0, True, 1.0, None, [], "0x1 ", "0x\u0661", "0x1_0", "0X1"])
def test_felt_refuses_what_is_not_a_felt_string(value: Any) -> None:
    with pytest.raises(InvalidParamsError):
        felt(value, "x")


@given(st.integers(min_value=0, max_value=2**130))
def test_bounded(number: int) -> None:
    if number < 2**64:
        assert bounded(hex(number), "x", 64) == number
    else:
        with pytest.raises(InvalidParamsError):
            bounded(hex(number), "x", 64)


block_ids = st.one_of(
    st.sampled_from(["latest", "pre_confirmed", "l1_accepted"]),
    st.builds(lambda n: {"block_number": n}, st.integers(min_value=0, max_value=2**64)),
    st.builds(lambda h: {"block_hash": h}, hex_felts),
)


def render_block_id(block_id: BlockId) -> Any:
    if block_id.tag is not None:
        return block_id.tag
    if block_id.number is not None:
        return {"block_number": block_id.number}
    return {"block_hash": hex(block_id.hash or 0)}


@given(block_ids)
def test_block_id_round_trip(raw: Any) -> None:
    assert render_block_id(parse_block_id(raw)) == raw


def bound() -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({"max_amount": u(64), "max_price_per_unit": u(128)})


common = {
    "version": st.sampled_from(["0x3", hex(2**128 + 3)]),
    "signature": st.lists(hex_felts, max_size=3),
    "nonce": hex_felts,
    "resource_bounds": st.fixed_dictionaries(
        {"l1_gas": bound(), "l1_data_gas": bound(), "l2_gas": bound()}
    ),
    "tip": u(64),
    "paymaster_data": st.lists(hex_felts, max_size=2),
    "nonce_data_availability_mode": st.sampled_from(["L1", "L2"]),
    "fee_data_availability_mode": st.sampled_from(["L1", "L2"]),
}

invokes = st.fixed_dictionaries(
    {
        "type": st.just("INVOKE"),
        "sender_address": hex_felts,
        "calldata": st.lists(hex_felts, max_size=5),
        "account_deployment_data": st.lists(hex_felts, max_size=2),
        **common,
    }
)
deploy_accounts = st.fixed_dictionaries(
    {
        "type": st.just("DEPLOY_ACCOUNT"),
        "class_hash": hex_felts,
        "contract_address_salt": hex_felts,
        "constructor_calldata": st.lists(hex_felts, max_size=4),
        **common,
    }
)
UDC_CLASS = contract_class_json(load_contract("UniversalDeployer").sierra)
declares = st.fixed_dictionaries(
    {
        "type": st.just("DECLARE"),
        "sender_address": hex_felts,
        "compiled_class_hash": hex_felts,
        "account_deployment_data": st.lists(hex_felts, max_size=2),
        "contract_class": st.just(UDC_CLASS),
        **common,
    }
)


@settings(max_examples=60)
@given(st.one_of(invokes, deploy_accounts, declares))
def test_broadcasted_transaction_round_trip(wire: dict[str, Any]) -> None:
    """Parse, render, parse again: the same record and hash, and the rendering is the input."""
    parsed = parse_broadcasted(wire, CHAIN_ID)
    tx = parsed.tx
    rendered = transaction_json(tx, with_hash=False)
    expected = {key: value for key, value in wire.items() if key != "contract_class"}
    if isinstance(tx, DeclareTransaction):  # stored by class hash, starknet-py's
        expected["class_hash"] = hex(load_contract("UniversalDeployer").class_hash)
    assert rendered == expected
    again = rendered if parsed.contract_class is None else {**rendered, "contract_class": UDC_CLASS}
    assert parse_broadcasted(again, CHAIN_ID).tx == tx
    if isinstance(tx, DeployAccountTransaction):
        assert tx.contract_address == compute_address(
            class_hash=tx.class_hash,
            constructor_calldata=list(tx.constructor_calldata),
            salt=tx.contract_address_salt,
            deployer_address=0,
        )
    else:
        assert isinstance(tx, InvokeTransaction | DeclareTransaction)


def test_hash_depends_on_the_chain() -> None:
    wire = {
        "type": "INVOKE",
        "version": "0x3",
        "sender_address": "0x1",
        "calldata": [],
        "signature": [],
        "nonce": "0x0",
        "resource_bounds": {},
    }
    one = parse_broadcasted(wire, CHAIN_ID).tx.transaction_hash
    other = parse_broadcasted(wire, CHAIN_ID + 1).tx.transaction_hash
    assert one != other


def test_class_limits() -> None:
    check_class_limits(UDC_CLASS)
    with pytest.raises(UnsupportedContractClassVersionError):
        check_class_limits({**UDC_CLASS, "contract_class_version": "9.9.9"})
    with pytest.raises(ContractClassSizeTooLargeError):
        check_class_limits({**UDC_CLASS, "sierra_program": ["0x1"] * 81_921})
    with pytest.raises(InvalidParamsError):
        check_class_limits({**UDC_CLASS, "sierra_program": "0x1"})
