"""The notifier's run: follow the API's stream, record deliveries, deliver them, stop cleanly.

A first start begins at ``from_block`` if given, else at the API's current head (the block
after ``/health``'s ``indexed_block``), so only tasks finishing from then on are announced;
every later start resumes from the stored position. Deliveries left pending by the last run
are resumed before the stream is read. SIGINT and SIGTERM stop reading the stream, let attempts
in flight finish and keep the rest pending.

Logs are JSON lines on stderr: one per delivery attempt's outcome, and a few about the stream.
No line carries a secret: registrations' secrets are read from the store (or their variable)
only to sign, the API key only goes into the API client's header, and callback URLs are logged
without user info or query.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

import httpx

from notifier.callbacks import FINISHING_EVENTS, callback_body
from notifier.config_file import load_callbacks
from notifier.delivery import Deliverer
from notifier.errors import NotifierError
from notifier.store import (
    ConfiguredCallback,
    NewDelivery,
    NotifierStore,
    Position,
    normalise_address,
    open_store,
)
from notifier.stream import EventStream, StreamEvent, backoff_delay
from smainer.config import NotifierSettings, read_secret_variable

Log = Callable[[dict[str, Any]], None]

POSITION_EVERY = 1.0
"""Seconds between writes of the position while only other events stream past (a finishing
event's position is written with its deliveries)."""


def json_log(stream: TextIO = sys.stderr) -> Log:
    """A log writing each record as one JSON line, with its UTC time first."""

    def write(record: dict[str, Any]) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        print(json.dumps({"ts": stamp, **record}), file=stream, flush=True)

    return write


class Notifier:
    """One notifier over one store; :meth:`run` until ``stop`` is set."""

    def __init__(
        self,
        settings: NotifierSettings,
        store: NotifierStore,
        *,
        callbacks: Iterable[ConfiguredCallback] = (),
        from_block: int | None = None,
        log: Log,
        reconnect_base: float = 0.5,
    ) -> None:
        self._settings = settings
        self._store = store
        self._callbacks = list(callbacks)
        self._from_block = from_block
        self._log = log
        self._reconnect_base = reconnect_base
        self._api_url = settings.api_url.rstrip("/")
        self._unsaved: Position | None = None
        self._saved_at = 0.0

    def secret_of(self, registration_id: int) -> str | None:
        """The secret to sign a registration's deliveries with, read when needed."""
        secret, variable = self._store.secret_source(registration_id)
        if secret is not None:
            return secret
        return None if variable is None else read_secret_variable(variable)

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``; raises :class:`NotifierError` when the API refuses the stream."""
        self._store.sync_config(self._callbacks)
        key = self._settings.api_key
        api_headers = {"Authorization": f"Bearer {key}"} if key else {}
        # Two clients: the API's key must never reach a callback receiver.
        async with (
            httpx.AsyncClient(headers=api_headers) as api,
            httpx.AsyncClient(follow_redirects=False) as receivers,
        ):
            deliverer = Deliverer(
                self._store, receivers, self._settings, secret_of=self.secret_of, log=self._log
            )
            pending = self._store.pending()
            for delivery in pending:
                deliverer.schedule(delivery)
            follow = asyncio.create_task(self._follow(api, deliverer))
            halt = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({follow, halt}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                halt.cancel()
                follow.cancel()
                (outcome,) = await asyncio.gather(follow, return_exceptions=True)
                self._flush_position()
                await deliverer.stop()
                self._log({"msg": "stopped", "pending": len(self._store.pending())})
        if isinstance(outcome, Exception):
            raise outcome  # a StreamError: the API refused the stream

    async def _follow(self, api: httpx.AsyncClient, deliverer: Deliverer) -> None:
        position = self._store.position()
        if position is None:
            position = await self._first_position(api)
            self._store.set_position(position)
        elif self._from_block is not None:
            self._log({"msg": "from_block ignored: resuming from the stored position"})
        self._log(
            {
                "msg": "following the event stream",
                "api": self._api_url,
                "after": list(position),
                "registrations": len(self._store.registrations()),
                "resumed_deliveries": deliverer.active,
            }
        )
        stream = EventStream(api, self._api_url, log=self._log, reconnect_base=self._reconnect_base)
        async for event in stream.events(position):
            if event.name in FINISHING_EVENTS and event.contract == "Escrow":
                await self._finishing(api, deliverer, event)
            else:
                self._unsaved = event.position
                if time.monotonic() - self._saved_at >= POSITION_EVERY:
                    self._flush_position()

    async def _finishing(
        self, api: httpx.AsyncClient, deliverer: Deliverer, event: StreamEvent
    ) -> None:
        """Record (and start) one delivery per matching registration, with the position."""
        task_id = int(event.values["task_id"])
        raw_creator = event.values.get("creator")
        creator = normalise_address(str(raw_creator)) if raw_creator is not None else None
        registrations = self._store.matching(creator, task_id)
        news: list[NewDelivery] = []
        if registrations:
            name = FINISHING_EVENTS[event.name]
            body = callback_body(
                name,
                task_id=task_id,
                creator=creator,
                block_number=event.block_number,
                transaction_hash=event.transaction_hash,
                task=await self._task_detail(api, task_id),
            )
            news = [
                NewDelivery(r.id, task_id, name, event.block_number, event.transaction_hash, body)
                for r in registrations
            ]
        for delivery in self._store.record_event(event.position, news):
            deliverer.schedule(delivery)
        self._unsaved = None
        self._saved_at = time.monotonic()

    def _flush_position(self) -> None:
        if self._unsaved is not None:
            self._store.set_position(self._unsaved)
            self._unsaved = None
        self._saved_at = time.monotonic()

    async def _first_position(self, api: httpx.AsyncClient) -> Position:
        """``from_block``, or the block after the API's head once the API is synced."""
        if self._from_block is not None:
            return Position.before_block(self._from_block)
        failures = 0
        while True:
            try:
                answer = await api.get(f"{self._api_url}/api/v1/health", timeout=10.0)
                if answer.status_code == 200:
                    indexed = answer.json().get("indexed_block")
                    return Position.before_block(0 if indexed is None else int(indexed) + 1)
                problem = f"/health answered {answer.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            failures += 1
            delay = backoff_delay(failures, self._reconnect_base, 30.0)
            self._log({"msg": "waiting for the API", "error": problem, "retry_in_s": delay})
            await asyncio.sleep(delay)

    async def _task_detail(self, api: httpx.AsyncClient, task_id: int) -> dict[str, Any] | None:
        """The API's view of the task; None if it no longer has it (a reorg)."""
        failures = 0
        while True:
            try:
                answer = await api.get(f"{self._api_url}/api/v1/tasks/{task_id}", timeout=10.0)
                if answer.status_code == 200:
                    detail: dict[str, Any] = answer.json()
                    return detail
                if answer.status_code == 404:
                    return None
                problem = f"/tasks/{task_id} answered {answer.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            failures += 1
            delay = backoff_delay(failures, self._reconnect_base, 30.0)
            self._log({"msg": "retrying the task's detail", "error": problem, "retry_in_s": delay})
            await asyncio.sleep(delay)


async def _serve(notifier: Notifier) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await notifier.run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run_notifier(
    settings: NotifierSettings, *, from_block: int | None = None, log: Log | None = None
) -> None:
    """What ``smainer notify`` runs: until SIGINT or SIGTERM. Raises :class:`NotifierError`
    for a bad config file or store, or a stream the API refuses."""
    callbacks = load_callbacks(settings.config_file) if settings.config_file else []
    store = open_store(settings.store)
    try:
        notifier = Notifier(
            settings, store, callbacks=callbacks, from_block=from_block, log=log or json_log()
        )
        asyncio.run(_serve(notifier))
    finally:
        store.close()


__all__ = ["Notifier", "NotifierError", "json_log", "run_notifier"]
