"""The fast signer makes exactly starknet-py's signatures (starknet-py's own code is the oracle)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from crypto_cpp_py.cpp_bindings import cpp_get_public_key
from hypothesis import given, settings
from hypothesis import strategies as st
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.hash.utils import message_signature, verify_message_signature
from starknet_py.net.client_models import Call, ResourceBounds, ResourceBoundsMapping
from starknet_py.net.models.transaction import InvokeV3
from starknet_py.net.signer.key_pair import KeyPair
from starknet_py.net.signer.stark_curve_signer import StarkCurveSigner
from starknet_py.utils.typed_data import TypedData
from starkware.crypto.signature import signature as cairo_signature

from smainer.network import signer

keys = st.integers(min_value=1, max_value=signer.EC_ORDER - 1)
messages = st.integers(min_value=0, max_value=2**251 - 1)


def _outcome(function: Callable[..., object], *args: int) -> object:
    """The result, or the type of the exception raised (for 0, both signers raise)."""
    try:
        return function(*args)
    except Exception as exc:
        return type(exc)


def test_curve_is_cairo_langs() -> None:
    assert signer.FIELD_PRIME == cairo_signature.FIELD_PRIME
    assert signer.EC_ORDER == cairo_signature.EC_ORDER
    assert (signer.ALPHA, signer.BETA) == (cairo_signature.ALPHA, cairo_signature.BETA)
    assert tuple(cairo_signature.EC_GEN) == signer.EC_GEN


# starknet-py's own signature takes ~0.2 s here: a handful of random cases per run.
@settings(max_examples=6, deadline=None)
@given(keys, messages)
def test_signatures_are_starknet_pys(key: int, message: int) -> None:
    fast = _outcome(signer.sign, message, key)
    assert fast == _outcome(message_signature, message, key)
    assert signer.public_key(key) == cpp_get_public_key(key)
    if isinstance(fast, tuple):
        assert verify_message_signature(message, list(fast), signer.public_key(key))


@pytest.mark.parametrize("message", [0, 1, 2**251 - 1, 2**250 + 12345, 0x1234 << 236])
def test_edge_messages(message: int) -> None:
    # 0x1234 << 236 is 249 bits: the RFC 6979 nibble-padding branch; 0 raises in both.
    key = 0xC0FFEE
    assert _outcome(signer.sign, message, key) == _outcome(message_signature, message, key)


def test_out_of_range_message_is_refused_like_crypto_cpp() -> None:
    with pytest.raises(ValueError, match="z is too big"):
        message_signature(2**251, 0xC0FFEE)
    with pytest.raises(ValueError, match="message hash out of range"):
        signer.sign(2**251, 0xC0FFEE)


def _invoke() -> InvokeV3:
    bound = ResourceBounds(max_amount=10**6, max_price_per_unit=10**9)
    call = Call(to_addr=0x1234, selector=get_selector_from_name("transfer"), calldata=[1, 2, 3])
    return InvokeV3(
        version=3,
        signature=[],
        nonce=7,
        tip=5,
        resource_bounds=ResourceBoundsMapping(l1_gas=bound, l2_gas=bound, l1_data_gas=bound),
        calldata=[1, call.to_addr, call.selector, 3, *call.calldata],
        sender_address=0xABCDEF,
    )


def test_signer_signs_transactions_and_messages_as_starknet_py() -> None:
    key_pair = KeyPair.from_private_key(0x5EED)
    stock = StarkCurveSigner(0xABCDEF, key_pair, 0x534E5F5345504F4C4941)
    fast = signer.FastStarkSigner(0xABCDEF, signer.fast_key_pair(0x5EED), 0x534E5F5345504F4C4941)
    assert fast.public_key == stock.public_key
    assert fast.sign_transaction(_invoke()) == stock.sign_transaction(_invoke())
    note: Any = {
        "types": {
            "StarkNetDomain": [
                {"name": "name", "type": "felt"},
                {"name": "version", "type": "felt"},
                {"name": "chainId", "type": "felt"},
            ],
            "Note": [{"name": "text", "type": "felt"}],
        },
        "primaryType": "Note",
        "domain": {"name": "smainer", "version": "1", "chainId": "SN_SEPOLIA"},
        "message": {"text": "hello"},
    }
    typed = TypedData.from_dict(note)
    assert fast.sign_message(typed, 0xABCDEF) == stock.sign_message(typed, 0xABCDEF)
