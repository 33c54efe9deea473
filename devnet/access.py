"""Who may drive the devnet over HTTP and WebSocket: an allow-list of browser origins and hosts.

A devnet listens on loopback, but any web page the operator opens can still reach it: a
``text/plain`` POST needs no CORS preflight, and DNS rebinding turns a foreign name into
``127.0.0.1``. So a request whose ``Origin`` (browsers always send one cross-origin) is not a
loopback page, the configured host or an allowed origin is refused, and so is a ``Host`` that
names none of them: an IP literal or a loopback name is what a local client sends, a rebinding
page sends its own domain. ``--allowed-origins '*'`` turns both checks off.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from smainer.config import DevnetSettings

__all__ = ["LOOPBACK_NAMES", "AccessPolicy"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
"""Names a local client reaches the devnet by."""

_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


@dataclass(frozen=True)
class AccessPolicy:
    """The origins and ``Host`` names a request may carry."""

    host: str = "127.0.0.1"
    """The interface the devnet listens on (``--host``): pages served from it are local."""

    allowed_origins: tuple[str, ...] = ()
    """Extra origins, e.g. ``http://my-dapp.test:3000``; ``*`` allows any."""

    @classmethod
    def from_settings(cls, settings: DevnetSettings) -> AccessPolicy:
        return cls(host=settings.host, allowed_origins=tuple(settings.allowed_origins))

    @property
    def allows_any(self) -> bool:
        return "*" in self.allowed_origins

    def _local_names(self) -> set[str]:
        names = set(LOOPBACK_NAMES)
        if self.host.lower() not in _WILDCARD_HOSTS:
            names.add(self.host.lower().strip("[]"))
        return names

    def origin_allowed(self, origin: str | None) -> bool:
        """No ``Origin`` (curl, starknet-py, node) or an allowed one."""
        if origin is None or self.allows_any:
            return True
        normalized = origin.strip().rstrip("/").lower()
        if normalized in {o.rstrip("/").lower() for o in self.allowed_origins}:
            return True
        try:
            parts = urlsplit(normalized)
            hostname = parts.hostname
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and hostname in self._local_names()

    def host_allowed(self, host: str | None) -> bool:
        """A ``Host`` a local client sends: an IP literal, a loopback name, the configured host
        or the host of an allowed origin; never a stranger's domain (DNS rebinding)."""
        if host is None or self.allows_any:
            return True
        try:
            hostname = urlsplit(f"//{host.strip()}").hostname
        except ValueError:
            return False
        if not hostname:
            return False
        try:
            ipaddress.ip_address(hostname)
        except ValueError:
            pass
        else:
            return True
        allowed = self._local_names()
        for origin in self.allowed_origins:
            try:
                allowed.add((urlsplit(origin.strip().lower()).hostname or "").strip())
            except ValueError:
                continue
        return hostname in allowed or hostname.endswith(".localhost")
