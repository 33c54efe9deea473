"""The HTTP transport and the ``smainer devnet`` command, apart from the chain itself."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devnet.access import AccessPolicy
from smainer import cli
from smainer.config import DevnetSettings
from tests.devnet.conftest import RunningServer, serve_toy, start_in_thread, toy_dispatcher


async def rpc(server: RunningServer, method: str, params: Any = None) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    async with aiohttp.ClientSession() as session, session.post(server.url, json=body) as response:
        return await response.json()


async def test_is_alive(toy_server: RunningServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{toy_server.url}/is_alive") as response,
    ):
        assert (response.status, await response.text()) == (200, "Alive!!!")


@pytest.mark.parametrize(("verb", "path"), [("GET", "/"), ("GET", "/rpc"), ("PUT", "/rpc")])
async def test_other_verbs_are_refused(toy_server: RunningServer, verb: str, path: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.request(verb, f"{toy_server.url}{path}") as response,
    ):
        assert response.status == 405


async def test_loop_stays_responsive_while_the_chain_works(toy_server: RunningServer) -> None:
    """A transaction runs Cairo for a while; liveness and other sockets must not wait for it."""
    busy = asyncio.create_task(rpc(toy_server, "block", [1.0]))
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{toy_server.url}/is_alive") as response,
    ):
        assert response.status == 200
    assert time.perf_counter() - started < 0.5
    assert (await busy)["result"] == 1.0


async def test_chain_work_is_serialized(toy_server: RunningServer) -> None:
    started = time.perf_counter()
    answers = await asyncio.gather(*(rpc(toy_server, "block", [0.2]) for _ in range(3)))
    assert [a["result"] for a in answers] == [0.2] * 3
    assert time.perf_counter() - started >= 0.6


async def test_debug_log_names_methods_never_params(
    toy_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "0x71d7bb07b9a64f6f78ac4c816aff4da9"
    with caplog.at_level(logging.DEBUG, logger="devnet"):
        await rpc(toy_server, "echo", [secret])
        await rpc(toy_server, "boom")
    assert "echo" in caplog.text
    assert secret not in caplog.text
    assert "5ecre7" not in caplog.text.split("Traceback")[0]


# The command line.


def parse(*argv: str) -> Any:
    return cli.build_parser().parse_args(["devnet", *argv])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "http"], "not an integer"),
        (["--port", "70000"], "above 65535"),
        (["--accounts", "-1"], "must not be negative"),
        (["--block-time", "0"], "must be positive"),
        (["--block-time", "soon"], "not a number of seconds"),
        (["--chain-id", "X" * 40], "1-31 ASCII"),
        (["--initial-balance", "1e21"], "not an integer"),
        (["--colour"], "unrecognized arguments"),
    ],
)
def test_bad_flags_are_clear_argparse_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_flags_override_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import devnet.server

    seen: list[DevnetSettings] = []
    monkeypatch.setattr(devnet.server, "run_devnet", seen.append)
    state = tmp_path / "state.json"
    state.write_text("{}")
    argv = ["devnet", "--port", "0", "--seed", "0x2a", "--accounts", "3", "--block-time", "2.5"]
    argv += ["--initial-balance", "1000", "--load-path", str(state), "--chain-id", "SN_MAIN"]
    assert cli.main(argv) == 0
    (settings,) = seen
    assert (settings.port, settings.seed, settings.accounts) == (0, 42, 3)
    assert (settings.block_time, settings.initial_balance) == (2.5, 1000)
    assert (settings.load_path, settings.chain_id) == (state, "SN_MAIN")
    assert settings.host == DevnetSettings().host  # not given: the settings' value


def test_missing_state_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert cli.main(["devnet", "--load-path", str(tmp_path / "nope.json")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no state file" in err


def test_port_in_use_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "smainer.cli", "devnet", "--port", str(port), "--accounts", "1"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(port) in lines[0]
    assert "in use" in lines[0]


def test_help_lists_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["devnet", "--help"])
    text = capsys.readouterr().out
    for flag in ("--host", "--port", "--seed", "--accounts", "--initial-balance", "--block-time"):
        assert flag in text
    for flag in ("--dump-path", "--load-path", "--chain-id"):
        assert flag in text


# Who may drive the devnet: browser origins and Host names (DNS rebinding).


async def post_echo(
    server: RunningServer, method: str = "POST", **headers: str
) -> tuple[int, Any, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": "echo", "params": [5]}
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, f"{server.url}/rpc", json=body if method == "POST" else None, headers=headers
        ) as response,
    ):
        text = await response.text()
        answer = json.loads(text) if text else None
        return response.status, answer, response.headers


@pytest.mark.parametrize(
    "origin", ["http://localhost:3000", "http://127.0.0.1:5173", "https://[::1]:8080"]
)
async def test_loopback_pages_are_served_with_cors(toy_server: RunningServer, origin: str) -> None:
    status, answer, headers = await post_echo(toy_server, Origin=origin)
    assert (status, answer["result"]) == (200, 5)
    assert headers["Access-Control-Allow-Origin"] == origin
    status, _, headers = await post_echo(toy_server, "OPTIONS", Origin=origin)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == origin
    assert "Content-Type" in headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://localhost.evil.example"]
)
async def test_foreign_pages_are_refused(toy_server: RunningServer, origin: str) -> None:
    for method in ("POST", "OPTIONS"):
        status, answer, headers = await post_echo(toy_server, method, Origin=origin)
        assert status == 403
        assert answer["error"]["code"] == -32600
        assert "Access-Control-Allow-Origin" not in headers


async def test_foreign_websocket_origin_is_refused(toy_server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(toy_server.ws_url, origin="https://evil.example")
        assert refused.value.status == 403
        async with session.ws_connect(toy_server.ws_url, origin="http://localhost:1") as ws:
            await ws.send_json({"jsonrpc": "2.0", "id": 1, "method": "echo", "params": [3]})
            assert (await ws.receive_json())["result"] == 3


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example:5050", 403),
        ("evil.example", 403),
        ("localhost:5050", 200),
        ("127.0.0.1", 200),
        ("[::1]:5050", 200),
        ("10.1.2.3:5050", 200),
    ],
)
async def test_host_header_is_checked(toy_server: RunningServer, host: str, status: int) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own domain name: refuse that name."""
    assert (await post_echo(toy_server, Host=host))[0] == status


