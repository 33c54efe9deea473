"""The chain's in-memory state, and the write overlay a call runs on.

:class:`StateData` is plain dicts, so a snapshot is a few dict copies and a dump is trivial.
A call never writes it directly: it runs on an :class:`OverlayState` (cairo-lang's ``SyncState``
API over a ``StateData``) that collects writes; ``Chain`` merges them on success and drops them on
failure. That is the whole rollback story: nothing to undo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starkware.starknet.business_logic.state.state_api import (
    SyncState,
)
from starkware.starknet.business_logic.state.state_api_objects import (
    BlockInfo,
    ResourcePrice,
)
from starkware.starknet.definitions.data_availability_mode import (
    DataAvailabilityMode,
)
from starkware.starknet.definitions.error_codes import (
    StarknetErrorCode,
)
from starkware.starkware_utils.error_handling import StarkException

from smainer.engine.types import BlockContext

__all__ = ["DeclaredClass", "OverlayState", "Snapshot", "StateData", "to_block_info"]


@dataclass(frozen=True)
class DeclaredClass:
    """A declared Cairo 1 class: the parsed CASM cairo-lang runs, and the JSON it came from.

    ``sierra`` is kept for a devnet's ``starknet_getClass``; ``compiled`` is cairo-lang's
    ``CompiledClass`` (typed ``Any``: cairo-lang has no stubs).
    """

    class_hash: int
    compiled_class_hash: int
    casm: Mapping[str, Any]
    sierra: Mapping[str, Any] | None
    compiled: Any


@dataclass
class StateData:
    """Everything the chain knows. Storage is flat, keyed ``(address, key)``."""

    classes: dict[int, DeclaredClass] = field(default_factory=dict)
    contracts: dict[int, int] = field(default_factory=dict)
    storage: dict[tuple[int, int], int] = field(default_factory=dict)
    nonces: dict[int, int] = field(default_factory=dict)

    def copy(self) -> StateData:
        """Shallow copy: dicts are copied, declared classes (immutable) are shared."""
        return StateData(
            classes=dict(self.classes),
            contracts=dict(self.contracts),
            storage=dict(self.storage),
            nonces=dict(self.nonces),
        )


@dataclass(frozen=True)
class Snapshot:
    """A frozen copy of a chain's state and block, from ``Chain.snapshot()``.

    Restoring it never changes it, so one snapshot can be restored many times (reorg tests).
    """

    data: StateData
    block: BlockContext


def to_block_info(block: BlockContext) -> Any:
    """cairo-lang's ``BlockInfo`` for a block (built once per block; it validates on creation)."""
    return BlockInfo(
        block_number=block.number,
        block_timestamp=block.timestamp,
        l1_gas_price=ResourcePrice(
            price_in_wei=block.l1_gas_price_wei, price_in_fri=block.l1_gas_price_fri
        ),
        l1_data_gas_price=ResourcePrice(
            price_in_wei=block.l1_data_gas_price_wei, price_in_fri=block.l1_data_gas_price_fri
        ),
        l2_gas_price=ResourcePrice(
            price_in_wei=block.l2_gas_price_wei, price_in_fri=block.l2_gas_price_fri
        ),
        sequencer_address=block.sequencer_address,
        starknet_version=block.starknet_version,
        use_kzg_da=True,
    )


class OverlayState(SyncState):
    """cairo-lang ``SyncState`` that reads through to a :class:`StateData` and buffers writes."""

    def __init__(self, base: StateData, block_info: Any) -> None:
        self.base = base
        self._block_info = block_info
        self.storage_writes: dict[tuple[int, int], int] = {}
        self.class_hash_writes: dict[int, int] = {}
        self.nonce_writes: dict[int, int] = {}

    def commit(self) -> None:
        """Merge the buffered writes into the base state."""
        self.base.storage.update(self.storage_writes)
        self.base.contracts.update(self.class_hash_writes)
        self.base.nonces.update(self.nonce_writes)

    # Reads.

    @property
    def block_info(self) -> Any:
        return self._block_info

    def update_block_info(self, block_info: Any) -> None:
        self._block_info = block_info

    def _declared(self, class_hash: int) -> DeclaredClass:
        declared = self.base.classes.get(class_hash)
        if declared is None:
            raise StarkException(
                code=StarknetErrorCode.UNDECLARED_CLASS,
                message=f"Class with hash {class_hash:#x} is not declared.",
            )
        return declared

    def get_compiled_class_by_class_hash(self, class_hash: int) -> Any:
        return self._declared(class_hash).compiled

    def get_compiled_class(self, compiled_class_hash: int) -> Any:
        for declared in self.base.classes.values():
            if declared.compiled_class_hash == compiled_class_hash:
                return declared.compiled
        raise StarkException(
            code=StarknetErrorCode.UNDECLARED_CLASS,
            message=f"Compiled class {compiled_class_hash:#x} is not declared.",
        )

    def get_sierra_class(self, class_hash: int) -> Any:
        raise NotImplementedError("the engine runs CASM only; read DeclaredClass.sierra instead")

    def get_compiled_class_hash(self, class_hash: int) -> int:
        declared = self.base.classes.get(class_hash)
        return 0 if declared is None else declared.compiled_class_hash

    def get_class_hash_at(self, contract_address: int) -> int:
        if contract_address in self.class_hash_writes:
            return self.class_hash_writes[contract_address]
        return self.base.contracts.get(contract_address, 0)

    def get_nonce_at(self, data_availability_mode: Any, contract_address: int) -> int:
        if contract_address in self.nonce_writes:
            return self.nonce_writes[contract_address]
        return self.base.nonces.get(contract_address, 0)

    def get_storage_at(self, data_availability_mode: Any, contract_address: int, key: int) -> int:
        slot = (contract_address, key)
        if slot in self.storage_writes:
            return self.storage_writes[slot]
        return self.base.storage.get(slot, 0)

    # Writes.

    def set_compiled_class_hash(self, class_hash: int, compiled_class_hash: int) -> None:
        raise NotImplementedError("declare classes through Chain.declare")

    def set_class_hash_at(self, contract_address: int, class_hash: int) -> None:
        self.class_hash_writes[contract_address] = class_hash

    def increment_nonce(self, data_availability_mode: Any, contract_address: int) -> None:
        current = self.get_nonce_at(DataAvailabilityMode.L1, contract_address)
        self.nonce_writes[contract_address] = current + 1

    def set_storage_at(
        self, data_availability_mode: Any, contract_address: int, key: int, value: int
    ) -> None:
        self.storage_writes[(contract_address, key)] = value
