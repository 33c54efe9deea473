"""Delivering callbacks: signed POSTs, retried with exponential backoff, every attempt logged.

Each pending delivery runs as its own task: it waits until its next attempt is due (so one slow
or failing receiver never holds up another), POSTs the stored body signed anew with the
attempt's timestamp, and records the outcome before deciding on the next. A 2xx answer
delivers; anything else (another status, a timeout, a refused connection) is retried after
``backoff * 2**(attempt-1)`` seconds, capped, until ``max_attempts``. A stop waits for attempts
already in flight (bounded by the timeout) and leaves the rest pending for the next start.

Delivery is at least once: should the process die between a receiver's 2xx and its record, the
next start sends again, with the same ``Smainer-Delivery`` id, on which receivers deduplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import httpx

from notifier.store import Delivery, NotifierStore
from notifier.urls import redact_url
from smainer.backoff import backoff_delay
from smainer.config import NotifierSettings
from smainer.webhooks import DELIVERY_HEADER, signed_headers

USER_AGENT = "smainer-notifier/1"

IN_FLIGHT = 32
"""Attempts sent at once, at most: a replay of many finished tasks queues here rather than
in the HTTP client's connection pool, where waiting would count against the timeout."""

SecretOf = Callable[[int], str | None]
"""A registration id's secret, or None when it cannot be had (an unset variable)."""


def retry_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds between attempt ``attempt`` (1-based) and the next: doubling, at most ``cap``."""
    return backoff_delay(attempt, base, cap)


def _describe(exc: Exception, url: str) -> str:
    """An attempt's error for the log, with the URL (which may hold a credential) redacted."""
    text = str(exc).replace(url, redact_url(url))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Deliverer:
    """Runs every pending delivery to its end (delivered, failed) or to a stop."""

    def __init__(
        self,
        store: NotifierStore,
        client: httpx.AsyncClient,
        settings: NotifierSettings,
        *,
        secret_of: SecretOf,
        log: Callable[[dict[str, Any]], None],
    ) -> None:
        self._store = store
        self._client = client
        self._settings = settings
        self._secret_of = secret_of
        self._log = log
        self._stopping = asyncio.Event()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(IN_FLIGHT)

    def schedule(self, delivery: Delivery) -> None:
        """Start working on a pending delivery (once, however often it is scheduled)."""
        if delivery.status != "pending" or delivery.id in self._tasks or self._stopping.is_set():
            return
        task = asyncio.create_task(self._run(delivery), name=f"delivery-{delivery.id}")
        self._tasks[delivery.id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(delivery.id, None))

    @property
    def active(self) -> int:
        """Deliveries being worked on now."""
        return len(self._tasks)

    async def stop(self) -> None:
        """Let attempts in flight finish, then end every delivery task; pending ones stay so."""
        self._stopping.set()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _run(self, delivery: Delivery) -> None:
        attempt = delivery.attempts
        due = delivery.next_attempt_at
        while True:
            wait = due - time.time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=wait)
            if self._stopping.is_set():
                return
            attempt += 1
            async with self._slots:
                if self._stopping.is_set():  # stopped while waiting for a slot
                    return
                done, due = await self._attempt(delivery, attempt)
            if done:
                return

    async def _attempt(self, delivery: Delivery, attempt: int) -> tuple[bool, float]:
        """One POST; records it and returns (finished, when the next attempt is due)."""
        settings = self._settings
        started = time.time()
        code: int | None = None
        error: str | None = None
        secret = self._secret_of(delivery.registration_id)
        if secret is None:
            # Removed since the delivery was recorded (or its variable unset): give up now.
            error = "the registration was removed or its secret variable is unset"
        else:
            body = delivery.body.encode()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                DELIVERY_HEADER: delivery.uid,
                **signed_headers(secret, body),
            }
            try:
                answer = await self._client.post(
                    delivery.url, content=body, headers=headers, timeout=settings.timeout
                )
                code = answer.status_code
                if not 200 <= code < 300:
                    error = f"HTTP {code}"
            except httpx.HTTPError as exc:
                error = _describe(exc, delivery.url)
        duration_ms = (time.time() - started) * 1000
        if error is None:
            status, due = "delivered", time.time()
        elif attempt >= settings.max_attempts or secret is None:
            status, due = "failed", time.time()
        else:
            status = "pending"
            due = time.time() + retry_delay(attempt, settings.backoff, settings.backoff_cap)
        self._store.record_attempt(
            delivery.id,
            attempt=attempt,
            started=started,
            duration_ms=round(duration_ms, 3),
            response_code=code,
            error=error,
            status=status,
            next_attempt_at=due,
        )
        self._log(
            {
                "msg": "delivery",
                "outcome": "retrying" if status == "pending" else status,
                "delivery": delivery.uid,
                "task_id": delivery.task_id,
                "event": delivery.event,
                "registration": delivery.registration_id,
                "url": redact_url(delivery.url),
                "attempt": attempt,
                "response_code": code,
                "error": error,
                "duration_ms": round(duration_ms, 1),
                **({"retry_in_s": round(due - time.time(), 3)} if status == "pending" else {}),
            }
        )
        return status != "pending", due