async def test_is_alive_answers_any_host(toy_server: RunningServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{toy_server.url}/is_alive", headers={"Host": "devnet:5050"}) as response,
    ):
        assert response.status == 200


def test_allowed_origins_open_the_door_to_those_pages_only() -> None:
    server = start_in_thread(
        serve_toy(toy_dispatcher(), access=AccessPolicy(allowed_origins=("http://dapp.test:3000",)))
    )
    try:

        async def probe() -> None:
            ok = await post_echo(server, Origin="http://dapp.test:3000", Host="dapp.test:5050")
            assert ok[0] == 200
            assert (await post_echo(server, Origin="http://dapp.test:4000"))[0] == 403
            assert (await post_echo(server, Host="other.test"))[0] == 403

        asyncio.run(probe())
    finally:
        server.stop()
    anything = AccessPolicy(allowed_origins=("*",))
    assert anything.origin_allowed("https://evil.example")
    assert anything.host_allowed("evil.example")
    listening = AccessPolicy(host="devbox.lan")
    assert listening.origin_allowed("http://devbox.lan:8080")
    assert listening.host_allowed("devbox.lan:5050")
    assert not listening.host_allowed("evil.example")


def test_access_flags_reach_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import devnet.server

    seen: list[DevnetSettings] = []
    monkeypatch.setattr(devnet.server, "run_devnet", seen.append)
    argv = ["devnet", "--allowed-origins", "http://a.test, https://b.test", "--dump-dir"]
    assert cli.main([*argv, str(tmp_path), "--allow-any-dump-path"]) == 0
    (settings,) = seen
    assert settings.allowed_origins == ("http://a.test", "https://b.test")
    assert (settings.dump_dir, settings.allow_any_dump_path) == (tmp_path, True)
    assert cli.main(["devnet"]) == 0
    assert (seen[1].allowed_origins, seen[1].allow_any_dump_path) == ((), False)


def test_access_variables_reach_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from smainer.config import get_settings

    monkeypatch.setenv("SMAINER_DEVNET_ALLOWED_ORIGINS", "http://a.test,*")
    monkeypatch.setenv("SMAINER_DEVNET_DUMP_DIR", "/srv/dumps")
    monkeypatch.setenv("SMAINER_DEVNET_ALLOW_ANY_DUMP_PATH", "1")
    get_settings.cache_clear()
    try:
        settings = get_settings().devnet
    finally:
        get_settings.cache_clear()
    assert settings.allowed_origins == ("http://a.test", "*")
    assert (settings.dump_dir, settings.allow_any_dump_path) == (Path("/srv/dumps"), True)
