"""The devnet's errors, one class per JSON-RPC error of the Starknet spec (v0.10.2), plus the
two the spec has no code for (``devnet_*`` failures, a subscription limit).

Every failure a client can see is one of these, raised where it happens and turned into a
JSON-RPC error object in one place (:mod:`devnet.dispatch`). Codes and messages are the spec's;
``tests/devnet/test_errors.py`` checks them against the spec files in ``../shared``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class RpcError(Exception):
    """Base of every error answered to a client: ``code``, ``message`` and optional ``data``."""

    code: ClassVar[int] = -32603
    message: ClassVar[str] = "Internal error"

    def __init__(self, data: Any = None) -> None:
        super().__init__(self.message if data is None else f"{self.message}: {data}")
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


# JSON-RPC 2.0 protocol errors.


class ParseError(RpcError):
    code = -32700
    message = "Parse error"


class InvalidRequestError(RpcError):
    code = -32600
    message = "Invalid Request"


class MethodNotFoundError(RpcError):
    code = -32601
    message = "Method not found"


class InvalidParamsError(RpcError):
    code = -32602
    message = "Invalid params"


class InternalError(RpcError):
    code = -32603
    message = "Internal error"


# Starknet read API errors.


class FailedToReceiveTransactionError(RpcError):
    code = 1
    message = "Failed to write transaction"


class ContractNotFoundError(RpcError):
    code = 20
    message = "Contract not found"


class EntrypointNotFoundError(RpcError):
    code = 21
    message = "Requested entry point does not exist in the contract"


class BlockNotFoundError(RpcError):
    code = 24
    message = "Block not found"


class InvalidTransactionIndexError(RpcError):
    code = 27
    message = "Invalid transaction index in a block"


class ClassHashNotFoundError(RpcError):
    code = 28
    message = "Class hash not found"


class TransactionHashNotFoundError(RpcError):
    code = 29
    message = "Transaction hash not found"


class PageSizeTooBigError(RpcError):
    code = 31
    message = "Requested page size is too big"


class NoBlocksError(RpcError):
    code = 32
    message = "There are no blocks"


class InvalidContinuationTokenError(RpcError):
    code = 33
    message = "The supplied continuation token is invalid or unknown"


class TooManyKeysInFilterError(RpcError):
    code = 34
    message = "Too many keys provided in a filter"


class ContractError(RpcError):
    """A call reverted; ``data`` is ``{"revert_error": ...}`` as the spec's CONTRACT_ERROR."""

    code = 40
    message = "Contract error"


class TransactionExecutionError(RpcError):
    """``data`` is ``{"transaction_index": i, "execution_error": ...}`` (estimate/simulate)."""

    code = 41
    message = "Transaction execution error"


class StorageProofNotSupportedError(RpcError):
    code = 42
    message = "the node doesn't support storage proofs for blocks that are too far in the past"


# Starknet write API errors.


class ClassAlreadyDeclaredError(RpcError):
    code = 51
    message = "Class already declared"


class InvalidTransactionNonceError(RpcError):
    code = 52
    message = "Invalid transaction nonce"


class InsufficientResourcesForValidateError(RpcError):
    code = 53
    message = "The transaction's resources don't cover validation or the minimal transaction fee"


class InsufficientAccountBalanceError(RpcError):
    code = 54
    message = (
        "Account balance is smaller than the transaction's maximal fee "
        "(calculated as the sum of each resource's limit x max price)"
    )


class ValidationFailureError(RpcError):
    code = 55
    message = "Account validation failed"


class CompilationFailedError(RpcError):
    code = 56
    message = "Compilation failed"


class ContractClassSizeTooLargeError(RpcError):
    code = 57
    message = "Contract class size is too large"


class NonAccountError(RpcError):
    code = 58
    message = "Sender address is not an account contract"


class DuplicateTransactionError(RpcError):
    code = 59
    message = "A transaction with the same hash already exists in the mempool"


class CompiledClassHashMismatchError(RpcError):
    code = 60
    message = "the compiled class hash did not match the one supplied in the transaction"


class UnsupportedTransactionVersionError(RpcError):
    code = 61
    message = "the transaction version is not supported"


class UnsupportedContractClassVersionError(RpcError):
    code = 62
    message = "the contract class version is not supported"


class UnexpectedError(RpcError):
    code = 63
    message = "An unexpected error occurred"


