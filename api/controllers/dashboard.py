"""The dashboard at ``/``: a page for people, server-rendered from the same reads as the JSON API
so it shows data before any script runs; ``api/static/dashboard.js`` then keeps it live from
``/api/v1`` and the event stream. Every asset is served by the app (no CDN: it works offline).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.response import Template

from api import schemas
from api.controllers.events import decoders
from api.controllers.stats import current_stats
from api.errors import ApiError
from api.queries import IndexReader
from api.state import ApiState

TASK_ROWS = 25
"""Tasks shown in the live table (the newest)."""

NODE_ROWS = 50
"""Nodes shown (the best by reputation); the online count covers them all."""

TOKEN_DECIMALS = 18
"""Decimals of the payment token's display unit (the deployment's default, ``decimals()``)."""


def token_amount(base_units: str | int | None) -> str:
    """Base units as tokens with up to four decimals (``12.3457``), for people; exact values
    stay in the JSON API."""
    if base_units is None:
        return "-"
    value = int(base_units)
    whole, fraction = divmod(value, 10**TOKEN_DECIMALS)
    shown = f"{fraction / 10**TOKEN_DECIMALS:.4f}"[1:].rstrip("0").rstrip(".")
    if value and whole == 0 and not shown:
        return "<0.0001"
    return f"{whole:,}{shown}"


def short_hex(value: str | None) -> str:
    """``0x1234…abcd`` for addresses and hashes in tables."""
    if value is None:
        return "-"
    return value if len(value) <= 14 else f"{value[:8]}…{value[-4:]}"


def age(seconds_then: int | None, now: int | None) -> str:
    """How long before the last indexed block (chain time) something happened."""
    if seconds_then is None or now is None:
        return "-"
    delta = max(now - seconds_then, 0)
    if delta < 60:
        return f"{delta}s"
    if delta < 3600:
        return f"{delta // 60}m"
    if delta < 86400:
        return f"{delta // 3600}h {delta % 3600 // 60}m"
    return f"{delta // 86400}d {delta % 86400 // 3600}h"


def _event_names() -> list[str]:
    return sorted({name for decoder in decoders().values() for name in decoder.names})


def _snapshot(api_state: ApiState) -> dict[str, Any]:
    """What the page shows on load; an index that cannot answer yet renders empty tables."""
    try:
        cursor = api_state.cursor()
    except ApiError as exc:
        return {"stats": None, "tasks": [], "nodes": [], "nodes_online": 0, "problem": exc.message}
    try:
        reader = IndexReader(cursor, api_state.settings.online_window)
        stats: schemas.Stats = current_stats(reader, api_state)
        tasks = reader.tasks(limit=TASK_ROWS).items
        nodes = reader.nodes()
        return {
            "stats": stats,
            "tasks": tasks,
            "nodes": nodes[:NODE_ROWS],
            "nodes_online": sum(1 for n in nodes if n.online),
            "problem": None,
        }
    finally:
        cursor.close()


class DashboardController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", sync_to_thread=True, name="dashboard")
    def dashboard(self, api_state: NamedDependency[ApiState]) -> Template:
        return Template(
            template_name="dashboard.html",
            context={
                **_snapshot(api_state),
                "task_rows": TASK_ROWS,
                "node_rows": NODE_ROWS,
                "token_decimals": TOKEN_DECIMALS,
                "event_names": _event_names(),
                "read_only": api_state.settings.read_only,
            },
        )


def register_filters(environment: Any) -> None:
    """Jinja filters the template uses (the script formats the same way)."""
    environment.filters["tokens"] = token_amount
    environment.filters["short"] = short_hex
    environment.globals["age"] = age
