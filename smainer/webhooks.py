"""Signing and checking Smainer's task callbacks (webhooks), for the notifier and integrators.

The scheme is Stripe's: the sender computes an HMAC-SHA256, keyed by the registration's secret
(its UTF-8 bytes), over ``f"{timestamp}."`` followed by the exact request body, and sends it as
``Smainer-Signature: v1=<hex>`` with ``Smainer-Timestamp: <unix seconds>``. Signing the timestamp
with the body lets a receiver refuse a replayed request: a copy captured today carries today's
timestamp and cannot be re-signed without the secret. The ``v1=`` prefix names the scheme so a
later one can be sent beside it; several comma-separated signatures (e.g. during a secret
rotation) are accepted if any one matches.

Integrators import this module alone (it needs only the standard library)::

    from smainer.webhooks import verify_headers

    if not verify_headers(secret, request.headers, raw_body):
        return 400
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from typing import Protocol

SIGNATURE_HEADER = "Smainer-Signature"
"""``v1=<hex HMAC-SHA256>``; several comma-separated entries are allowed."""

TIMESTAMP_HEADER = "Smainer-Timestamp"
"""Unix time in seconds at which this attempt was signed (each retry is signed anew)."""

DELIVERY_HEADER = "Smainer-Delivery"
"""The delivery's id, the same on every retry: receivers deduplicate on it."""

SCHEME = "v1"
"""The only signature scheme so far: HMAC-SHA256 over ``timestamp.body``."""

DEFAULT_TOLERANCE = 300
"""Seconds a timestamp may differ from the receiver's clock (Stripe's default, five minutes)."""


def new_secret() -> str:
    """A fresh registration secret: 32 random bytes as 64 hex digits."""
    return secrets.token_hex(32)


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` keyed by ``secret``'s UTF-8 bytes."""
    message = f"{timestamp}.".encode() + _bytes(body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes | str, *, timestamp: int | None = None
) -> dict[str, str]:
    """The signature and timestamp headers of one attempt (signed now unless ``timestamp``)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        SIGNATURE_HEADER: f"{SCHEME}={sign(secret, stamp, body)}",
        TIMESTAMP_HEADER: str(stamp),
    }


def verify(
    secret: str,
    signature: str,
    timestamp: int | str,
    body: bytes | str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether ``signature`` (a ``Smainer-Signature`` value) signs ``body`` at ``timestamp``
    with ``secret``, and ``timestamp`` is within ``tolerance`` seconds of ``now`` (past or
    future: a future stamp is as suspect as a stale one). Never raises on malformed input.

    The digests are compared with :func:`hmac.compare_digest`, in constant time, so the
    comparison leaks nothing about how much of a forged signature was right."""
    try:
        stamp = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        return False
    expected = sign(secret, stamp, body)
    found = False
    for part in signature.split(","):
        scheme, _, digest = part.strip().partition("=")
        if scheme == SCHEME and hmac.compare_digest(digest.strip().lower(), expected):
            found = True  # no early return: every candidate costs the same
    return found


class Headers(Protocol):
    """What :func:`verify_headers` reads: a dict, ``http.server``'s message, or a web
    framework's header mapping."""

    def get(self, name: str, /) -> str | None: ...

    def items(self) -> Iterable[tuple[str, str]]: ...


def _header(headers: Headers, name: str) -> str | None:
    """A header by name in any case (plain dicts are case-sensitive; HTTP names are not)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def verify_headers(
    secret: str,
    headers: Headers,
    body: bytes | str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """:func:`verify` with the signature and timestamp read from a request's headers (a dict,
    or any web framework's header mapping); False when either header is missing."""
    signature = _header(headers, SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    if signature is None or timestamp is None:
        return False
    return verify(secret, signature, timestamp, body, tolerance=tolerance, now=now)
