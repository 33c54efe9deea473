import pytest
from hypothesis import given
from hypothesis import strategies as st

from smainer.payload import (
    MAX_PAYLOAD_BYTES,
    PayloadError,
    decode_json,
    encode_json,
    pack_bytes,
    unpack_bytes,
)

FELT_PRIME = 2**251 + 17 * 2**192 + 1

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.binary(max_size=MAX_PAYLOAD_BYTES))
def test_bytes_round_trip_and_layout(data):
    felts = pack_bytes(data)
    assert felts[0] == len(data)
    assert len(felts) - 1 == -(-len(data) // 31)
    assert all(0 <= f < FELT_PRIME for f in felts)
    assert unpack_bytes(felts) == data


@given(json_values)
def test_json_round_trip(value):
    try:
        felts = encode_json(value)
    except PayloadError:
        return
    assert decode_json(felts) == value


def test_matrix_payload_example():
    payload = {"algorithm": "matrix_multiplication", "matrix_a": [[1, 2], [3, 4]]}
    felts = encode_json(payload)
    assert felts[0] == len(b'{"algorithm":"matrix_multiplication","matrix_a":[[1,2],[3,4]]}')
    assert decode_json(felts) == payload


def test_leading_zero_bytes_survive():
    assert unpack_bytes(pack_bytes(b"\x00\x00a")) == b"\x00\x00a"


def test_too_large_is_refused_with_the_bound():
    with pytest.raises(PayloadError, match=str(MAX_PAYLOAD_BYTES)):
        pack_bytes(b"x" * (MAX_PAYLOAD_BYTES + 1))


@pytest.mark.parametrize(
    "felts",
    [[], [5], [31, 1, 2], [2, 2**16], [3, 2**200]],
    ids=["empty", "missing-word", "extra-word", "word-too-big", "last-word-too-big"],
)
def test_malformed_felts_are_rejected(felts):
    with pytest.raises(PayloadError):
        unpack_bytes(felts)


def test_non_json_bytes_are_rejected():
    with pytest.raises(PayloadError, match="not UTF-8 JSON"):
        decode_json(pack_bytes(b"\xff\xfe"))
