"""``/events/stream``: server-sent events of newly indexed protocol events, for live views.

The stream polls the index (``stream_poll`` seconds) for raw events after the last one sent and
decodes them with the core decoder (``smainer.events``) from the committed ABIs. Integers up to
2**53 stay JSON numbers; larger ones (felts, amounts) are sent as hex strings so no client
loses precision."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from functools import cache
from typing import Any

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api import params, schemas
from api.queries import IndexReader
from api.state import ApiState
from smainer.artifacts import load_contract
from smainer.events import EventDecodeError, EventDecoder

BATCH = 500
SAFE_INT = 2**53


@cache
def decoders() -> dict[str, EventDecoder]:
    return {name: EventDecoder(load_contract(name).abi) for name in ("Escrow", "Token")}


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if value < SAFE_INT else hex(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _felt(blob: bytes) -> int:
    return int.from_bytes(blob, "big")


def decode_row(row: dict[str, Any], names: dict[int, str]) -> schemas.StreamedEvent | None:
    contract = names.get(_felt(row["from_address"]))
    if contract is None:
        return None
    try:
        decoded = decoders()[contract].decode(
            [_felt(k) for k in row["keys"]], [_felt(d) for d in row["data"]]
        )
    except (EventDecodeError, ValueError, IndexError):
        return None
    return schemas.StreamedEvent(
        event=decoded.name,
        contract=contract,
        block_number=int(row["block_number"]),
        transaction_index=int(row["transaction_index"]),
        event_index=int(row["event_index"]),
        transaction_hash=hex(_felt(row["transaction_hash"])),
        values=_plain(decoded.values),
    )


class EventController(Controller):
    path = "/events"
    tags = ["events"]  # noqa: RUF012

    @get("/stream", summary="Server-sent events of newly indexed events")
    async def stream(
        self,
        api_state: NamedDependency[ApiState],
        from_block: FromQuery[str | None] = None,
        limit: FromQuery[str | None] = None,
    ) -> ServerSentEvent:
        """From the next indexed event on, or from ``from_block``; ends after ``limit`` events
        if given. Each message: ``event`` = the event's name, ``id`` = block:tx:index."""
        start = params.integer(from_block, "from_block")
        most = params.integer(limit, "limit", low=1)

        def read(
            position: tuple[int, int, int] | None,
        ) -> tuple[list[Any], tuple[int, int, int] | None]:
            cursor = api_state.cursor()
            try:
                reader = IndexReader(cursor)
                if position is None and start is None:
                    return [], reader.last_event()
                if position is None:
                    rows = reader.events_from((start or 0, 0, 0), BATCH)
                else:
                    rows = reader.events_after(position, BATCH)
                names = {int(a, 16): n for n, a in reader.contracts().items()}
                out = [e for e in (decode_row(r, names) for r in rows) if e is not None]
                if rows:
                    last = rows[-1]
                    position = (
                        int(last["block_number"]),
                        int(last["transaction_index"]),
                        int(last["event_index"]),
                    )
                return out, position
            finally:
                cursor.close()

        async def events() -> AsyncGenerator[ServerSentEventMessage, None]:
            position: tuple[int, int, int] | None = None
            sent = 0
            while True:
                found, position = await asyncio.to_thread(read, position)
                for event in found:
                    yield ServerSentEventMessage(
                        data=msgspec.json.encode(event).decode(),
                        event=event.event,
                        id=f"{event.block_number}:{event.transaction_index}:{event.event_index}",
                    )
                    sent += 1
                    if most is not None and sent >= most:
                        return
                if not found:
                    await asyncio.sleep(api_state.settings.stream_poll)

        return ServerSentEvent(events())