class ReplacementTransactionUnderpricedError(RpcError):
    code = 64
    message = "Replacement transaction is underpriced"


class FeeBelowMinimumError(RpcError):
    code = 65
    message = "Transaction fee below minimum"


class InvalidProofError(RpcError):
    code = 69
    message = "The proof field in the invoke v3 transaction is invalid"


# Starknet WebSocket API errors.


class InvalidSubscriptionIdError(RpcError):
    code = 66
    message = "Invalid subscription id"


class TooManyAddressesInFilterError(RpcError):
    code = 67
    message = "Too many addresses in filter sender_address filter"


class TooManyBlocksBackError(RpcError):
    code = 68
    message = "Cannot go back more than 1024 blocks"


# Trace API errors.


class NoTraceAvailableError(RpcError):
    code = 10
    message = "No trace available for transaction"


# The devnet's own errors: no spec names them.


class DevnetError(RpcError):
    """A ``devnet_*`` method failed for a reason the client should read (a dump that cannot be
    written, a file that is not a dump). starknet-devnet answers these with code -1."""

    code = -1
    message = "Devnet error"


class TooManySubscriptionsError(RpcError):
    """More subscriptions on one WebSocket than :data:`devnet.subscriptions.MAX_SUBSCRIPTIONS`.
    The spec has no error for it, so this is EIP-1474's "Limit exceeded" (-32005), the code
    JSON-RPC nodes use for such limits."""

    code = -32005
    message = "Limit exceeded"


SPEC_ERRORS: dict[str, type[RpcError]] = {
    "FAILED_TO_RECEIVE_TXN": FailedToReceiveTransactionError,
    "CONTRACT_NOT_FOUND": ContractNotFoundError,
    "ENTRYPOINT_NOT_FOUND": EntrypointNotFoundError,
    "BLOCK_NOT_FOUND": BlockNotFoundError,
    "INVALID_TXN_INDEX": InvalidTransactionIndexError,
    "CLASS_HASH_NOT_FOUND": ClassHashNotFoundError,
    "TXN_HASH_NOT_FOUND": TransactionHashNotFoundError,
    "PAGE_SIZE_TOO_BIG": PageSizeTooBigError,
    "NO_BLOCKS": NoBlocksError,
    "INVALID_CONTINUATION_TOKEN": InvalidContinuationTokenError,
    "TOO_MANY_KEYS_IN_FILTER": TooManyKeysInFilterError,
    "CONTRACT_ERROR": ContractError,
    "TRANSACTION_EXECUTION_ERROR": TransactionExecutionError,
    "STORAGE_PROOF_NOT_SUPPORTED": StorageProofNotSupportedError,
    "CLASS_ALREADY_DECLARED": ClassAlreadyDeclaredError,
    "INVALID_TRANSACTION_NONCE": InvalidTransactionNonceError,
    "INSUFFICIENT_RESOURCES_FOR_VALIDATE": InsufficientResourcesForValidateError,
    "INSUFFICIENT_ACCOUNT_BALANCE": InsufficientAccountBalanceError,
    "VALIDATION_FAILURE": ValidationFailureError,
    "COMPILATION_FAILED": CompilationFailedError,
    "CONTRACT_CLASS_SIZE_IS_TOO_LARGE": ContractClassSizeTooLargeError,
    "NON_ACCOUNT": NonAccountError,
    "DUPLICATE_TX": DuplicateTransactionError,
    "COMPILED_CLASS_HASH_MISMATCH": CompiledClassHashMismatchError,
    "UNSUPPORTED_TX_VERSION": UnsupportedTransactionVersionError,
    "UNSUPPORTED_CONTRACT_CLASS_VERSION": UnsupportedContractClassVersionError,
    "UNEXPECTED_ERROR": UnexpectedError,
    "REPLACEMENT_TRANSACTION_UNDERPRICED": ReplacementTransactionUnderpricedError,
    "FEE_BELOW_MINIMUM": FeeBelowMinimumError,
    "INVALID_PROOF": InvalidProofError,
    "INVALID_SUBSCRIPTION_ID": InvalidSubscriptionIdError,
    "TOO_MANY_ADDRESSES_IN_FILTER": TooManyAddressesInFilterError,
    "TOO_MANY_BLOCKS_BACK": TooManyBlocksBackError,
    "NO_TRACE_AVAILABLE": NoTraceAvailableError,
}
"""The spec's name of each error, for the conformance test and for readers of the spec."""
