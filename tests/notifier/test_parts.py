"""The notifier's small pure parts: backoff arithmetic, the event-stream parser, URL redaction,
the registrations file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from notifier.config_file import load_callbacks
from notifier.delivery import retry_delay
from notifier.errors import ConfigFileError
from notifier.stream import backoff_delay, sse_data
from notifier.urls import redact_url


def test_retries_double_up_to_the_cap():
    assert [retry_delay(n, 2.0, 20.0) for n in range(1, 6)] == [2.0, 4.0, 8.0, 16.0, 20.0]
    assert [backoff_delay(n, 0.5, 30.0) for n in (0, 1, 2, 10)] == [0.5, 0.5, 1.0, 30.0]


async def lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def test_the_stream_parser_follows_the_event_stream_format():
    raw = [": comment", "event: TaskCreated", "id: 1:0:0", 'data: {"a":', "data:1}", ""]
    raw += ["retry: 10", "", "data: last"]
    assert [d async for d in sse_data(lines(*raw))] == ['{"a":\n1}', "last"]


def test_urls_are_shown_without_credentials():
    assert redact_url("https://u:p@h.example:8443/x/y?token=1#f") == "https://h.example:8443/x/y?…"
    assert redact_url("http://[::1]:80/h") == "http://[::1]:80/h"


def test_the_registrations_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "callbacks.toml"
    path.write_text(
        '[[callback]]\nurl = "https://h/x"\ncreator = "0x00AB"\nsecret_env = "HOOK_A"\n'
        '[[callback]]\nurl = "http://h/y"\ntask = 3\nsecret_env = "HOOK_B"\n'
    )
    with pytest.raises(ConfigFileError, match="HOOK_A is not set"):
        load_callbacks(path)
    monkeypatch.setenv("HOOK_A", "a" * 64)
    monkeypatch.setenv("HOOK_B", "b" * 64)
    first, second = load_callbacks(path)
    assert (first.creator, first.task_id, first.secret_env) == ("0xab", None, "HOOK_A")
    assert (second.creator, second.task_id, second.url) == (None, 3, "http://h/y")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[callback]]\nurl = "https://h/"\nsecret_env = "V"\n', "either"),
        (
            '[[callback]]\nurl = "https://h/"\ntask = 1\ncreator = "0x1"\nsecret_env = "V"\n',
            "either",
        ),
        ('[[callback]]\nurl = "gopher://h/"\ntask = 1\nsecret_env = "V"\n', "http"),
        ('[[callback]]\nurl = "https://h/"\ntask = "1"\nsecret_env = "V"\n', "task id"),
        ('[[callback]]\nurl = "https://h/"\ntask = 1\nsecret = "x"\n', "unknown keys"),
        ("[hooks]\n", "only"),
        ("[[callback]\n", "TOML"),
    ],
)
def test_a_bad_registrations_file_says_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, problem: str
):
    monkeypatch.setenv("V", "v")
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigFileError, match=problem):
        load_callbacks(path)


def test_settings_come_from_smainer_notify_variables(monkeypatch: pytest.MonkeyPatch):
    from smainer.config import NotifierSettings, get_settings

    values = {
        "SMAINER_NOTIFY_API_URL": "http://api:9000",
        "SMAINER_NOTIFY_STORE": "/tmp/x.sqlite3",
        "SMAINER_NOTIFY_CONFIG": "/tmp/c.toml",
        "SMAINER_NOTIFY_API_KEY": "key-not-to-show",
        "SMAINER_NOTIFY_MAX_ATTEMPTS": "4",
        "SMAINER_NOTIFY_BACKOFF": "0.5",
        "SMAINER_NOTIFY_BACKOFF_CAP": "9",
        "SMAINER_NOTIFY_TIMEOUT": "3",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        notify = get_settings().notify
    finally:
        get_settings.cache_clear()
    assert notify == NotifierSettings(
        api_url="http://api:9000",
        store=Path("/tmp/x.sqlite3"),
        config_file=Path("/tmp/c.toml"),
        api_key="key-not-to-show",
        max_attempts=4,
        backoff=0.5,
        backoff_cap=9.0,
        timeout=3.0,
    )
    assert "key-not-to-show" not in repr(notify)
