"""Named networks and how to reach them.

``devnet`` is the embedded devnet's default address; Sepolia and mainnet have no built-in
endpoint (public endpoints come and go), so their URL comes from settings or the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from smainer.config import NetworkSettings
from smainer.network.errors import ChainError

KNOWN = ("devnet", "sepolia", "mainnet")


@dataclass(frozen=True)
class Network:
    """Where to send RPC requests and what to call the deployment manifest."""

    name: str
    """``devnet``, ``sepolia``, ``mainnet`` or ``custom``; names the manifest file."""

    rpc_url: str

    @property
    def is_devnet(self) -> bool:
        return self.name == "devnet"


def resolve_network(spec: str, settings: NetworkSettings) -> Network:
    """``devnet``, ``sepolia``, ``mainnet`` (URL from settings) or an RPC URL (named ``custom``)."""
    if spec in KNOWN:
        url = {
            "devnet": settings.devnet_rpc_url,
            "sepolia": settings.sepolia_rpc_url,
            "mainnet": settings.mainnet_rpc_url,
        }[spec]
        if not url:
            env = f"SMAINER_{spec.upper()}_RPC_URL"
            raise ChainError(f"no RPC URL for {spec}: set {env} or pass the URL as --network")
        return Network(spec, url)
    parsed = urlparse(spec)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ChainError(f"unknown network {spec!r}: use {', '.join(KNOWN)} or an http(s) URL")
    return Network("custom", spec)
