"""Engine failures as the spec's errors: the one mapping from :mod:`smainer.engine` to RPC.

The engine raises :class:`~smainer.engine.EngineError` subclasses; what a client sees depends on
where the failure happened, and the spec fixes it:

* a call (``starknet_call``, ``starknet_estimateMessageFee``, a cheat running a contract):
  :func:`call_error`: no contract is 20, a missing entry point 21 (or 40 where the method does
  not list 21), a revert 40 ``CONTRACT_ERROR`` with ``{"revert_error": reason}``;
* an account's ``__validate*__`` or a DEPLOY_ACCOUNT constructor: :func:`validation_error`:
  no such entry point is 58 ``NON_ACCOUNT``, a failure 55 ``VALIDATION_FAILURE``;
* a transaction's execution: not an error but a REVERTED receipt: :func:`revert_reason`.
"""

from __future__ import annotations

from devnet.errors import (
    ContractError,
    ContractNotFoundError,
    EntrypointNotFoundError,
    NonAccountError,
    RpcError,
    ValidationFailureError,
)
from devnet.rejections import reject
from smainer.engine import ContractNotFoundError as EngineContractNotFoundError
from smainer.engine import EngineError
from smainer.engine import EntryPointNotFoundError as EngineEntryPointNotFoundError
from smainer.engine import ExecutionRevertedError as EngineRevertedError

__all__ = ["call_error", "contract_error", "revert_reason", "validation_error"]


def contract_error(reason: str) -> ContractError:
    """Spec error 40 ``CONTRACT_ERROR``: a call failed with ``reason``."""
    return ContractError({"revert_error": reason})


def call_error(err: EngineError, *, entry_point_error: bool = True) -> RpcError:
    """The spec error of a failed call; ``entry_point_error=False`` where the method does not
    list 21 ``ENTRYPOINT_NOT_FOUND`` (``starknet_estimateMessageFee``): then it is a 40."""
    if isinstance(err, EngineContractNotFoundError):
        return ContractNotFoundError()
    if isinstance(err, EngineEntryPointNotFoundError):
        return EntrypointNotFoundError() if entry_point_error else contract_error(str(err))
    if isinstance(err, EngineRevertedError):
        return contract_error(err.reason)
    return contract_error(str(err))


def validation_error(err: EngineError, entry_point: str, sender: int) -> RpcError:
    """The spec error of a failed ``__validate*__`` (or DEPLOY_ACCOUNT constructor) run."""
    if isinstance(err, EngineEntryPointNotFoundError):
        return reject(NonAccountError, f"{sender:#x} has no {entry_point}")
    reason = err.reason if isinstance(err, EngineRevertedError) else str(err)
    return ValidationFailureError(f"{entry_point} failed: {reason}")


def revert_reason(err: EngineError) -> str:
    """A receipt's ``revert_reason``: where it failed and the decoded reason, then the trace."""
    if not isinstance(err, EngineRevertedError):
        return f"Transaction execution has failed: {err}"
    where = f" (contract address: {err.failed_address:#x})" if err.failed_address else ""
    text = f"Transaction execution has failed: error in the called contract{where}: {err.reason}"
    if err.trace and err.reason not in err.trace:
        text += f"\n{err.trace}"
    return text
