"""Errors the engine raises; cairo-lang's ``StarkException`` never leaves the engine.

One base, :class:`EngineError`, so a devnet can map every engine failure to a JSON-RPC error in
one place (e.g. :class:`ContractNotFoundError` → spec code 20 ``CONTRACT_NOT_FOUND``,
:class:`ClassNotDeclaredError` → 28 ``CLASS_HASH_NOT_FOUND``, :class:`ExecutionRevertedError` →
40 ``CONTRACT_ERROR`` / 41 ``TRANSACTION_EXECUTION_ERROR`` or a reverted receipt).
"""

from __future__ import annotations

__all__ = [
    "ClassNotDeclaredError",
    "ContractNotFoundError",
    "EngineError",
    "EntryPointNotFoundError",
    "ExecutionRevertedError",
]


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class ClassNotDeclaredError(EngineError):
    """A deploy (or a lookup) named a class hash that was never declared."""

    def __init__(self, class_hash: int) -> None:
        super().__init__(f"class {class_hash:#x} is not declared")
        self.class_hash = class_hash


class ContractNotFoundError(EngineError):
    """A top-level call targeted an address with no contract deployed."""

    def __init__(self, address: int) -> None:
        super().__init__(f"no contract is deployed at {address:#x}")
        self.address = address


class EntryPointNotFoundError(EngineError):
    """A top-level call named a selector the contract's class does not have."""

    def __init__(self, address: int, selector: int, name: str | None = None) -> None:
        what = f"{name!r} ({selector:#x})" if name else f"{selector:#x}"
        super().__init__(f"contract {address:#x} has no entry point {what}")
        self.address = address
        self.selector = selector


class ExecutionRevertedError(EngineError):
    """The call failed: a panic, a failed inner call, out of gas/steps, or a bad syscall.

    Nothing it did is kept (storage, nonces, deployments, events). ``reason`` is the innermost
    meaningful message, decoded from felt short strings or a Cairo ``ByteArray`` (e.g.
    ``'TASK_NOT_OPEN'``); ``panic_data`` is the raw panic data of the call it came from
    (empty when the failure was not a panic); ``trace`` is the full text cairo-lang produced,
    with Cairo and syscall frames, for logs and RPC ``revert_reason``.
    ``failed_address`` is the contract whose code failed (an inner one for nested calls).
    ``steps`` counts Cairo steps run before the failure, for charging reverted transactions.
    """

    def __init__(
        self,
        reason: str,
        *,
        panic_data: list[int] | None = None,
        trace: str = "",
        steps: int = 0,
        failed_address: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.panic_data: list[int] = list(panic_data or [])
        self.trace = trace
        self.steps = steps
        self.failed_address = failed_address
