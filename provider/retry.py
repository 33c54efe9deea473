"""Retrying RPC work with exponential backoff: transport failures are transient, answers are not.

A JSON-RPC error answer (``starknet_py``'s ``ClientError``: contract not found, a revert in a
call) is the node telling us something, so it is raised at once. A connection refused, a reset,
a timeout or an HTTP 5xx is retried ``attempts`` times, waiting ``base_delay·2^i`` (capped)
between tries; after the last it becomes :class:`~provider.errors.RpcUnavailableError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
from starknet_py.net.client_errors import ClientError

from provider.errors import RpcUnavailableError
from smainer.backoff import backoff_delay

T = TypeVar("T")

TRANSIENT_HTTP = frozenset({"429", "500", "502", "503", "504"})
"""HTTP statuses worth retrying; starknet-py reports a failed HTTP request as a ``ClientError``
whose code is the status as a string (JSON-RPC error codes are integers)."""


@dataclass(frozen=True)
class Backoff:
    attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 10.0

    def delay(self, attempt: int) -> float:
        """Seconds after try ``attempt`` failed; tries count from 0 here, from 1 in the core."""
        return backoff_delay(attempt + 1, self.base_delay, self.max_delay)


DEFAULT_BACKOFF = Backoff()


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, aiohttp.ClientError | OSError | asyncio.TimeoutError):
        return True
    return (
        isinstance(exc, ClientError)
        and str(exc.code) in TRANSIENT_HTTP
        and not isinstance(exc.code, int)
    )


async def retrying(
    operation: Callable[[], Awaitable[T]], what: str, backoff: Backoff = DEFAULT_BACKOFF
) -> T:
    """``await operation()``, retried on transient failures."""
    for attempt in range(backoff.attempts):
        try:
            return await operation()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == backoff.attempts - 1:
                raise RpcUnavailableError(f"{what}: {exc!r}") from exc
            await asyncio.sleep(backoff.delay(attempt))
    raise AssertionError("unreachable")
