"""Decode contract events from raw felts by their Sierra ABI: one decoder for every service.

The indexer, the providers, the scheduler and the tests all read the escrow's and the token's
events; they decode them here. Each event's ABI is compiled once into a flat list of field
readers, because starknet-py's generic ABI serializers, which the engine used before, decode
about 650 events per second on this machine, where an indexer backfilling a chain needs tens of
thousands (``tests/smainer/test_events.py`` checks that both decode every event alike).

Values come out as plain Python: integers for every integer, felt and address type (``u256``
joined from its two halves), ``bool`` for ``core::bool``, lists for arrays and spans, and dicts
for structs, member by member.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starknet_py.hash.selector import get_selector_from_name

__all__ = ["DecodedEvent", "EventDecodeError", "EventDecoder"]

Felts = Sequence[int]
Reader = Callable[[Felts, int], tuple[Any, int]]
"""Reads one value of a type at a position of a felt list; returns it and the next position."""

U128 = 1 << 128


class EventDecodeError(ValueError):
    """The felts of an event do not fit its ABI (a foreign or corrupt event)."""


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """An event as its ABI names it: ``TaskCreated`` with its members as Python values."""

    name: str
    values: dict[str, Any]


def _felt(felts: Felts, at: int) -> tuple[int, int]:
    return felts[at], at + 1


def _bool(felts: Felts, at: int) -> tuple[bool, int]:
    value = felts[at]
    if value not in (0, 1):
        raise ValueError(f"bool felt {value}")
    return value == 1, at + 1


def _u256(felts: Felts, at: int) -> tuple[int, int]:
    low, high = felts[at], felts[at + 1]
    if low >= U128 or high >= U128:
        raise ValueError("u256 half above 2**128")
    return low + high * U128, at + 2


_SCALARS: dict[str, Reader] = {
    "core::felt252": _felt,
    "core::bool": _bool,
    "core::integer::u8": _felt,
    "core::integer::u16": _felt,
    "core::integer::u32": _felt,
    "core::integer::u64": _felt,
    "core::integer::u128": _felt,
    "core::integer::u256": _u256,
    "core::starknet::contract_address::ContractAddress": _felt,
    "core::starknet::class_hash::ClassHash": _felt,
}
_SEQUENCES = ("core::array::Array::<", "core::array::Span::<")


def _sequence(item: Reader) -> Reader:
    if item is _felt:

        def read_felts(felts: Felts, at: int) -> tuple[list[int], int]:
            end = at + 1 + felts[at]
            if end > len(felts):
                raise IndexError(end)
            return list(felts[at + 1 : end]), end

        return read_felts

    def read_items(felts: Felts, at: int) -> tuple[list[Any], int]:
        count, at = felts[at], at + 1
        items = []
        for _ in range(count):
            value, at = item(felts, at)
            items.append(value)
        return items, at

    return read_items


def _struct(members: Sequence[tuple[str, Reader]]) -> Reader:
    def read_struct(felts: Felts, at: int) -> tuple[dict[str, Any], int]:
        values = {}
        for name, read in members:
            values[name], at = read(felts, at)
        return values, at

    return read_struct


class _Types:
    """Readers for the ABI's types, built on first use and shared."""

    def __init__(self, abi: Iterable[Mapping[str, Any]]) -> None:
        self.structs = {e["name"]: e for e in abi if e.get("type") == "struct"}
        self.readers: dict[str, Reader] = dict(_SCALARS)

    def reader(self, type_name: str) -> Reader:
        known = self.readers.get(type_name)
        if known is not None:
            return known
        for prefix in _SEQUENCES:
            if type_name.startswith(prefix) and type_name.endswith(">"):
                reader = _sequence(self.reader(type_name[len(prefix) : -1]))
                break
        else:
            struct = self.structs.get(type_name)
            if struct is None:
                raise NotImplementedError(f"no event reader for ABI type {type_name}")
            reader = _struct([(m["name"], self.reader(m["type"])) for m in struct["members"]])
        self.readers[type_name] = reader
        return reader


@dataclass(frozen=True, slots=True)
class _EventLayout:
    name: str
    keys: tuple[tuple[str, Reader], ...]
    data: tuple[tuple[str, Reader], ...]
    order: tuple[str, ...]

    def decode(self, keys: Felts, data: Felts) -> DecodedEvent:
        values: dict[str, Any] = {}
        try:
            at = 1
            for name, read in self.keys:
                values[name], at = read(keys, at)
            key_end = at
            at = 0
            for name, read in self.data:
                values[name], at = read(data, at)
        except IndexError:
            raise EventDecodeError(f"{self.name}: too few felts for its ABI") from None
        except ValueError as exc:
            raise EventDecodeError(f"{self.name}: {exc}") from None
        if key_end != len(keys) or at != len(data):
            raise EventDecodeError(f"{self.name}: more felts than its ABI has members")
        if len(self.order) != len(values):  # keys and data interleave in the ABI
            values = {n: values[n] for n in self.order}
        return DecodedEvent(self.name, values)


class EventDecoder:
    """Decodes one contract's events: ``keys[0]`` names the event, the rest is its ABI."""

    def __init__(self, abi: Iterable[Mapping[str, Any]]) -> None:
        entries = list(abi)
        types = _Types(entries)
        structs = {
            e["name"]: e for e in entries if e.get("type") == "event" and e.get("kind") == "struct"
        }
        self._layouts: dict[int, _EventLayout] = {}
        for entry in entries:
            if entry.get("type") != "event" or entry.get("kind") != "enum":
                continue
            for variant in entry["variants"]:
                struct = structs.get(variant["type"])
                if struct is None or variant.get("kind") != "nested":
                    continue
                members = struct["members"]
                layout = _EventLayout(
                    name=variant["name"],
                    keys=tuple(
                        (m["name"], types.reader(m["type"])) for m in members if m["kind"] == "key"
                    ),
                    data=tuple(
                        (m["name"], types.reader(m["type"])) for m in members if m["kind"] == "data"
                    ),
                    order=tuple(m["name"] for m in members),
                )
                self._layouts[get_selector_from_name(variant["name"])] = layout

    @property
    def names(self) -> list[str]:
        """The names of the events this contract can emit."""
        return [layout.name for layout in self._layouts.values()]

    def selector(self, name: str) -> int:
        """keys[0] of the event ``name`` (raises ``KeyError`` for a name the ABI lacks)."""
        for selector, layout in self._layouts.items():
            if layout.name == name:
                return selector
        raise KeyError(name)

    def knows(self, keys: Felts) -> bool:
        """Whether ``keys[0]`` is one of this contract's events."""
        return bool(keys) and keys[0] in self._layouts

    def decode(self, keys: Felts, data: Felts) -> DecodedEvent:
        """The event ``keys``/``data`` encode; ``EventDecodeError`` if they do not fit the ABI."""
        layout = self._layouts.get(keys[0]) if keys else None
        if layout is None:
            raise EventDecodeError(f"unknown event selector {hex(keys[0]) if keys else None}")
        return layout.decode(keys, data)
