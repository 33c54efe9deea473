"""Callback URLs: which are accepted, and how they appear in logs and listings.

A URL may carry a credential of the receiver's (``https://user:pass@host/`` or a token in the
query string), so logs, ``notify list`` and ``notify log`` show it without user info and query.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from notifier.errors import RegistrationError


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host; receivers are web servers."""
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        raise RegistrationError(
            f"not a valid port in the callback URL: {redact_url(url)!r}"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistrationError(
            f"a callback URL must be http:// or https:// with a host: {redact_url(url)!r}"
        )
    return url.strip()


def redact_url(url: str) -> str:
    """``url`` without user info, query or fragment: what may be printed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    redacted = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return redacted + ("?…" if parts.query else "")
