"""The DuckDB sink without a chain: files that are not ours stay untouched; batches, rollbacks and
rebuilds are all-or-nothing; felts and u256 amounts come back exactly."""

from __future__ import annotations

import hashlib

import duckdb
import pytest
from starknet_py.hash.selector import get_selector_from_name

from indexer.errors import ContractsMismatchError, DatabaseRefusedError, StoreError
from indexer.migrate import available_migrations
from indexer.pipeline import EventPipeline
from indexer.records import Batch, BlockHeader, Cursor, RawEvent
from indexer.store import open_store

ESCROW, TOKEN = 0xE5C0, 0x70CE
BIG_FELT = 2**251 + 17 * 2**192  # the largest felt
HUGE = 2**256 - 1  # the largest u256


def fingerprint(path):
    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)


def siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


@pytest.mark.parametrize("kind", ["corrupt", "foreign", "newer", "empty-bytes"])
def test_a_refused_file_is_left_untouched(tmp_path, kind):
    path = tmp_path / "index.duckdb"
    if kind == "corrupt":
        path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    elif kind == "empty-bytes":
        path.write_bytes(b"")
    else:
        con = duckdb.connect(str(path))
        if kind == "foreign":
            con.execute("CREATE TABLE invoices (id INTEGER, total DECIMAL(10, 2))")
            con.execute("INSERT INTO invoices VALUES (1, 9.5)")
        con.close()
        if kind == "newer":
            open_store(path).close()
            con = duckdb.connect(str(path))
            con.execute("INSERT INTO schema_version VALUES (999, 'from_the_future', now())")
            con.close()
    before, files = fingerprint(path), siblings(path)
    with pytest.raises(DatabaseRefusedError) as refused:
        open_store(path)
    assert str(path) in str(refused.value)
    assert fingerprint(path) == before
    assert siblings(path) == files


def header(number: int, fork: int = 0) -> BlockHeader:
    return BlockHeader(
        number,
        1000 + number + fork,
        1000 + number - 1 + fork,
        1_700_000_000 + number,
        "ACCEPTED_ON_L2",
    )


def transfer(block: int, index: int, value: int, fork: int = 0) -> RawEvent:
    keys = (get_selector_from_name("Transfer"), 0xA, BIG_FELT)
    return RawEvent(
        block,
        0,
        index,
        1000 + block + fork,
        0x7A + block,
        TOKEN,
        keys,
        (value % 2**128, value >> 128),
    )


def batch(
    pipeline: EventPipeline, first: int, last: int, events: list[RawEvent], fork: int = 0
) -> Batch:
    decoded = pipeline.decode(events)
    headers = [header(n, fork) for n in range(first, last + 1)]
    return Batch(
        first, last, headers[0].parent_hash, headers, events, decoded.rows, decoded.undecoded
    )


@pytest.fixture
def store(tmp_path):
    store = open_store(tmp_path / "index.duckdb")
    store.bind({"Escrow": ESCROW, "Token": TOKEN}, 10)
    yield store
    store.close()


@pytest.fixture
def pipeline():
    return EventPipeline({"Escrow": ESCROW, "Token": TOKEN})


def transfers(store):
    return store.connection.execute(
        'SELECT block_number, "from", "to", "value"::VARCHAR FROM transfers ORDER BY ALL'
    ).fetchall()


def test_batches_rollbacks_and_exact_values(store, pipeline):
    store.write(batch(pipeline, 10, 12, [transfer(11, 0, HUGE), transfer(12, 3, 5)]))
    store.write(batch(pipeline, 13, 15, [transfer(14, 1, 7), transfer(15, 0, 2**128)]))
    assert store.cursor() == Cursor(15, 1015)
    assert transfers(store) == [
        (11, "0xa", hex(BIG_FELT), str(HUGE)),
        (12, "0xa", hex(BIG_FELT), "5"),
        (14, "0xa", hex(BIG_FELT), "7"),
        (15, "0xa", hex(BIG_FELT), str(2**128)),
    ]
    assert store.known_blocks(13, 2) == [(13, 1013), (12, 1012)]

    assert store.rollback_to(Cursor(12, 1012)) == 2
    assert store.cursor() == Cursor(12, 1012)
    assert [r[0] for r in transfers(store)] == [11, 12]
    assert store.known_blocks(100, 100)[0] == (12, 1012)

    assert store.rollback_to(None) == 2
    assert store.cursor() is None
    assert transfers(store) == []


def test_a_failing_batch_writes_nothing(store, pipeline):
    store.write(batch(pipeline, 10, 11, [transfer(11, 0, 1)]))
    before = store.connection.execute("SELECT count(*) FROM raw_events").fetchone()
    clash = batch(pipeline, 12, 13, [transfer(12, 0, 1), transfer(13, 0, 2)])
    clash.headers.append(header(11))  # block 11 is stored already: the blocks insert fails
    with pytest.raises(StoreError, match="nothing written"):
        store.write(clash)
    assert store.connection.execute("SELECT count(*) FROM raw_events").fetchone() == before
    assert store.cursor() == Cursor(11, 1011)


def test_rebuild_rederives_the_decoded_tables(store, pipeline):
    store.write(batch(pipeline, 10, 14, [transfer(11, 0, HUGE), transfer(13, 2, 9)]))
    before = transfers(store)
    store.connection.execute("DELETE FROM ev_transfer")
    assert transfers(store) == []
    assert store.rebuild(pipeline.decode) == 2
    assert transfers(store) == before


def test_an_index_is_bound_to_its_contracts(store):
    assert store.bind({"Escrow": ESCROW, "Token": TOKEN}, 99) == 10
    with pytest.raises(ContractsMismatchError, match="new --db"):
        store.bind({"Escrow": ESCROW + 1, "Token": TOKEN}, 10)


def test_reopening_keeps_the_data_and_applies_no_migration_twice(tmp_path, pipeline):
    path = tmp_path / "index.duckdb"
    store = open_store(path)
    store.bind({"Escrow": ESCROW, "Token": TOKEN}, 10)
    store.write(batch(pipeline, 10, 11, [transfer(11, 0, 3)]))
    store.close()
    again = open_store(path)
    try:
        assert again.cursor() == Cursor(11, 1011)
        assert transfers(again) == [(11, "0xa", hex(BIG_FELT), "3")]
        migrations = len(available_migrations())
        assert again.connection.execute("SELECT count(*) FROM schema_version").fetchone() == (
            migrations,
        )
    finally:
        again.close()
