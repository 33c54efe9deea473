"""JSON-RPC 2.0 framing through the real HTTP transport: every malformed request gets a proper
error object (code and message of JSON-RPC 2.0 section 5.1), and the server keeps serving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from devnet.errors import ContractError
from tests.devnet.conftest import RunningServer, serve_toy, start_in_thread, toy_dispatcher
from tests.devnet.spec import PROTOCOL_ERRORS, validate_error_object


async def post(server: RunningServer, body: bytes | str, **headers: str) -> tuple[int, Any]:
    data = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": "application/json", **headers}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.url}/rpc", data=data, headers=headers) as response,
    ):
        text = await response.text()
        return response.status, (json.loads(text) if text else None)


@pytest.fixture(scope="module")
def toy_server() -> Iterator[RunningServer]:
    """The shared toy methods plus ``reject``, an error whose data holds what it was given."""
    dispatcher = toy_dispatcher()

    @dispatcher.method("reject")
    def reject(text: str) -> None:
        raise ContractError({"revert_error": text})

    server = start_in_thread(serve_toy(dispatcher, max_body_bytes=64 * 1024))
    yield server
    server.stop()


def assert_error(answer: Any, code: int, request_id: Any = None) -> dict[str, Any]:
    assert set(answer) == {"jsonrpc", "id", "error"}, answer
    assert answer["jsonrpc"] == "2.0"
    assert answer["id"] == request_id
    validate_error_object(answer["error"])
    assert answer["error"]["code"] == code
    if code in PROTOCOL_ERRORS:
        assert answer["error"]["message"] == PROTOCOL_ERRORS[code]
    error: dict[str, Any] = answer["error"]
    return error


def request(method: str, params: Any = None, request_id: Any = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": request_id}
    if params is not None:
        body["params"] = params
    return body


async def assert_alive(server: RunningServer) -> None:
    status, answer = await post(server, json.dumps(request("echo", ["still here"])))
    assert (status, answer["result"]) == (200, "still here")


async def test_result_by_position_and_by_name(toy_server: RunningServer) -> None:
    for params in ([2, 3], {"a": 2, "b": 3}):
        status, answer = await post(toy_server, json.dumps(request("add", params, "x")))
        assert status == 200
        assert answer == {"jsonrpc": "2.0", "id": "x", "result": 5}


@pytest.mark.parametrize(
    "body",
    [b"{", b"not json", b"\xff\xfe", b"", b'{"jsonrpc": "2.0", "method": "echo", "id": 1,}'],
)
async def test_parse_error(toy_server: RunningServer, body: bytes) -> None:
    status, answer = await post(toy_server, body)
    assert status == 200
    assert_error(answer, -32700)
    await assert_alive(toy_server)


@pytest.mark.parametrize(
    ("body", "answer_id"),
    [
        ({"method": "echo", "id": 1}, 1),  # no jsonrpc
        ({"jsonrpc": "1.0", "method": "echo", "id": 1}, 1),
        ({"jsonrpc": "2.0", "method": 5, "id": 1}, 1),
        ({"jsonrpc": "2.0", "id": 1}, 1),
        ({"jsonrpc": "2.0", "method": "echo", "id": {"x": 1}}, None),
        ({"jsonrpc": "2.0", "method": "echo", "id": True}, None),
        ({"jsonrpc": "2.0", "method": "echo", "params": 5, "id": 7}, 7),
        ("a string", None),
        (5, None),
    ],
)
async def test_invalid_request(toy_server: RunningServer, body: Any, answer_id: Any) -> None:
    status, answer = await post(toy_server, json.dumps(body))
    assert status == 200
    assert_error(answer, -32600, answer_id)


async def test_unknown_method(toy_server: RunningServer) -> None:
    _, answer = await post(toy_server, json.dumps(request("starknet_noSuchThing", [], 9)))
    assert_error(answer, -32601, 9)


@pytest.mark.parametrize(
    "params",
    [[1, 2, 3], {"a": 1, "c": 2}, {"b": 2}, []],
    ids=["too-many", "unknown-name", "missing", "missing-positional"],
)
async def test_invalid_params(toy_server: RunningServer, params: Any) -> None:
    _, answer = await post(toy_server, json.dumps(request("add", params)))
    assert_error(answer, -32602, 1)


async def test_handler_error_keeps_its_spec_code(toy_server: RunningServer) -> None:
    _, answer = await post(toy_server, json.dumps(request("fail")))
    assert assert_error(answer, 20, 1) == {"code": 20, "message": "Contract not found"}


async def test_bug_is_an_internal_error_without_details(toy_server: RunningServer) -> None:
    _, answer = await post(toy_server, json.dumps(request("boom")))
    error = assert_error(answer, -32603, 1)
    assert "data" not in error
    assert "5ecre7" not in json.dumps(answer)
    await assert_alive(toy_server)


async def test_batch_mixed_with_notifications_and_errors(toy_server: RunningServer) -> None:
    batch = [
        request("add", [1, 1], 1),
        {"jsonrpc": "2.0", "method": "echo", "params": ["note"]},  # notification: no answer
        request("nope", None, 2),
        {"jsonrpc": "2.0", "method": "boom"},  # a failing notification: still no answer
        "garbage",
        request("echo", [[1, 2]], "three"),
    ]
    status, answers = await post(toy_server, json.dumps(batch))
    assert status == 200
    assert isinstance(answers, list)
    assert len(answers) == 4
    assert answers[0] == {"jsonrpc": "2.0", "id": 1, "result": 2}
    assert_error(answers[1], -32601, 2)
    assert_error(answers[2], -32600, None)
    assert answers[3] == {"jsonrpc": "2.0", "id": "three", "result": [1, 2]}


async def test_batch_of_notifications_answers_nothing(toy_server: RunningServer) -> None:
    batch = [{"jsonrpc": "2.0", "method": "echo", "params": [1]}] * 3
    status, answer = await post(toy_server, json.dumps(batch))
    assert (status, answer) == (204, None)


async def test_empty_batch(toy_server: RunningServer) -> None:
    _, answer = await post(toy_server, "[]")
    assert_error(answer, -32600)


async def test_huge_body_is_refused_with_a_json_rpc_error(toy_server: RunningServer) -> None:
    big = json.dumps(request("echo", ["x" * 200_000]))  # the toy server takes 64 KiB
    status, answer = await post(toy_server, big)
    assert status == 413
    assert_error(answer, -32600)
    await assert_alive(toy_server)


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
async def test_json_content_type_is_served(toy_server: RunningServer, content_type: str):
    status, answer = await post(
        toy_server, json.dumps(request("echo", [7])), **{"Content-Type": content_type}
    )
    assert (status, answer["result"]) == (200, 7)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "", "garbage/;;"],
)
async def test_other_content_types_are_refused(toy_server: RunningServer, content_type: str):
    """Browsers send these (and no type at all) cross-origin without a CORS preflight."""
    status, answer = await post(
        toy_server, json.dumps(request("echo", [7])), **{"Content-Type": content_type}
    )
    assert status == 415
    assert_error(answer, -32600)
    await assert_alive(toy_server)


async def test_deep_nesting_is_a_json_rpc_error(toy_server: RunningServer) -> None:
    """Deep arrays would overflow the parser or a later recursive step: -32700 or -32600."""
    for depth in (65, 995, 5000, 20_000):
        status, answer = await post(toy_server, "[" * depth + "]" * depth)
        assert status == 200
        assert answer["error"]["code"] in (-32700, -32600), depth
        nested = json.dumps(request("echo", [1])).replace("[1]", "[" * depth + "]" * depth)
        status, answer = await post(toy_server, nested)
        assert answer["error"]["code"] in (-32700, -32600), depth
    _, answer = await post(toy_server, json.dumps(request("echo", [[[[1]]]])))
    assert answer["result"] == [[[1]]]
    await assert_alive(toy_server)


async def test_batches_are_bounded(toy_server: RunningServer) -> None:
    allowed = [request("echo", [n], n) for n in range(100)]
    _, answers = await post(toy_server, json.dumps(allowed))
    assert [a["result"] for a in answers] == list(range(100))
    _, answer = await post(toy_server, json.dumps([*allowed, request("echo", [0], 100)]))
    assert "exceeds 100" in assert_error(answer, -32600)["data"]


async def test_error_data_never_echoes_a_huge_input(toy_server: RunningServer) -> None:
    _, answer = await post(toy_server, json.dumps(request("reject", ["y" * 50_000])))
    error = assert_error(answer, 40, 1)
    assert len(json.dumps(error)) < 3000
    assert error["data"]["revert_error"].startswith("yyyy")
    assert "more characters" in error["data"]["revert_error"]


async def test_error_data_drops_a_rust_backtrace(toy_server: RunningServer) -> None:
    text = "error: bad sierra\nstack backtrace:\n   0: std::panicking::begin_panic\n   1: main"
    _, answer = await post(toy_server, json.dumps(request("reject", [text])))
    assert assert_error(answer, 40, 1)["data"] == {"revert_error": "error: bad sierra"}


async def test_survives_everything_in_a_row(toy_server: RunningServer) -> None:
    for body in [b"{", b"[]", b"[1,2]", b"null", b"x" * 100_000, b'{"jsonrpc":"2.0"}']:
        status, _ = await post(toy_server, body)
        assert status in (200, 413)
    await assert_alive(toy_server)
