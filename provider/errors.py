"""The provider package's errors: one base, each marked retryable or final where it arises.

A final error about a task (:class:`PayloadRejectedError`) means the task is never claimed: the
worker logs it once and lets the deadline pass, so the creator gets the refund by
``reclaim_expired``. A retryable one (:class:`RpcUnavailableError`) is retried with backoff.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every provider, scheduler and demander failure."""

    retryable: bool = False


class PayloadRejectedError(ProviderError):
    """A payload this node will not run: not the committed one, unknown algorithm, wrong shapes
    or types, or above a documented bound. Final: the task is left to expire."""


class RpcUnavailableError(ProviderError):
    """The node did not answer or answered with a transport error: retry later."""

    retryable = True


class TransactionFailedError(ProviderError):
    """A transaction was rejected or reverted; ``reason`` is the contract's revert message."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class TransactionPendingError(ProviderError):
    """A sent transaction was not accepted within the wait: it may still be, so whoever sent it
    keeps it on record and looks again later (retryable)."""

    retryable = True


class CallRevertedError(ProviderError):
    """A view call reverted (``TASK_NOT_FOUND``); ``reason`` is the contract's message."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
