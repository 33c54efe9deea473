"""``Chain``: an in-memory Starknet state that runs Cairo 1 entry points, nothing more.

It is entry-point level on purpose: cairo-lang 0.14 cannot apply v3 transactions, so the devnet
builds its own transaction flow (``__validate__``, ``__execute__``, nonce, fee transfer, blocks)
from :meth:`Chain.invoke` calls with a :class:`~smainer.engine.types.TxContext`, and contract tests
call contracts directly. Every state change is all-or-nothing per call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from starknet_py.hash.address import compute_address
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.hash.storage import get_storage_var_address
from starkware.starknet.services.api.contract_class.contract_class import (
    CompiledClass,
)
from starkware.starknet.services.api.contract_class.contract_class import (
    EntryPointType as CairoEntryPointType,
)

from smainer.class_hash import compiled_class_hash as casm_class_hash
from smainer.engine import execution
from smainer.engine.errors import (
    ClassNotDeclaredError,
    ContractNotFoundError,
    EntryPointNotFoundError,
    ExecutionRevertedError,
)
from smainer.engine.state import DeclaredClass, OverlayState, Snapshot, StateData, to_block_info
from smainer.engine.types import (
    BlockContext,
    CallResult,
    DeployResult,
    EntryPointType,
    TxContext,
)

__all__ = ["CONSTRUCTOR_SELECTOR", "Chain", "Selector", "to_selector"]

CONSTRUCTOR_SELECTOR = get_selector_from_name("constructor")

Selector = int | str
"""An entry point by selector felt or by function name."""

_NO_TX = TxContext(version=0)
_CAIRO_TYPES = {
    EntryPointType.EXTERNAL: CairoEntryPointType.EXTERNAL,
    EntryPointType.L1_HANDLER: CairoEntryPointType.L1_HANDLER,
    EntryPointType.CONSTRUCTOR: CairoEntryPointType.CONSTRUCTOR,
}


def to_selector(selector: Selector) -> int:
    """A selector felt from a name (``"transfer"``) or an int (returned unchanged)."""
    return get_selector_from_name(selector) if isinstance(selector, str) else selector


class Chain:
    """One in-memory chain: declared classes, contracts, storage, nonces, and the current block.

    Not thread-safe; a devnet serializes calls into it. ``max_steps`` caps each top-level call
    (Starknet's invoke limit by default); ``initial_gas`` is the Sierra gas it starts with.
    """

    def __init__(
        self,
        block: BlockContext | None = None,
        *,
        max_steps: int | None = None,
        initial_gas: int | None = None,
    ) -> None:
        self._data = StateData()
        self._block = block or BlockContext()
        self._block_info = to_block_info(self._block)
        self.max_steps = max_steps
        self.initial_gas = initial_gas

    # Blocks and time.

    @property
    def block(self) -> BlockContext:
        """The block calls run in (what ``get_block_info()`` returns)."""
        return self._block

    def set_block(self, block: BlockContext | None = None, **changes: Any) -> BlockContext:
        """Replace the block, or change some of its fields: ``set_block(number=5, timestamp=t)``."""
        new = block or self._block
        if changes:
            new = new.replace(**changes)
        self._block = new
        self._block_info = to_block_info(new)
        return new

    def advance_time(self, seconds: int) -> BlockContext:
        """Move the block timestamp forward (deadline tests); the block number stays."""
        if seconds < 0:
            raise ValueError("time only moves forward; use set_block(timestamp=...) to rewind")
        return self.set_block(timestamp=self._block.timestamp + seconds)

    # Classes and contracts.

    def declare(
        self,
        class_hash: int,
        casm: Mapping[str, Any] | str,
        sierra: Mapping[str, Any] | str | None = None,
        *,
        compiled_class_hash: int | None = None,
    ) -> DeclaredClass:
        """Declare a Cairo 1 class from its CASM JSON (idempotent: a known hash is kept as is).

        The CASM must come from ``starknet-sierra-compile --add-pythonic-hints``: cairo-lang runs
        the Python hints. ``compiled_class_hash`` defaults to the CASM hash starknet-py computes;
        it only has to be non-zero for ``replace_class`` to accept the class.
        """
        known = self._data.classes.get(class_hash)
        if known is not None:
            return known
        casm_dict: Mapping[str, Any] = json.loads(casm) if isinstance(casm, str) else casm
        sierra_dict = json.loads(sierra) if isinstance(sierra, str) else sierra
        if not casm_dict.get("pythonic_hints"):
            raise ValueError("CASM lacks pythonic_hints: compile with --add-pythonic-hints")
        compiled = CompiledClass.load(
            {"bytecode_segment_lengths": [], **casm_dict}
            if "bytecode_segment_lengths" not in casm_dict
            else dict(casm_dict)
        )
        declared = DeclaredClass(
            class_hash=class_hash,
            compiled_class_hash=(
                casm_class_hash(casm_dict) if compiled_class_hash is None else compiled_class_hash
            ),
            casm=casm_dict,
            sierra=sierra_dict,
            compiled=compiled,
        )
        self._data.classes[class_hash] = declared
        return declared

    def is_declared(self, class_hash: int) -> bool:
        """Whether ``class_hash`` was declared."""
        return class_hash in self._data.classes

    def get_class(self, class_hash: int) -> DeclaredClass:
        """The declared class (CASM and Sierra JSON), or :class:`ClassNotDeclaredError`."""
        try:
            return self._data.classes[class_hash]
        except KeyError:
            raise ClassNotDeclaredError(class_hash) from None

    def deploy(
        self,
        class_hash: int,
        constructor_calldata: Sequence[int] = (),
        *,
        salt: int = 0,
        deployer_address: int = 0,
        address: int | None = None,
        tx: TxContext | None = None,
    ) -> DeployResult:
        """Deploy a declared class and run its constructor; nothing is kept if it reverts.

        The address is Starknet's: ``compute_address`` over salt, class hash and calldata, with
        ``deployer_address`` (0 = "deploy from zero", as the UDC with ``unique=False`` and
        DEPLOY_ACCOUNT do). Pass ``address`` to put the contract somewhere else (genesis
        predeploys). The constructor's caller is ``deployer_address``.
        """
        declared = self.get_class(class_hash)
        calldata = list(constructor_calldata)
        if address is None:
            address = compute_address(
                class_hash=class_hash,
                constructor_calldata=calldata,
                salt=salt,
                deployer_address=deployer_address,
            )
        overlay = self._overlay()
        if overlay.get_class_hash_at(address) != 0:
            raise ExecutionRevertedError(
                f"CONTRACT_ADDRESS_UNAVAILABLE: {address:#x} is already deployed",
                failed_address=address,
            )
        overlay.set_class_hash_at(address, class_hash)
        constructors = declared.compiled.entry_points_by_type[CairoEntryPointType.CONSTRUCTOR]
        if not constructors:
            if calldata:
                raise ExecutionRevertedError(
                    "Cannot pass calldata to a contract with no constructor.",
                    failed_address=address,
                )
            result = CallResult(retdata=[])
        else:
            result = execution.run_entry_point(
                overlay,
                address=address,
                selector=CONSTRUCTOR_SELECTOR,
                calldata=calldata,
                caller=deployer_address,
                tx=tx or _NO_TX,
                chain_id=self._block.chain_id,
                entry_point_type=EntryPointType.CONSTRUCTOR,
                max_steps=self.max_steps,
                initial_gas=self.initial_gas,
            )
        overlay.commit()
        return DeployResult(address=address, result=result)

    def get_class_hash_at(self, address: int) -> int:
        """The class hash of the contract at ``address``, or :class:`ContractNotFoundError`."""
        class_hash = self._data.contracts.get(address, 0)
        if class_hash == 0:
            raise ContractNotFoundError(address)
        return class_hash

    def is_deployed(self, address: int) -> bool:
        """Whether a contract lives at ``address``."""
        return self._data.contracts.get(address, 0) != 0

    # Calls.

    def call(
        self,
        address: int,
        selector: Selector,
        calldata: Sequence[int] = (),
        *,
        caller: int = 0,
        tx: TxContext | None = None,
        entry_point_type: EntryPointType = EntryPointType.EXTERNAL,
    ) -> CallResult:
        """Run an entry point and discard every state change (``starknet_call``).

        Raises :class:`ExecutionRevertedError` if it fails, like :meth:`invoke`.
        """
        return self._run(address, selector, calldata, caller, tx, entry_point_type, False)[0]

    def invoke(
        self,
        address: int,
        selector: Selector,
        calldata: Sequence[int] = (),
        *,
        caller: int = 0,
        tx: TxContext | None = None,
        entry_point_type: EntryPointType = EntryPointType.EXTERNAL,
        validate: bool = False,
    ) -> CallResult:
        """Run an entry point and keep its state changes; on failure keep nothing and raise.

        ``tx`` is what ``get_tx_info()`` returns (all zeros, version 0, if omitted).
        ``validate=True`` runs in Starknet's validate mode: block number and timestamp are
        rounded down and ``call_contract`` to other contracts is refused, as for ``__validate__``.
        """
        result, overlay = self._run(
            address, selector, calldata, caller, tx, entry_point_type, validate
        )
        overlay.commit()
        return result

    def _run(
        self,
        address: int,
        selector: Selector,
        calldata: Sequence[int],
        caller: int,
        tx: TxContext | None,
        entry_point_type: EntryPointType,
        validate: bool,
    ) -> tuple[CallResult, OverlayState]:
        selector_felt = to_selector(selector)
        class_hash = self.get_class_hash_at(address)
        entry_points = self._data.classes[class_hash].compiled.entry_points_by_type[
            _CAIRO_TYPES[entry_point_type]
        ]
        if not any(ep.selector == selector_felt for ep in entry_points):
            raise EntryPointNotFoundError(
                address, selector_felt, selector if isinstance(selector, str) else None
            )
        overlay = self._overlay()
        result = execution.run_entry_point(
            overlay,
            address=address,
            selector=selector_felt,
            calldata=list(calldata),
            caller=caller,
            tx=tx or _NO_TX,
            chain_id=self._block.chain_id,
            entry_point_type=entry_point_type,
            validate_mode=validate,
            max_steps=self.max_steps,
            initial_gas=self.initial_gas,
        )
        return result, overlay

    def _overlay(self) -> OverlayState:
        return self.new_overlay()

    def new_overlay(self) -> OverlayState:
        """The write buffer every call and deploy runs on, merged into the state on success.

        The one extension point for watching writes: a subclass may return an ``OverlayState``
        subclass whose ``commit`` records what each write replaces (the devnet's journal).
        """
        return OverlayState(self._data, self._block_info)

    @property
    def block_info(self) -> Any:
        """cairo-lang's ``BlockInfo`` of :attr:`block`, built once per block (for overlays)."""
        return self._block_info

    # Raw state access.

    def get_storage(self, address: int, key: int) -> int:
        """A raw storage slot (0 if never written)."""
        return self._data.storage.get((address, key), 0)

    def set_storage(self, address: int, key: int, value: int) -> None:
        """Write a raw storage slot (devnet cheat codes, test set-up)."""
        self._data.storage[(address, key)] = value

    def get_nonce(self, address: int) -> int:
        """An account's nonce; the engine never changes it, the devnet's tx flow does."""
        return self._data.nonces.get(address, 0)

    def set_nonce(self, address: int, nonce: int) -> None:
        """Set an account's nonce."""
        self._data.nonces[address] = nonce

    @staticmethod
    def storage_address(var_name: str, *keys: int) -> int:
        """Storage key of ``var_name`` (a ``LegacyMap``/``Map`` entry when keys are given).

        Keys are felts: pass a ``ContractAddress`` as its int; a ``u256`` map key is two felts
        (low, high). Struct fields and u256 values occupy consecutive slots from the base key.
        """
        return int(get_storage_var_address(var_name, *keys))

    @property
    def state(self) -> StateData:
        """The live state (read it for dumps; write through the methods above)."""
        return self._data

    # Snapshots.

    def snapshot(self) -> Snapshot:
        """A copy of state and block to :meth:`restore` later (cost: copying the dicts)."""
        return Snapshot(data=self._data.copy(), block=self._block)

    def restore(self, snapshot: Snapshot) -> None:
        """Go back to ``snapshot``; the snapshot itself stays valid for further restores."""
        self._data = snapshot.data.copy()
        self.set_block(snapshot.block)
