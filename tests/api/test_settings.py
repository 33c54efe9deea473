"""``SMAINER_API_*`` settings (read by ``smainer/config.py``) and ``smainer api``'s flags over
them: parsed as documented, applied by a real ``smainer api`` process, flags winning."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from api.ratelimit import hash_key
from indexer import open_store
from smainer.cli import main
from smainer.config import get_settings

KEY = "settings-test-key"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_api_settings_come_from_the_environment(monkeypatch, fresh_settings):
    monkeypatch.setenv("SMAINER_API_RATE_LIMIT", "42")
    monkeypatch.setenv("SMAINER_API_KEY_HASHES", f" {hash_key(KEY).upper()} ,, {'0' * 64}")
    monkeypatch.setenv("SMAINER_API_CORS_ORIGINS", "https://a.example,https://b.example")
    monkeypatch.setenv("SMAINER_API_ONLINE_WINDOW", "90")
    api = get_settings().api
    assert api.rate_limit == 42
    assert api.api_key_hashes == (hash_key(KEY), "0" * 64)
    assert api.cors_origins == ("https://a.example", "https://b.example")
    assert api.online_window == 90


def test_defaults_without_the_environment(monkeypatch, fresh_settings):
    for name in list(os.environ):
        if name.startswith("SMAINER_API_"):
            monkeypatch.delenv(name)
    api = get_settings().api
    assert (api.rate_limit, api.api_key_hashes, api.cors_origins, api.online_window) == (
        600,
        (),
        (),
        600,
    )


def test_a_key_instead_of_its_hash_is_refused(monkeypatch, fresh_settings, capsys, tmp_path):
    monkeypatch.setenv("SMAINER_API_KEY_HASHES", KEY)
    assert main(["api", "--read-only", "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "64 hex digits" in capsys.readouterr().err
    assert KEY not in capsys.readouterr().err


def _get(url: str, key: str | None = None) -> int:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0  # not listening yet


@pytest.mark.slow
def test_smainer_api_applies_the_environment_and_flags_override_it(tmp_path):
    db = tmp_path / "empty.duckdb"
    open_store(db).close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "SMAINER_API_RATE_LIMIT": "1000",
        "SMAINER_API_KEY_HASHES": hash_key(KEY),
        "SMAINER_API_CORS_ORIGINS": "https://dash.example",
    }
    command = [sys.executable, "-m", "smainer.cli", "api", "--read-only", "--db", str(db)]
    command += ["--port", str(port), "--rate-limit", "2"]  # the flag beats the variable
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _get(f"{base}/api/v1/health") != 200:
            assert server.poll() is None, "smainer api exited"
            assert time.monotonic() < deadline, "smainer api did not start"
            time.sleep(0.2)
        assert [_get(f"{base}/api/v1/stats") for _ in range(3)] == [200, 200, 429]
        assert _get(f"{base}/api/v1/stats", key=KEY) == 200, "the key from the environment"
        request = urllib.request.Request(
            f"{base}/api/v1/health", headers={"Origin": "https://dash.example"}
        )
        with urllib.request.urlopen(request) as answer:
            assert answer.headers["access-control-allow-origin"] == "https://dash.example"
            assert json.loads(answer.read())["read_only"] is True
    finally:
        server.terminate()
        server.communicate(timeout=30)
