"""Every value each state key held, by block: reads at past blocks and block abortion.

The spec lets every read name a block (``BLOCK_ID``), so ``starknet_getStorageAt`` at block 3
must answer what block 3 left. Instead of a copy of the state per block, each storage slot,
nonce and class hash keeps the ``(block_number, value)`` versions it went through, and a read
takes the newest version at or below the block. A mined block's squashed diff adds one version
per changed key, and ``devnet_abortBlocks`` deletes them again, so the history grows with the
number of changes, not with blocks x state size.

The versions live in a SQLite table (in :class:`~devnet.archive.Archive`'s private file, or a
file of the history's own), not in Python objects: a devnet under steady load adds a few
versions per transaction for as long as it runs, and kept in memory they grew its RSS by ~0.4
KiB per transaction without end. Declared classes stay in memory: they are few, and the live
chain holds them anyway.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from devnet.models import StateDiff
from smainer.engine import DeclaredClass
from smainer.engine.state import StateData

__all__ = ["SCHEMA", "History", "open_private_database"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    kind INTEGER NOT NULL,
    key BLOB NOT NULL,
    block INTEGER NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (kind, key, block)
) WITHOUT ROWID;
"""
"""One row per version: ``kind`` says which table of the state the key is in."""

_STORAGE, _NONCE, _CONTRACT = 0, 1, 2


def open_private_database() -> sqlite3.Connection:
    """A temporary on-disk SQLite database, deleted when closed, with a small page cache.

    SQLite's empty file name means exactly this. Autocommit (``isolation_level=None``) leaves
    transactions to the caller's savepoints; the connection is shared across the devnet's
    threads, which the devnet's lock serializes.
    """
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA cache_size = -4096")  # KiB: a bound on what the cache may hold
    db.execute("PRAGMA journal_mode = MEMORY")
    db.execute("PRAGMA synchronous = OFF")
    return db


def _felt(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _int(blob: bytes) -> int:
    return int.from_bytes(blob, "big")


def _slot(address: int, key: int) -> bytes:
    return _felt(address) + _felt(key)


def _rows(number: int, diff: StateDiff) -> Iterator[tuple[int, bytes, int, bytes]]:
    for (address, key), value in diff.storage.items():
        yield _STORAGE, _slot(address, key), number, _felt(value)
    for address, nonce in diff.nonces.items():
        yield _NONCE, _felt(address), number, _felt(nonce)
    for address, class_hash in (*diff.deployed.items(), *diff.replaced.items()):
        yield _CONTRACT, _felt(address), number, _felt(class_hash)


class History:
    """Values by block of storage slots, nonces and class hashes, and when classes appeared."""

    def __init__(self, db: sqlite3.Connection | None = None) -> None:
        self._db = db if db is not None else open_private_database()
        self._db.executescript(SCHEMA)
        self.classes: dict[int, tuple[int, DeclaredClass]] = {}
        """Class hash -> (block it was declared in, the class)."""

    def record(self, number: int, diff: StateDiff, classes: dict[int, DeclaredClass]) -> None:
        """Add block ``number``'s diff; ``classes`` resolves the hashes it declared.

        Recording a block again replaces its values instead of adding a second version, so a
        rollback may re-record a block without knowing how far an abort had got.
        """
        self._db.executemany(
            "INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)", _rows(number, diff)
        )
        for class_hash in diff.declared:
            self.classes[class_hash] = (number, classes[class_hash])

    def truncate(self, number: int, diff: StateDiff) -> None:
        """Forget block ``number``'s diff (the newest block: blocks are undone newest first)."""
        self._db.executemany(
            "DELETE FROM history WHERE kind = ? AND key = ? AND block = ?",
            ((kind, key, block) for kind, key, block, _ in _rows(number, diff)),
        )
        for class_hash in diff.declared:
            self.classes.pop(class_hash, None)

    # Reads as of a block.

    def _at(self, kind: int, key: bytes, block: int) -> tuple[int, int]:
        row = self._db.execute(
            "SELECT value, block FROM history WHERE kind = ? AND key = ? AND block <= ? "
            "ORDER BY block DESC LIMIT 1",
            (kind, key, block),
        ).fetchone()
        return (0, 0) if row is None else (_int(row[0]), row[1])

    def storage_at(self, address: int, key: int, block: int) -> tuple[int, int]:
        """``(value, last block that changed it)`` of a slot as of ``block`` (0s if never)."""
        return self._at(_STORAGE, _slot(address, key), block)

    def nonce_at(self, address: int, block: int) -> int:
        return self._at(_NONCE, _felt(address), block)[0]

    def class_hash_at(self, address: int, block: int) -> int:
        """The contract's class hash as of ``block``; 0 if it was not deployed yet."""
        return self._at(_CONTRACT, _felt(address), block)[0]

    def declared_class(self, class_hash: int, block: int) -> DeclaredClass | None:
        """The class if it was declared by ``block``."""
        entry = self.classes.get(class_hash)
        if entry is None or entry[0] > block:
            return None
        return entry[1]

    def _latest_versions(self, block: int) -> Iterable[tuple[int, bytes, bytes]]:
        # SQLite takes a bare column's value from the row that gave the group its MAX().
        rows = self._db.execute(
            "SELECT kind, key, value, MAX(block) FROM history WHERE block <= ? GROUP BY kind, key",
            (block,),
        )
        return ((kind, key, value) for kind, key, value, _ in rows)

    def state_at(self, block: int) -> StateData:
        """The whole state as block ``block`` left it (for calls and estimates at past blocks)."""
        data = StateData()
        for class_hash, (number, declared) in self.classes.items():
            if number <= block:
                data.classes[class_hash] = declared
        for kind, key, blob in self._latest_versions(block):
            value = _int(blob)
            if not value:
                continue
            if kind == _STORAGE:
                data.storage[(_int(key[:32]), _int(key[32:]))] = value
            elif kind == _NONCE:
                data.nonces[_int(key)] = value
            else:
                data.contracts[_int(key)] = value
        return data
