"""What ``smainer notify add|list|remove|log`` do, as plain functions over the store.

``register`` hands the new secret back once, for the command to print; listings never show a
secret, and show callback URLs without user info or query (they may carry a credential).
"""

from __future__ import annotations

from datetime import UTC, datetime

from notifier.store import Delivery, NotifierStore, Registration, normalise_address
from notifier.urls import check_url, redact_url
from smainer.webhooks import new_secret


def register(
    store: NotifierStore, url: str, *, creator: str | None = None, task_id: int | None = None
) -> tuple[Registration, str]:
    """Store a callback for a creator's tasks or for one task; returns it and its new secret."""
    secret = new_secret()
    registration = store.add_registration(
        check_url(url),
        secret=secret,
        creator=None if creator is None else normalise_address(creator),
        task_id=task_id,
    )
    return registration, secret


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]


def registration_lines(registrations: list[Registration]) -> list[str]:
    """The active registrations as a table (no secrets; a config one names its variable)."""
    rows = [
        [
            str(r.id),
            r.origin,
            f"creator {r.creator}" if r.creator is not None else f"task {r.task_id}",
            redact_url(r.url),
            f"${r.secret_env}" if r.secret_env else "(stored)",
            _when(r.created_at),
        ]
        for r in registrations
    ]
    return _table(["ID", "ORIGIN", "FOR", "URL", "SECRET", "CREATED (UTC)"], rows)


def log_lines(deliveries: list[Delivery]) -> list[str]:
    """Deliveries as a table, newest first: state after the last attempt."""
    rows = [
        [
            str(d.id),
            str(d.task_id),
            d.event,
            str(d.registration_id),
            redact_url(d.url),
            d.status,
            str(d.attempts),
            "" if d.response_code is None else str(d.response_code),
            _when(d.updated_at),
            d.last_error or "",
        ]
        for d in deliveries
    ]
    header = ["ID", "TASK", "EVENT", "REG", "URL", "STATUS", "TRIES", "CODE", "UPDATED (UTC)"]
    return _table([*header, "ERROR"], rows)
