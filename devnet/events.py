"""``starknet_getEvents``: the filter, and paging with continuation tokens.

Spec ``EVENT_FILTER``: events from a contract address (or any of a list), whose keys match
position by position (``keys[i]`` lists the accepted values of key ``i``; an empty list accepts
anything, including a missing key), between two blocks. Results come in chunks of at most
``chunk_size`` (at most :data:`MAX_CHUNK_SIZE`, else spec error 31). A continuation token names
the position of the next event to look at, ``"<block>-<tx index>-<event index>"``: it stays
valid while blocks are added, and a malformed or out-of-range one is spec error 33. Without
``from_block`` the search starts at genesis; without ``to_block`` it ends at ``latest`` (pass
``pre_confirmed`` to include the block being built).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from devnet.errors import (
    InvalidContinuationTokenError,
    PageSizeTooBigError,
    TooManyKeysInFilterError,
)
from devnet.models import EmittedEvent
from devnet.rejections import reject
from smainer.engine import Event

__all__ = [
    "MAX_CHUNK_SIZE",
    "MAX_FILTER_KEYS",
    "EventFilter",
    "Position",
    "check_chunk_size",
    "decode_token",
    "encode_token",
    "take_page",
]

MAX_CHUNK_SIZE = 1000
"""Largest ``chunk_size`` served (pathfinder and starknet-devnet use the same order)."""

MAX_FILTER_KEYS = 1024
"""Most key values a filter may list in total (spec error 34 beyond)."""

Position = tuple[int, int, int]
"""(block number, transaction index, event index)."""


@dataclass(frozen=True)
class EventFilter:
    """Which events match: emitter in ``addresses`` (any if ``None``) and keys by position."""

    addresses: frozenset[int] | None = None
    keys: tuple[frozenset[int], ...] = ()

    def __post_init__(self) -> None:
        if sum(len(position) for position in self.keys) > MAX_FILTER_KEYS:
            raise reject(TooManyKeysInFilterError, f"at most {MAX_FILTER_KEYS} keys in a filter")

    def matches(self, event: Event) -> bool:
        if self.addresses is not None and event.from_address not in self.addresses:
            return False
        for index, accepted in enumerate(self.keys):
            if not accepted:
                continue
            if index >= len(event.keys) or event.keys[index] not in accepted:
                return False
        return True


def encode_token(position: Position) -> str:
    return "-".join(str(part) for part in position)


_TOKEN = re.compile(r"([0-9]{1,20})-([0-9]{1,20})-([0-9]{1,20})", re.ASCII)
"""ASCII digits only (``str.isdigit`` and ``int`` also take other scripts' digits), and short
enough that ``int`` never meets Python's digit limit."""


def decode_token(token: str) -> Position:
    """Parse a token this devnet issued; anything else is spec error 33."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise reject(InvalidContinuationTokenError, f"malformed token {token[:80]!r}")
    block, tx, event = (int(part) for part in match.groups())
    return block, tx, event


def check_chunk_size(chunk_size: int) -> None:
    if chunk_size > MAX_CHUNK_SIZE:
        raise reject(PageSizeTooBigError, f"chunk_size {chunk_size} > {MAX_CHUNK_SIZE}")


def take_page(
    events: Iterable[tuple[Position, EmittedEvent]], event_filter: EventFilter, chunk_size: int
) -> tuple[list[EmittedEvent], str | None]:
    """The first ``chunk_size`` matches of ``events`` (in chain order), and the next token."""
    page: list[EmittedEvent] = []
    iterator: Iterator[tuple[Position, EmittedEvent]] = iter(events)
    for position, emitted in iterator:
        if not event_filter.matches(emitted.event):
            continue
        if len(page) == chunk_size:
            return page, encode_token(position)
        page.append(emitted)
    return page, None
