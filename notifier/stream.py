"""A client of the API's server-sent event stream, ``GET /api/v1/events/stream``.

The stream has no ``Last-Event-ID`` resume, but replays from a block (``from_block``): after a
lost connection the client reconnects from the block of the last event it handed out and
skips every event at or before that event's position (block, transaction, event index), so
nothing is missed and nothing is handed out twice. Connection losses and 5xx/429 answers are
retried with exponential backoff; any other 4xx is final (:class:`StreamError`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

import smainer.backoff
from notifier.errors import StreamError
from notifier.store import Position

STREAM_PATH = "/api/v1/events/stream"


@dataclass(frozen=True)
class StreamEvent:
    """One decoded protocol event as the API streams it."""

    name: str
    contract: str
    block_number: int
    transaction_index: int
    event_index: int
    transaction_hash: str
    values: dict[str, Any]

    @property
    def position(self) -> Position:
        return Position(self.block_number, self.transaction_index, self.event_index)

    @classmethod
    def from_json(cls, data: str) -> StreamEvent:
        raw = json.loads(data)
        return cls(
            name=str(raw["event"]),
            contract=str(raw["contract"]),
            block_number=int(raw["block_number"]),
            transaction_index=int(raw["transaction_index"]),
            event_index=int(raw["event_index"]),
            transaction_hash=str(raw["transaction_hash"]),
            values=dict(raw["values"]),
        )


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The ``data`` of each server-sent event in ``lines`` (WHATWG's event-stream format:
    ``field: value`` lines, multi-line data joined by newlines, a blank line ends an event,
    lines starting with ``:`` are comments)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
            data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure: ``base * 2**(n-1)``,
    at most ``cap`` (no failure yet waits as the first did)."""
    return smainer.backoff.backoff_delay(max(failures, 1), base, cap)


class EventStream:
    """Follows the stream from a position, forever, through reconnects."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        api_url: str,
        *,
        log: Callable[[dict[str, Any]], None],
        reconnect_base: float = 0.5,
        reconnect_cap: float = 30.0,
    ) -> None:
        self._client = client
        self._url = api_url.rstrip("/") + STREAM_PATH
        self._log = log
        self._base = reconnect_base
        self._cap = reconnect_cap

    async def events(self, after: Position) -> AsyncIterator[StreamEvent]:
        """Every event after ``after``, in chain order; reconnects as needed."""
        failures = 0
        while True:
            try:
                async for event in self._connect(after):
                    failures = 0
                    after = event.position
                    yield event
                failure = "the stream ended"
            except httpx.HTTPError as exc:
                failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            failures += 1
            delay = backoff_delay(failures, self._base, self._cap)
            self._log(
                {
                    "msg": "stream lost, reconnecting",
                    "error": failure,
                    "retry_in_s": round(delay, 3),
                    "from_block": after.block_number,
                }
            )
            await asyncio.sleep(delay)

    async def _connect(self, after: Position) -> AsyncIterator[StreamEvent]:
        params = {"from_block": str(max(after.block_number, 0))}
        timeout = httpx.Timeout(10.0, read=None)
        async with self._client.stream("GET", self._url, params=params, timeout=timeout) as answer:
            if answer.status_code != 200:
                await answer.aread()
                if 400 <= answer.status_code < 500 and answer.status_code != 429:
                    raise StreamError(
                        f"the API refused the event stream: {answer.status_code} {answer.text}"
                    )
                raise httpx.HTTPError(f"the API answered {answer.status_code}")
            async for data in sse_data(answer.aiter_lines()):
                event = StreamEvent.from_json(data)
                if event.position > after:
                    yield event
