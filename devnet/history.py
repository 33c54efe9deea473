"""Every value each state key held, by block: reads at past blocks and block abortion.

The spec lets every read name a block (``BLOCK_ID``), so ``starknet_getStorageAt`` at block 3
must answer what block 3 left. Instead of a copy of the state per block, each storage slot,
nonce and class hash keeps the list of ``(block_number, value)`` it went through; a read bisects
it. A mined block's squashed diff appends one entry per changed key, and ``devnet_abortBlocks``
pops them again, so memory grows with the number of changes, not with blocks x state size.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable
from typing import TypeVar

from devnet.models import StateDiff
from smainer.engine import DeclaredClass
from smainer.engine.state import StateData

__all__ = ["History"]

K = TypeVar("K", bound=Hashable)
_Versions = list[tuple[int, int]]


def _value_at(versions: _Versions | None, block: int) -> tuple[int, int]:
    """``(value, block it was set in)`` as of ``block``; ``(0, 0)`` if never set by then."""
    if not versions:
        return 0, 0
    index = bisect_right(versions, block, key=lambda version: version[0])
    if index == 0:
        return 0, 0
    number, value = versions[index - 1]
    return value, number


def _put(table: dict[K, _Versions], key: K, number: int, value: int) -> None:
    versions = table.setdefault(key, [])
    if versions and versions[-1][0] == number:
        versions[-1] = (number, value)
    else:
        versions.append((number, value))


def _pop(table: dict[K, _Versions], key: K, number: int) -> None:
    versions = table.get(key)
    if versions and versions[-1][0] == number:
        versions.pop()
    if not versions:
        table.pop(key, None)


class History:
    """Values by block of storage slots, nonces and class hashes, and when classes appeared."""

    def __init__(self) -> None:
        self._storage: dict[tuple[int, int], _Versions] = {}
        self._nonces: dict[int, _Versions] = {}
        self._contracts: dict[int, _Versions] = {}
        self._classes: dict[int, tuple[int, DeclaredClass]] = {}

    def record(self, number: int, diff: StateDiff, classes: dict[int, DeclaredClass]) -> None:
        """Append block ``number``'s diff; ``classes`` resolves the hashes it declared.

        Recording the newest block again replaces its values instead of adding a second entry,
        so a rollback may re-record a block without knowing how far an abort had got.
        """
        for slot, value in diff.storage.items():
            _put(self._storage, slot, number, value)
        for address, nonce in diff.nonces.items():
            _put(self._nonces, address, number, nonce)
        for address, class_hash in (*diff.deployed.items(), *diff.replaced.items()):
            _put(self._contracts, address, number, class_hash)
        for class_hash in diff.declared:
            self._classes[class_hash] = (number, classes[class_hash])

    def truncate(self, number: int, diff: StateDiff) -> None:
        """Forget block ``number``'s diff (the newest block: blocks are undone newest first)."""
        for slot in diff.storage:
            _pop(self._storage, slot, number)
        for address in diff.nonces:
            _pop(self._nonces, address, number)
        for address in (*diff.deployed, *diff.replaced):
            _pop(self._contracts, address, number)
        for class_hash in diff.declared:
            self._classes.pop(class_hash, None)

    # Reads as of a block.

    def storage_at(self, address: int, key: int, block: int) -> tuple[int, int]:
        """``(value, last block that changed it)`` of a slot as of ``block`` (0s if never)."""
        return _value_at(self._storage.get((address, key)), block)

    def nonce_at(self, address: int, block: int) -> int:
        return _value_at(self._nonces.get(address), block)[0]

    def class_hash_at(self, address: int, block: int) -> int:
        """The contract's class hash as of ``block``; 0 if it was not deployed yet."""
        return _value_at(self._contracts.get(address), block)[0]

    def declared_class(self, class_hash: int, block: int) -> DeclaredClass | None:
        """The class if it was declared by ``block``."""
        entry = self._classes.get(class_hash)
        if entry is None or entry[0] > block:
            return None
        return entry[1]

    def state_at(self, block: int) -> StateData:
        """The whole state as block ``block`` left it (for calls and estimates at past blocks)."""
        data = StateData()
        for class_hash, (number, declared) in self._classes.items():
            if number <= block:
                data.classes[class_hash] = declared
        for address, versions in self._contracts.items():
            class_hash = _value_at(versions, block)[0]
            if class_hash:
                data.contracts[address] = class_hash
        for address, versions in self._nonces.items():
            nonce = _value_at(versions, block)[0]
            if nonce:
                data.nonces[address] = nonce
        for slot, versions in self._storage.items():
            value = _value_at(versions, block)[0]
            if value:
                data.storage[slot] = value
        return data
