"""``deployments/<network>.json``: what a deployment produced, read by every other command.

Written atomically (temp file + rename) so a crash never leaves half a manifest behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_VERSION = 1


@dataclass
class DeployedEntry:
    """One contract of a deployment. Hashes and addresses are 0x-hex strings."""

    class_hash: str
    address: str | None = None
    declare_tx: str | None = None
    deploy_tx: str | None = None
    block: int | None = None


@dataclass
class Manifest:
    """A network's deployment. ``contracts`` is keyed by artifact name (``Escrow``, ``Token``)."""

    network: str
    rpc_url: str
    chain_id: str
    deployer: str
    contracts: dict[str, DeployedEntry] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    transactions: list[str] = field(default_factory=list)
    version: int = MANIFEST_VERSION

    def address(self, name: str) -> int:
        entry = self.contracts.get(name)
        if entry is None or entry.address is None:
            raise KeyError(f"{name} is not deployed in the {self.network} manifest")
        return int(entry.address, 16)

    def payment_token(self) -> int:
        """The escrow's payment token: the deployment's own Token on a devnet, else the one
        ``smainer deploy`` was given (STRK by default), which this manifest does not deploy."""
        token = self.config.get("payment_token")
        if token is None:
            return self.address("Token")
        return int(token, 16)


def manifest_path(directory: Path, network: str) -> Path:
    return directory / f"{network}.json"


def read_manifest(path: Path) -> Manifest | None:
    """The manifest at ``path``, or ``None`` when there is none yet."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    contracts = {name: DeployedEntry(**entry) for name, entry in data.pop("contracts").items()}
    return Manifest(contracts=contracts, **data)


def write_manifest(manifest: Manifest, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asdict(manifest), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
