"""A :class:`~smainer.engine.Chain` that journals every committed write with the value it replaced.

The devnet needs three things the engine deliberately leaves out: the state diff of a tx and of a
block (``starknet_getStateUpdate``, the l1_data_gas of the fee model), rolling a tx back after its
validation passed (a fee transfer that fails, estimate and simulate on the live state), and
undoing whole blocks (``devnet_abortBlocks``). One ordered journal of ``(kind, key, old, new)``
entries answers all three: a diff squashes the entries since a mark, a rollback replays the old
values backwards. It costs one tuple per write, not a copy of the state per tx.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from devnet.models import StateDiff
from smainer.engine import BlockContext, Chain, DeclaredClass
from smainer.engine.state import OverlayState, StateData

__all__ = ["JournalingChain", "Mark"]

Kind = Literal["storage", "contract", "nonce", "class"]
Mark = int
"""A position in the journal, from :meth:`JournalingChain.mark`."""


@dataclass(frozen=True)
class _Entry:
    kind: Kind
    key: Any
    old: Any
    new: Any


def _put(table: dict[Any, int], key: Any, value: int) -> None:
    """Write ``value``; a 0 (what an absent key reads as) removes the key instead."""
    if value:
        table[key] = value
    else:
        table.pop(key, None)


class _JournalingOverlay(OverlayState):
    """The engine's write buffer; on commit it first records what each write replaces."""

    def __init__(self, base: StateData, block_info: Any, journal: list[_Entry]) -> None:
        super().__init__(base, block_info)
        self._journal = journal

    def commit(self) -> None:
        base = self.base
        record = self._journal.append
        for slot, value in self.storage_writes.items():
            record(_Entry("storage", slot, base.storage.get(slot, 0), value))
        for address, class_hash in self.class_hash_writes.items():
            record(_Entry("contract", address, base.contracts.get(address, 0), class_hash))
        for address, nonce in self.nonce_writes.items():
            record(_Entry("nonce", address, base.nonces.get(address, 0), nonce))
        super().commit()


class JournalingChain(Chain):
    """``Chain`` whose every state change (calls, deploys, cheats, declares) is journaled.

    The devnet owns it: nothing else may write its state, or diffs and rollbacks go wrong.
    """

    def __init__(self, block: BlockContext | None = None) -> None:
        super().__init__(block)
        self._journal: list[_Entry] = []

    def new_overlay(self) -> OverlayState:
        return _JournalingOverlay(self.state, self.block_info, self._journal)

    # Writes outside calls.

    def declare(
        self,
        class_hash: int,
        casm: Mapping[str, Any] | str,
        sierra: Mapping[str, Any] | str | None = None,
        *,
        compiled_class_hash: int | None = None,
    ) -> DeclaredClass:
        known = self.is_declared(class_hash)
        declared = super().declare(
            class_hash, casm, sierra, compiled_class_hash=compiled_class_hash
        )
        if not known:
            self._journal.append(_Entry("class", class_hash, None, declared))
        return declared

    def set_storage(self, address: int, key: int, value: int) -> None:
        self._journal.append(
            _Entry("storage", (address, key), self.get_storage(address, key), value)
        )
        super().set_storage(address, key, value)

    def set_nonce(self, address: int, nonce: int) -> None:
        self._journal.append(_Entry("nonce", address, self.get_nonce(address), nonce))
        super().set_nonce(address, nonce)

    def set_class_hash_at(self, address: int, class_hash: int) -> None:
        """Put a contract of ``class_hash`` at ``address`` without running anything (load)."""
        self._journal.append(
            _Entry("contract", address, self.state.contracts.get(address, 0), class_hash)
        )
        self.state.contracts[address] = class_hash

    # Journal.

    def mark(self) -> Mark:
        """The current journal position, to diff from or roll back to."""
        return len(self._journal)

    def rollback(self, mark: Mark) -> None:
        """Undo every write made since ``mark``, newest first."""
        data = self.state
        while len(self._journal) > mark:
            entry = self._journal.pop()
            if entry.kind == "storage":
                _put(data.storage, entry.key, entry.old)
            elif entry.kind == "nonce":
                _put(data.nonces, entry.key, entry.old)
            elif entry.kind == "contract":
                if entry.old:
                    data.contracts[entry.key] = entry.old
                else:
                    data.contracts.pop(entry.key, None)
            else:
                data.classes.pop(entry.key, None)

    def diff(self, mark: Mark = 0) -> StateDiff:
        """The squashed state diff of the writes since ``mark``: unchanged values left out.

        A contract whose class hash goes from 0 to something was deployed; from one class to
        another it was replaced (``replace_class``).
        """
        first: dict[tuple[Kind, Any], Any] = {}
        last: dict[tuple[Kind, Any], Any] = {}
        for entry in self._journal[mark:]:
            key = (entry.kind, entry.key)
            first.setdefault(key, entry.old)
            last[key] = entry.new
        storage: dict[tuple[int, int], int] = {}
        nonces: dict[int, int] = {}
        deployed: dict[int, int] = {}
        replaced: dict[int, int] = {}
        declared: dict[int, int] = {}
        for (kind, key), new in last.items():
            old = first[(kind, key)]
            if kind == "class":
                declared[key] = new.compiled_class_hash
            elif old == new:
                continue
            elif kind == "storage":
                storage[key] = new
            elif kind == "nonce":
                nonces[key] = new
            elif old == 0:
                deployed[key] = new
            else:
                replaced[key] = new
        return StateDiff(
            storage=dict(sorted(storage.items())),
            nonces=dict(sorted(nonces.items())),
            deployed=dict(sorted(deployed.items())),
            replaced=dict(sorted(replaced.items())),
            declared=dict(sorted(declared.items())),
        )

    def forget(self, before: Mark | None = None) -> None:
        """Drop the entries before ``before`` (all by default): their blocks now live in the
        history and no rollback will go back that far. Marks taken earlier shift by ``before``."""
        del self._journal[: len(self._journal) if before is None else before]
