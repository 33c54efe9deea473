"""Raw events to typed rows, by the contracts' own ABIs through the core decoder.

``smainer.events.EventDecoder`` reads each event by its Sierra ABI (~140k events/s); this module
only routes an event to its contract's decoder by address and flattens the decoded values into
one row of its table, ``ev_<snake_case name>`` (struct members such as ``fees`` and
``requirements`` become columns of their own: no member name repeats within an event, which
:func:`flatten` checks). Values stay Python (``int``, ``bool``, lists of ``int``); the sink
chooses how to store them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from indexer.records import RawEvent, Row
from smainer.artifacts import load_contract
from smainer.events import DecodedEvent, EventDecodeError, EventDecoder

CONTRACTS = ("Escrow", "Token")
"""The artifacts whose events the index keeps, by the manifest's names."""


def table_name(event_name: str) -> str:
    """``TaskCreated`` -> ``ev_task_created``."""
    return "ev_" + re.sub(r"(?<!^)(?=[A-Z])", "_", event_name).lower()


def flatten(values: Mapping[str, Any], into: Row | None = None) -> Row:
    """Struct members inlined: ``{"fees": {"gas_bps": 2}}`` -> ``{"gas_bps": 2}``."""
    row: Row = {} if into is None else into
    for name, value in values.items():
        if isinstance(value, Mapping):
            flatten(value, row)
        elif name in row:
            raise ValueError(f"member {name!r} appears twice once flattened")
        else:
            row[name] = value
    return row


@dataclass
class Decoded:
    rows: dict[str, list[Row]]
    undecoded: int


class EventPipeline:
    """Routes each raw event to its contract's decoder; unknown events stay raw-only."""

    def __init__(self, addresses: Mapping[str, int]) -> None:
        self.addresses = dict(addresses)
        self._decoders: dict[int, EventDecoder] = {
            address: EventDecoder(load_contract(name).abi) for name, address in addresses.items()
        }

    def tables(self) -> dict[str, str]:
        """Table name -> event name, for every event the followed contracts can emit."""
        names = {name for decoder in self._decoders.values() for name in decoder.names}
        return {table_name(name): name for name in sorted(names)}

    def decode_one(self, event: RawEvent) -> DecodedEvent | None:
        decoder = self._decoders.get(event.from_address)
        if decoder is None or not decoder.knows(event.keys):
            return None
        try:
            return decoder.decode(event.keys, event.data)
        except EventDecodeError:
            return None

    def decode(self, events: Iterable[RawEvent]) -> Decoded:
        rows: dict[str, list[Row]] = {}
        undecoded = 0
        for event in events:
            decoded = self.decode_one(event)
            if decoded is None:
                undecoded += 1
                continue
            row: Row = {
                "block_number": event.block_number,
                "transaction_index": event.transaction_index,
                "event_index": event.event_index,
            }
            rows.setdefault(table_name(decoded.name), []).append(flatten(decoded.values, row))
        return Decoded(rows, undecoded)
