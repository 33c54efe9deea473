"""The decoding pipeline against the schema: every event either contract can emit has a table
whose columns are exactly its ABI members (flattened) with a storage type that holds them."""

from __future__ import annotations

import pytest
from starknet_py.hash.selector import get_selector_from_name

from indexer.pipeline import EventPipeline, flatten, table_name
from indexer.records import RawEvent
from indexer.store import open_store
from smainer.artifacts import load_contract

POSITION = [
    ("block_number", "UBIGINT"),
    ("transaction_index", "UINTEGER"),
    ("event_index", "UINTEGER"),
]
STORAGE = {
    "core::felt252": "BLOB",
    "core::starknet::contract_address::ContractAddress": "BLOB",
    "core::starknet::class_hash::ClassHash": "BLOB",
    "core::bool": "BOOLEAN",
    "core::integer::u8": "UTINYINT",
    "core::integer::u16": "USMALLINT",
    "core::integer::u64": "UBIGINT",
    "core::integer::u256": "BIGNUM",
    "core::array::Array::<core::felt252>": "BLOB[]",
}


def abi_columns(contract: str) -> dict[str, list[tuple[str, str]]]:
    """Table -> (column, expected DuckDB type) from a contract's ABI, structs flattened."""
    abi = load_contract(contract).abi
    structs = {e["name"]: e for e in abi if e.get("type") in ("struct", "event")}

    def columns(members: list[dict]) -> list[tuple[str, str]]:
        out = []
        for m in members:
            if m["type"] in STORAGE:
                out.append((m["name"], STORAGE[m["type"]]))
            else:
                out.extend(columns(structs[m["type"]]["members"]))
        return out

    tables = {}
    for entry in abi:
        if entry.get("type") == "event" and entry.get("kind") == "enum":
            for variant in entry["variants"]:
                members = structs[variant["type"]]["members"]
                tables[table_name(variant["name"])] = POSITION + columns(members)
    return tables


def test_every_event_has_a_table_with_its_members_as_columns():
    store = open_store(":memory:")
    try:
        expected = {**abi_columns("Escrow"), **abi_columns("Token")}
        assert set(store.event_tables) == set(expected)
        for table, columns in expected.items():
            assert store.columns(table) == columns, table
        pipeline = EventPipeline({"Escrow": 1, "Token": 2})
        assert set(pipeline.tables()) == set(expected)
    finally:
        store.close()


def test_table_names_and_flattening():
    assert table_name("TaskCreated") == "ev_task_created"
    assert table_name("OwnershipTransferStarted") == "ev_ownership_transfer_started"
    assert flatten({"a": 1, "fees": {"gas_bps": 2}}) == {"a": 1, "gas_bps": 2}
    with pytest.raises(ValueError, match="twice"):
        flatten({"gas_bps": 1, "fees": {"gas_bps": 2}})


def test_events_route_by_address_and_unknown_ones_stay_raw():
    escrow, token = 0xE, 0x7
    pipeline = EventPipeline({"Escrow": escrow, "Token": token})
    node = 0x5EED
    heartbeat = (get_selector_from_name("NodeHeartbeat"), node)
    events = [
        RawEvent(5, 0, 0, 0xB, 0x1, escrow, heartbeat, (1234,)),
        RawEvent(5, 0, 1, 0xB, 0x1, token, heartbeat, (1234,)),  # not a Token event
        RawEvent(5, 1, 0, 0xB, 0x2, escrow, heartbeat, (1, 2)),  # one felt too many
        RawEvent(5, 1, 1, 0xB, 0x2, 0x999, heartbeat, (1234,)),  # another contract
    ]
    decoded = pipeline.decode(events)
    assert decoded.rows == {
        "ev_node_heartbeat": [
            {
                "block_number": 5,
                "transaction_index": 0,
                "event_index": 0,
                "node": node,
                "timestamp": 1234,
            }
        ]
    }
    assert decoded.undecoded == 3
