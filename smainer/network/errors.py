"""Errors of network work, marked retryable or final at the boundary where they arise."""

from __future__ import annotations


class ChainError(Exception):
    """Base of every failure talking to a network."""

    retryable: bool = False


class NetworkUnreachableError(ChainError):
    """The RPC endpoint did not answer (not started, wrong URL): retrying later may work."""

    retryable = True


class AccountConfigError(ChainError):
    """No usable account: missing address or key, unreadable keystore, wrong password."""


class DeploymentError(ChainError):
    """A declare, deploy or configuration transaction failed or reverted."""
