"""The rate limit: Litestar's ``RateLimitConfig`` per client address, lifted for holders of an
API key (``Authorization: Bearer <key>``, compared by SHA-256 so settings keep only hashes).
Everything stays readable without a key; ``/health`` is never limited (load balancers poll it),
nor are the schema and the dashboard's static files.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig

from api.settings import ApiSettings

UNLIMITED_PATHS = ["/api/v1/health", "/schema", "/static"]


def hash_key(key: str) -> str:
    """How an API key is stored in the settings: its SHA-256 hex digest."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def has_valid_key(request: Request[Any, Any, Any], hashes: frozenset[str]) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return False
    digest = hash_key(key.strip())
    return any(hmac.compare_digest(digest, known) for known in hashes)


def rate_limit_config(settings: ApiSettings) -> RateLimitConfig | None:
    if settings.rate_limit <= 0:
        return None
    hashes = settings.api_key_hashes

    def throttle(request: Request[Any, Any, Any]) -> bool:
        return not has_valid_key(request, hashes)

    return RateLimitConfig(
        rate_limit=(settings.rate_unit, settings.rate_limit),
        exclude=UNLIMITED_PATHS,
        check_throttle_handler=throttle,
    )
