"""The core event decoder against starknet-py's ABI serializers, for every event we emit.

starknet-py is the reference: random values of each event's members are serialized by its ABI v2
serializers into keys and data, and ``EventDecoder`` must give back exactly those values.
"""

import keyword
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starknet_py.abi.v2.parser import AbiParser
from starknet_py.cairo.data_types import (
    ArrayType,
    BoolType,
    CairoType,
    EventType,
    FeltType,
    StructType,
    UintType,
)
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.serialization.factory import serializer_for_payload

from smainer.artifacts import load_contract
from smainer.events import EventDecodeError, EventDecoder

CONTRACTS = ("Escrow", "Token", "Account", "UniversalDeployer")


def _strategy(cairo_type: CairoType) -> st.SearchStrategy[Any]:
    if isinstance(cairo_type, FeltType):
        return st.integers(0, 2**251)
    if isinstance(cairo_type, BoolType):
        return st.booleans()
    if isinstance(cairo_type, UintType):
        return st.integers(0, 2**cairo_type.bits - 1)
    if isinstance(cairo_type, ArrayType):
        return st.lists(_strategy(cairo_type.inner_type), max_size=6)
    if isinstance(cairo_type, StructType):
        return st.fixed_dictionaries({n: _strategy(t) for n, t in cairo_type.types.items()})
    raise NotImplementedError(cairo_type)


def _events() -> list[tuple[str, str, Any]]:
    found = []
    for contract in CONTRACTS:
        abi = AbiParser(load_contract(contract).abi).parse()
        for event in abi.events.values():
            if not any(isinstance(t, EventType) for t in event.types.values()):
                found.append((contract, str(event.name).rsplit("::", 1)[-1], event))
    return found


EVENTS = _events()


def _plain(value: Any) -> Any:
    if isinstance(value, (dict, OrderedDict)):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_every_emitted_event_is_covered():
    names = {(c, n) for c, n, _ in EVENTS}
    assert ("Escrow", "TaskCreated") in names
    assert ("Token", "Transfer") in names
    assert len(EVENTS) >= 20
    for contract in CONTRACTS:
        decoder = EventDecoder(load_contract(contract).abi)
        assert sorted(decoder.names) == sorted(n for c, n, _ in EVENTS if c == contract)


@pytest.mark.parametrize(("contract", "name", "event"), EVENTS, ids=[n for _, n, _ in EVENTS])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_decodes_like_starknet_py(contract, name, event, data):
    key_types = OrderedDict((n, t) for n, t in event.types.items() if n in event.keys)
    data_types = OrderedDict((n, t) for n, t in event.types.items() if n not in event.keys)
    values = data.draw(st.fixed_dictionaries({n: _strategy(t) for n, t in event.types.items()}))
    keys = [
        get_selector_from_name(name),
        *serializer_for_payload(key_types).serialize({n: values[n] for n in key_types}),
    ]
    felts = list(serializer_for_payload(data_types).serialize({n: values[n] for n in data_types}))

    decoded = EventDecoder(load_contract(contract).abi).decode(keys, felts)

    assert decoded.name == name
    assert list(decoded.values) == list(event.types)  # ABI order, keys and data interleaved
    assert _plain(decoded.values) == _plain(values)
    if any(keyword.iskeyword(n) for n in event.types):
        return  # starknet-py cannot deserialize a member named `from` (a namedtuple field)
    reference = {
        **serializer_for_payload(key_types).deserialize(keys[1:]).as_dict(),
        **serializer_for_payload(data_types).deserialize(felts).as_dict(),
    }
    assert _plain(decoded.values) == _plain(reference)


def test_u256_and_bool_come_out_as_python_values():
    decoder = EventDecoder(load_contract("Token").abi)
    event = decoder.decode([decoder.selector("Transfer"), 0xA, 0xB], [5, 1])
    assert event.values == {"from": 0xA, "to": 0xB, "value": 5 + 2**128}
    registered = EventDecoder(load_contract("Escrow").abi).decode(
        [get_selector_from_name("NodeRegistered"), 0xD], [3, 1, 8, 16, 1700]
    )
    assert registered.values["gpu"] is True


@pytest.mark.parametrize(
    ("keys", "data", "message"),
    [
        ([get_selector_from_name("Transfer"), 0xA], [5, 0], "too few felts"),
        ([get_selector_from_name("Transfer"), 0xA, 0xB], [5], "too few felts"),
        ([get_selector_from_name("Transfer"), 0xA, 0xB, 0xC], [5, 0], "more felts"),
        ([get_selector_from_name("Transfer"), 0xA, 0xB], [5, 0, 0], "more felts"),
        ([get_selector_from_name("TaskCreated"), 1, 2], [], "unknown event selector"),
        ([], [], "unknown event selector"),
        ([get_selector_from_name("Transfer"), 0xA, 0xB], [2**128, 0], "u256 half"),
        ([get_selector_from_name("Transfer"), 0xA, 0xB], [0, 2**128], "u256 half"),
    ],
)
def test_foreign_or_corrupt_events_are_refused(keys, data, message):
    decoder = EventDecoder(load_contract("Token").abi)
    with pytest.raises(EventDecodeError, match=message):
        decoder.decode(keys, data)


def test_bool_other_than_0_or_1_is_refused():
    decoder = EventDecoder(load_contract("Escrow").abi)
    keys = [decoder.selector("NodeRegistered"), 0xD]
    with pytest.raises(EventDecodeError, match="bool felt 2"):
        decoder.decode(keys, [3, 2, 8, 16, 1700])


def test_array_length_past_the_end_is_refused():
    decoder = EventDecoder(load_contract("Escrow").abi)
    keys = [decoder.selector("TaskCompleted"), 1, 2, 3]
    with pytest.raises(EventDecodeError):
        decoder.decode(keys, [0x99, 50, 1, 2])
