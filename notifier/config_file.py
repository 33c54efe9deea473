"""The registrations file (TOML): callbacks an operator keeps under version control.

Each ``[[callback]]`` table has a ``url``, either ``creator`` (an address) or ``task`` (an id),
and ``secret_env``, the name of the environment variable holding its signing secret, so the
file itself holds no secret::

    [[callback]]
    url = "https://example.com/hooks/smainer"
    creator = "0x64b48806902a367c8598f4f95c305e8c1a1acba5f082d294a43793113115691"
    secret_env = "EXAMPLE_HOOK_SECRET"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from notifier.errors import ConfigFileError, RegistrationError
from notifier.store import ConfiguredCallback, normalise_address
from notifier.urls import check_url
from smainer.config import read_secret_variable

KEYS = {"url", "creator", "task", "secret_env"}


def _callback(index: int, entry: Any) -> ConfiguredCallback:
    where = f"callback {index + 1}"
    if not isinstance(entry, dict):
        raise ConfigFileError(f"{where}: a [[callback]] table expected")
    unknown = set(entry) - KEYS
    if unknown:
        raise ConfigFileError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(KEYS)})")
    if ("creator" in entry) == ("task" in entry):
        raise ConfigFileError(f"{where}: give either 'creator' or 'task'")
    url, secret_env = entry.get("url"), entry.get("secret_env")
    if not isinstance(url, str) or not isinstance(secret_env, str) or not secret_env:
        raise ConfigFileError(f"{where}: 'url' and 'secret_env' must be strings")
    task = entry.get("task")
    if "task" in entry and (not isinstance(task, int) or isinstance(task, bool) or task < 0):
        raise ConfigFileError(f"{where}: 'task' must be a task id (an integer)")
    try:
        creator = normalise_address(str(entry["creator"])) if "creator" in entry else None
        checked = check_url(url)
    except RegistrationError as exc:
        raise ConfigFileError(f"{where}: {exc}") from None
    if read_secret_variable(secret_env) is None:
        raise ConfigFileError(f"{where}: the environment variable {secret_env} is not set")
    return ConfiguredCallback(url=checked, creator=creator, task_id=task, secret_env=secret_env)


def load_callbacks(path: Path) -> list[ConfiguredCallback]:
    """The file's registrations, checked; every variable they name must be set."""
    try:
        document = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigFileError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path} is not valid TOML: {exc}") from None
    entries = document.get("callback", [])
    if set(document) - {"callback"} or not isinstance(entries, list):
        raise ConfigFileError(f"{path}: only [[callback]] tables are expected")
    return [_callback(i, entry) for i, entry in enumerate(entries)]
