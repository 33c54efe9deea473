"""``starknet_getEvents`` filtering and paging (:mod:`devnet.events`), on hand-made events."""

from __future__ import annotations

import pytest

from devnet.errors import (
    InvalidContinuationTokenError,
    PageSizeTooBigError,
    TooManyKeysInFilterError,
)
from devnet.events import (
    MAX_CHUNK_SIZE,
    MAX_FILTER_KEYS,
    EventFilter,
    Position,
    check_chunk_size,
    decode_token,
    encode_token,
    take_page,
)
from devnet.models import EmittedEvent
from smainer.engine import Event


def _emitted(block: int, tx: int, index: int, address: int, keys: list[int]) -> EmittedEvent:
    return EmittedEvent(
        event=Event(from_address=address, keys=keys, data=[]),
        transaction_hash=tx,
        transaction_index=tx,
        event_index=index,
        block_number=block,
        block_hash=None,
    )


EVENTS: list[tuple[Position, EmittedEvent]] = [
    ((block, tx, index), _emitted(block, tx, index, address=1 + index % 2, keys=[index, block]))
    for block in range(3)
    for tx in range(2)
    for index in range(3)
]


def test_filters_match_addresses_and_keys_by_position():
    event = Event(from_address=5, keys=[1, 2], data=[])
    assert EventFilter().matches(event)
    assert EventFilter(addresses=frozenset({5, 6})).matches(event)
    assert not EventFilter(addresses=frozenset({6})).matches(event)
    assert EventFilter(keys=(frozenset(), frozenset({2}))).matches(event)  # empty: any key
    assert not EventFilter(keys=(frozenset({2}),)).matches(event)
    assert EventFilter(keys=(frozenset({1}), frozenset(), frozenset())).matches(event)
    assert not EventFilter(keys=(frozenset(), frozenset(), frozenset({0}))).matches(event)
    with pytest.raises(TooManyKeysInFilterError):
        EventFilter(keys=(frozenset(range(MAX_FILTER_KEYS + 1)),))


def test_tokens_round_trip_and_bad_ones_are_error_33():
    assert decode_token(encode_token((12, 3, 4))) == (12, 3, 4)
    for bad in (
        "",
        "1-2",
        "1-2-x",
        "-1-2-3",
        "1-2-3-4",
        "1_2_3",
        "\u0661-\u0662-\u0663",
        "9" * 5000 + "-0-0",
    ):
        with pytest.raises(InvalidContinuationTokenError):
            decode_token(bad)
    check_chunk_size(MAX_CHUNK_SIZE)
    with pytest.raises(PageSizeTooBigError):
        check_chunk_size(MAX_CHUNK_SIZE + 1)


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 100])
def test_pages_cover_every_match_once_in_order(chunk_size: int):
    only_address_one = EventFilter(addresses=frozenset({1}))
    expected = [emitted for _, emitted in EVENTS if emitted.event.from_address == 1]
    seen: list[EmittedEvent] = []
    start: Position = (0, 0, 0)
    while True:
        page, token = take_page(
            (item for item in EVENTS if item[0] >= start), only_address_one, chunk_size
        )
        assert len(page) <= chunk_size
        seen += page
        if token is None:
            break
        start = decode_token(token)
    assert seen == expected
