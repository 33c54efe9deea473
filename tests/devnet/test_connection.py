"""One WebSocket's outgoing queue (:mod:`devnet.connection`): order, bounds, overflow, close.

The server's side of it (closing an overflowed client with code 1008) runs over a real socket in
``test_websocket.py::test_a_client_that_stops_reading_is_closed``; these pin the queue itself.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

from devnet.connection import MAX_QUEUED_BYTES, MAX_QUEUED_FRAMES, Connection

ROOT = Path(__file__).resolve().parents[2]


async def _drain(connection: Connection) -> list[str]:
    """What the server's writer would write now, each frame marked sent as it does."""
    written = []
    while connection.queued_frames:
        text = await connection.next_frame()
        assert text is not None
        connection.sent(text)
        written.append(text)
    return written


async def test_frames_leave_in_the_order_they_were_queued() -> None:
    connection = Connection(asyncio.get_running_loop())
    connection.send_now('{"id":1}')
    connection.send({"method": "note", "params": [1]})  # compact JSON, as on the wire
    await asyncio.sleep(0)  # send() hands its frame to the loop with call_soon_threadsafe
    connection.send_now('{"id":2}')
    assert await _drain(connection) == ['{"id":1}', '{"method":"note","params":[1]}', '{"id":2}']
    assert (connection.queued_frames, connection.queued_bytes) == (0, 0)
    assert connection.open


async def test_notifications_may_come_from_another_thread() -> None:
    connection = Connection(asyncio.get_running_loop())

    def notify() -> None:
        for n in range(50):
            connection.send({"n": n})

    worker = threading.Thread(target=notify)
    worker.start()
    await asyncio.to_thread(worker.join)
    assert [json.loads(text)["n"] for text in await _drain(connection)] == list(range(50))


async def test_one_frame_over_the_limit_overflows_and_nothing_more_is_queued() -> None:
    connection = Connection(asyncio.get_running_loop(), max_frames=3)
    for n in range(3):
        connection.send({"n": n})
    assert connection.open
    connection.send({"n": 3})  # the fourth: overflow
    connection.send_now('{"id":9}')  # nothing is queued once overflowed
    await asyncio.wait_for(connection.overflow.wait(), 5)
    assert (connection.open, connection.overflowed) == (False, True)
    assert connection.queued_frames == 3
    assert [json.loads(text)["n"] for text in await _drain(connection)] == [0, 1, 2]


async def test_bytes_are_bounded_too() -> None:
    connection = Connection(asyncio.get_running_loop(), max_bytes=100)
    connection.send_now("x" * 60)
    assert connection.open
    connection.send_now("y" * 41)  # 101 bytes would wait
    assert connection.overflow.is_set()
    assert (connection.queued_frames, connection.queued_bytes) == (1, 60)


async def test_a_written_frame_makes_room_again() -> None:
    connection = Connection(asyncio.get_running_loop(), max_frames=1)
    connection.send_now("a")
    assert await _drain(connection) == ["a"]
    connection.send_now("b")  # room again: the first was written
    assert connection.open
    assert await _drain(connection) == ["b"]


async def test_close_ends_the_stream_after_what_was_queued() -> None:
    connection = Connection(asyncio.get_running_loop())
    connection.send_now("last")
    connection.close()
    connection.send({"late": True})  # closed: dropped
    assert await connection.next_frame() == "last"
    assert await connection.next_frame() is None
    assert not connection.open


def test_the_default_limits_are_those_documented() -> None:
    assert (MAX_QUEUED_FRAMES, MAX_QUEUED_BYTES) == (4096, 8 * 1024 * 1024)


def test_the_connection_module_needs_no_subscriptions() -> None:
    """``subscriptions`` imports ``connection``, never the other way round (no import circle)."""
    code = (
        "import json, sys, devnet.connection; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('devnet.'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(loaded) == ["devnet.connection"]
