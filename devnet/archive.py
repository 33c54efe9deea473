"""Mined blocks, their transactions and the state's history, kept on disk so memory stays flat.

A devnet must answer for every block it ever mined (``starknet_getBlockWithReceipts`` of block
3, a receipt from an hour ago, ``getEvents`` from block 0), so it keeps everything. Kept as
Python objects that cost ~7.5 KiB per transaction (the transaction, its receipt, its trace, the
block and its state diff, the history's versions): a 20-minute soak grew the devnet by 140 MiB,
and growth without end is how starknet-devnet users see theirs die. So mined blocks go to a
private SQLite file (deleted when the devnet stops) as they are sealed, each block with its
transactions as one pickled row, and only the newest few hundred stay decoded in memory, where
clients waiting for a receipt or following the head read them.

Every write request runs in a SQLite savepoint (:meth:`Archive.checkpoint`), so a failed one
leaves the file as it found it, like the rest of the record (:mod:`devnet.rollback`). The rows
are this process's own pickles in a file nobody else opens; they are never read from elsewhere.
"""

from __future__ import annotations

import pickle
import sqlite3
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from devnet.history import History, open_private_database
from devnet.models import Block, Located
from smainer.engine import DeclaredClass, Event

__all__ = ["Archive", "ArchiveMark", "BlockEvents"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    block BLOB NOT NULL,
    transactions BLOB NOT NULL,
    events BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS blocks_by_hash ON blocks (hash);
CREATE TABLE IF NOT EXISTS transactions (
    hash BLOB PRIMARY KEY,
    block INTEGER NOT NULL,
    position INTEGER NOT NULL
) WITHOUT ROWID;
"""

CACHED_BLOCKS = 256
"""Decoded blocks kept in memory: the head that clients poll, and a getEvents page's worth."""

CACHED_TRANSACTIONS = 2048
"""...and at most this many transactions in them (the newest block is kept whatever its size):
with ``--block-time`` a block may hold thousands, at ~7.5 KiB each decoded."""

_EVENT_BATCH = 256
"""Blocks' events read per query: a page of getEvents stops early, so read ahead only so far."""

_SAVEPOINT = "request"

_Entry = tuple[Block, tuple[Located, ...]]

TransactionEvents = tuple[int, tuple[Event, ...]]
"""A transaction's hash and the events its receipt lists."""


@dataclass(frozen=True)
class BlockEvents:
    """What ``starknet_getEvents`` needs of a mined block, without its transactions' traces."""

    number: int
    block_hash: int
    transactions: tuple[TransactionEvents, ...]


def _felt(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _pack(transactions: tuple[Located, ...]) -> bytes:
    """Transactions with receipts and traces compress to about half (zlib's fastest level
    costs ~0.1 ms a block, against the tens of milliseconds a transaction takes to run)."""
    return zlib.compress(pickle.dumps(transactions, pickle.HIGHEST_PROTOCOL), 1)


def _unpack(blob: bytes) -> tuple[Located, ...]:
    transactions: tuple[Located, ...] = pickle.loads(zlib.decompress(blob))
    return transactions


@dataclass(frozen=True)
class ArchiveMark:
    """What :meth:`Archive.restore` puts back besides the file (which its savepoint restores)."""

    count: int
    classes: dict[int, tuple[int, DeclaredClass]]


class Archive:
    """The mined blocks in order, their transactions by hash, and the state's history."""

    def __init__(self, db: sqlite3.Connection | None = None) -> None:
        self._db = db if db is not None else open_private_database()
        self._db.executescript(SCHEMA)
        self.history = History(self._db)
        self._count = self._db.execute("SELECT COUNT(*) FROM blocks").fetchone()[0]
        self._cache: OrderedDict[int, _Entry] = OrderedDict()
        self._cached_transactions = 0

    def close(self) -> None:
        """Delete the file (its rows are gone with it)."""
        self._db.close()

    # Writes.

    def append(self, block: Block, transactions: tuple[Located, ...]) -> None:
        """Add the next block, mined, with its transactions in order."""
        if block.number != self._count:
            raise ValueError(f"block {block.number} appended after {self._count - 1}")
        events = tuple(
            (located.transaction.transaction_hash, located.receipt.events)
            for located in transactions
        )
        self._db.execute(
            "INSERT INTO blocks VALUES (?, ?, ?, ?, ?)",
            (
                block.number,
                _felt(block.block_hash or 0),
                pickle.dumps(block, pickle.HIGHEST_PROTOCOL),
                _pack(transactions),
                pickle.dumps(events, pickle.HIGHEST_PROTOCOL),
            ),
        )
        self._db.executemany(
            "INSERT INTO transactions VALUES (?, ?, ?)",
            (
                (_felt(located.transaction.transaction_hash), block.number, position)
                for position, located in enumerate(transactions)
            ),
        )
        self._count += 1
        self._remember(block.number, (block, transactions))

    def truncate(self, first: int) -> list[Block]:
        """Remove blocks ``first`` to the latest and their transactions; the removed blocks.

        The history keeps their versions: the caller undoes them (newest first) with
        :meth:`History.truncate`, since only it knows the order it wants.
        """
        removed = [self.block(number) for number in range(first, self._count)]
        self._db.execute("DELETE FROM transactions WHERE block >= ?", (first,))
        self._db.execute("DELETE FROM blocks WHERE number >= ?", (first,))
        self._count = first
        for number in [number for number in self._cache if number >= first]:
            self._cached_transactions -= len(self._cache.pop(number)[1])
        return removed

    # All or nothing.

    def checkpoint(self) -> ArchiveMark:
        """Open the request's savepoint: :meth:`restore` or :meth:`release` closes it."""
        self._db.execute(f"SAVEPOINT {_SAVEPOINT}")
        return ArchiveMark(count=self._count, classes=dict(self.history.classes))

    def release(self) -> None:
        """The request succeeded: keep what it wrote."""
        self._db.execute(f"RELEASE {_SAVEPOINT}")

    def restore(self, mark: ArchiveMark) -> None:
        """The request failed: the file, the count and the classes as :meth:`checkpoint` saw.

        The savepoint opened the file's only transaction, so when SQLite has already ended it
        (a full disk or an I/O error rolls the whole transaction back) the file is as the
        checkpoint saw it; the rest is put back whatever SQLite says.
        """
        try:
            if self._db.in_transaction:
                self._db.execute(f"ROLLBACK TO {_SAVEPOINT}")
                self._db.execute(f"RELEASE {_SAVEPOINT}")
        except sqlite3.Error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        finally:
            self._count = mark.count
            self.history.classes = dict(mark.classes)
            self._cache.clear()
            self._cached_transactions = 0

    # Reads.

    def __len__(self) -> int:
        return self._count

    @property
    def latest(self) -> Block:
        return self.block(self._count - 1)

    def block(self, number: int) -> Block:
        """Mined block ``number`` (``IndexError`` if there is none)."""
        return self._entry(number)[0]

    def transactions(self, number: int) -> tuple[Located, ...]:
        """The transactions of mined block ``number``, in order."""
        return self._entry(number)[1]

    def number_of(self, block_hash: int) -> int | None:
        """The number of the block with this hash, if one was mined."""
        row = self._db.execute(
            "SELECT number FROM blocks WHERE hash = ?", (_felt(block_hash),)
        ).fetchone()
        return None if row is None else int(row[0])

    def transaction(self, tx_hash: int) -> Located | None:
        """A mined transaction by hash."""
        row = self._db.execute(
            "SELECT block, position FROM transactions WHERE hash = ?", (_felt(tx_hash),)
        ).fetchone()
        return None if row is None else self.transactions(row[0])[row[1]]

    def __contains__(self, tx_hash: int) -> bool:
        """Whether a transaction of this hash was mined."""
        return (
            self._db.execute(
                "SELECT 1 FROM transactions WHERE hash = ?", (_felt(tx_hash),)
            ).fetchone()
            is not None
        )

    def blocks(self) -> Iterator[_Entry]:
        """Every mined block with its transactions, oldest first (dumps), without caching."""
        rows = self._db.execute("SELECT block, transactions FROM blocks ORDER BY number")
        for block, transactions in rows.fetchall():
            yield pickle.loads(block), _unpack(transactions)

    def events(self, first: int, last: int) -> Iterator[BlockEvents]:
        """The events of mined blocks ``first`` to ``last``, in order, in one query: a scan of
        the whole chain reads no traces, and only blocks the cache lacks are read at all."""
        last = min(last, self._count - 1)
        number = first
        while number <= last:
            if number in self._cache:
                block, transactions = self._cache[number]
                yield BlockEvents(
                    number,
                    block.block_hash or 0,
                    tuple((t.transaction.transaction_hash, t.receipt.events) for t in transactions),
                )
                number += 1
                continue
            upto = number
            while upto < min(last, number + _EVENT_BATCH - 1) and upto + 1 not in self._cache:
                upto += 1
            rows = self._db.execute(
                "SELECT number, hash, events FROM blocks WHERE number BETWEEN ? AND ? "
                "ORDER BY number",
                (number, upto),
            ).fetchall()
            for found, block_hash, events in rows:
                yield BlockEvents(found, int.from_bytes(block_hash, "big"), pickle.loads(events))
            number = upto + 1

    def _entry(self, number: int) -> _Entry:
        if not 0 <= number < self._count:
            raise IndexError(f"no block {number}")
        entry = self._cache.get(number)
        if entry is not None:
            self._cache.move_to_end(number)
            return entry
        row = self._db.execute(
            "SELECT block, transactions FROM blocks WHERE number = ?", (number,)
        ).fetchone()
        entry = (pickle.loads(row[0]), _unpack(row[1]))
        self._remember(number, entry)
        return entry

    def _remember(self, number: int, entry: _Entry) -> None:
        self._cache[number] = entry
        self._cached_transactions += len(entry[1])
        while len(self._cache) > 1 and (
            len(self._cache) > CACHED_BLOCKS or self._cached_transactions > CACHED_TRANSACTIONS
        ):
            self._cached_transactions -= len(self._cache.popitem(last=False)[1][1])
