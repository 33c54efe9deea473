"""cancel_and_wait stops tasks that a single cancellation does not (Python 3.11's wait_for);
gather_or_cancel leaves nothing running when one of its awaitables fails."""

from __future__ import annotations

import asyncio

import pytest

from smainer.aio import cancel_and_wait, gather_or_cancel


async def test_a_task_that_swallows_a_cancellation_is_still_stopped():
    never = asyncio.Event()
    swallowed = []

    async def stubborn() -> None:
        try:
            await never.wait()
        except asyncio.CancelledError:  # what asyncio.wait_for can do on 3.11 (gh-86296)
            swallowed.append(True)
        await never.wait()

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, nudge=0.01), timeout=5)
    assert swallowed == [True]
    assert task.cancelled()


async def test_finished_and_failed_tasks_are_left_as_they_are():
    async def fails() -> None:
        raise ValueError("boom")

    done = asyncio.create_task(asyncio.sleep(0, result=7))
    failed = asyncio.create_task(fails())
    await asyncio.sleep(0.01)
    await cancel_and_wait(done, failed)
    assert done.result() == 7
    with pytest.raises(ValueError, match="boom"):
        failed.result()


async def test_gather_or_cancel_returns_results_in_order():
    async def after(seconds: float, value: int) -> int:
        await asyncio.sleep(seconds)
        return value

    assert await gather_or_cancel(after(0.02, 1), after(0, 2), after(0.01, 3)) == [1, 2, 3]


async def test_the_first_failure_cancels_the_others_before_it_propagates():
    stopped = asyncio.Event()

    async def forever() -> int:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()
        return 0

    async def fail(seconds: float, message: str) -> int:
        await asyncio.sleep(seconds)
        raise ValueError(message)

    with pytest.raises(ValueError, match="first"):
        await gather_or_cancel(forever(), fail(0, "first"), fail(0.01, "second"))
    assert stopped.is_set()  # not left running after the call
