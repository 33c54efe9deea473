"""The API's settings: one frozen dataclass, built once by ``smainer api`` (or a test) and handed
to :func:`api.app.create_app`. Nothing in ``api/`` reads the environment (house rule: only
``smainer/config.py`` does), so every knob is a field here with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

RateUnit = Literal["second", "minute", "hour", "day"]


@dataclass(frozen=True)
class IndexTarget:
    """What the background indexer follows: a node and the deployment's contracts."""

    rpc_url: str
    """JSON-RPC 0.10 endpoint of the network."""

    addresses: dict[str, int]
    """``{"Escrow": ..., "Token": ...}`` from the deployment manifest."""

    start_block: int
    """The deployment's block: where a fresh index starts."""

    whole_token: bool = True
    """The payment token is the deployment's own; else (STRK) only its transfers into and out
    of the escrow are indexed."""


@dataclass(frozen=True)
class ApiSettings:
    """How the read API serves (``smainer api`` flags; tests build one by hand)."""

    db: Path = Path("smainer.duckdb")
    """The DuckDB index file. DuckDB allows one process on it, so the API indexes it itself."""

    read_only: bool = False
    """Serve a finished index read-only, with no indexer (and no chain) behind it."""

    target: IndexTarget | None = None
    """What to index; required unless ``read_only``."""

    default_limit: int = 50
    """Page size when ``limit`` is not given."""

    max_limit: int = 500
    """The largest ``limit`` accepted; above it is a 400 naming ``limit`` (not a silent cap)."""

    online_window: int = 600
    """Seconds of chain time since a node's last heartbeat or task event for ``online=true``."""

    rate_limit: int = 600
    """Requests per client address per ``rate_unit``; 0 turns the limit off."""

    rate_unit: RateUnit = "minute"
    """The rate limit's window; a 429 says in ``Retry-After`` when it resets."""

    api_key_hashes: frozenset[str] = field(default_factory=frozenset)
    """SHA-256 hex digests of the API keys that lift the rate limit (``Authorization: Bearer``).
    Only hashes are kept, so a leaked settings file reveals no key."""

    cors_origins: tuple[str, ...] = ()
    """Origins allowed by CORS (``*`` for any); none: no CORS headers."""

    stream_poll: float = 0.5
    """Seconds between looks at the index for new events in ``/events/stream``."""

    chain_timeout: float = 2.0
    """Seconds ``/health`` waits for the node before calling the chain unreachable."""
