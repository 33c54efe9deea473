"""Small parts: retries, revert reasons, machine detection, the compute thread, result digests."""

import asyncio
from types import SimpleNamespace

import numpy as np
import pytest
from starknet_py.net.client_errors import ClientError

from provider.compute import in_daemon_thread
from provider.errors import RpcUnavailableError
from provider.machine import default_tier, detect, has_accelerator
from provider.results import canonical_json, fit_result, float32_json, sha256_hex
from provider.retry import Backoff, retrying
from provider.transactions import failure, revert_reason

FAST = Backoff(attempts=3, base_delay=0.001)


async def test_transient_failures_are_retried_then_reported():
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError("reset")
        return "ok"

    assert await retrying(flaky, "flaky", FAST) == "ok"

    async def down():
        raise OSError("refused")

    with pytest.raises(RpcUnavailableError, match="down"):
        await retrying(down, "down", FAST)


async def test_answers_are_not_retried():
    calls = []

    async def bad_request():
        calls.append(1)
        raise ClientError(message="Bad request", code="400")

    with pytest.raises(ClientError):
        await retrying(bad_request, "call", FAST)
    assert len(calls) == 1

    async def busy():
        calls.append(1)
        raise ClientError(message="Service unavailable", code="503")

    with pytest.raises(RpcUnavailableError):
        await retrying(busy, "call", FAST)
    assert len(calls) == 1 + FAST.attempts


def test_revert_reason():
    text = (
        "Transaction execution has failed: 0: Error in the called contract (0x12): "
        "(0x5441534b ('TASK_NOT_ASSIGNED'), 0x454e5452 ('ENTRYPOINT_FAILED'))"
    )
    assert revert_reason(text) == "TASK_NOT_ASSIGNED"
    assert revert_reason("Error in the called contract: RESULT_HASH_MISMATCH") == (
        "RESULT_HASH_MISMATCH"
    )
    assert revert_reason("nothing here") is None


def test_machine_detection():
    caps = detect([SimpleNamespace(platform="cpu")])
    assert not caps.gpu
    assert caps.cpu_threads >= 1
    assert caps.tier == default_tier(False, caps.cpu_threads, caps.ram_gb)
    assert has_accelerator([SimpleNamespace(platform="gpu")])
    assert default_tier(True, 64, 256) == 5
    assert default_tier(False, 2, 4) == 1
    assert caps.merged(tier=4, gpu=None).tier == 4


async def test_compute_runs_in_a_thread_and_reports_errors():
    assert await in_daemon_thread(sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        await in_daemon_thread(lambda: 1 / 0)
    loop = asyncio.get_running_loop()
    assert loop.is_running()


def test_float32_json_is_shortest_round_trip():
    values = np.array([0.1, 1 / 3, 1e20, -0.0, np.inf, np.nan], dtype=np.float32)
    out = float32_json(values)
    assert out[:4] == [0.1, 0.33333334, 1e20, -0.0]
    assert out[4:] == ["Infinity", "NaN"]
    assert np.array(out[:4], dtype=np.float32).tobytes() == values[:4].tobytes()


def test_fit_result_digests_what_does_not_fit():
    small = {"algorithm": "x", "values": [1, 2]}
    assert fit_result(small, "values") == small
    big = {"algorithm": "x", "values": list(range(5000))}
    fitted = fit_result(big, "values")
    assert fitted == {"algorithm": "x", "values_sha256": sha256_hex(list(range(5000)))}
    assert canonical_json([1, 2.5, "a"]) == '[1,2.5,"a"]'


def test_a_failure_reads_as_one_line_with_the_contract_reason():
    trace = (
        "Transaction execution has failed: error in the called contract (contract address: 0x5):"
        " NOT_TASK_CREATOR\nError at pc=0:2212:\nCairo traceback (most recent call last):\n"
        "Execution was reverted; failure reason: ['0x4e4f545f5441534b5f43524541544f52']."
    )
    error = failure("transaction 0x1 reverted", trace)
    assert str(error) == "transaction 0x1 reverted: NOT_TASK_CREATOR"
    assert error.reason == "NOT_TASK_CREATOR"
    unknown = failure("transaction refused", "Account validation failed\nmore detail")
    assert str(unknown) == "transaction refused: Account validation failed"
    assert unknown.reason is None
