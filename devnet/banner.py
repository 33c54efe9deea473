"""The start-up banner, laid out like starknet-devnet's so its users find what they look for.

It prints the predeployed accounts' private keys on purpose: they are throwaway keys of a local
chain, derived from ``--seed``, and copying one from the terminal is how a developer starts. This
is the only place the devnet ever writes a private key; request logs never carry params.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from devnet.models import PredeployedAccount


@dataclass(frozen=True)
class PredeployedContract:
    """A contract deployed at genesis (fee tokens, UDC), shown with its class hash."""

    name: str
    address: int
    class_hash: int


def _hex(value: int) -> str:
    """A felt as starknet-devnet prints it: ``0x`` and 64 hex digits."""
    return f"0x{value:064x}"


def chain_id_hex(chain_id: str) -> str:
    """The chain id's short-string encoding, the value ``starknet_chainId`` answers."""
    return hex(int.from_bytes(chain_id.encode("ascii"), "big"))


def render_banner(
    *,
    accounts: Sequence[PredeployedAccount],
    account_class_hash: int,
    contracts: Sequence[PredeployedContract],
    chain_id: str,
    seed: int,
    url: str,
) -> str:
    lines: list[str] = []
    for contract in contracts:
        lines += [
            f"Predeployed {contract.name}",
            f"Address: {_hex(contract.address)}",
            f"Class Hash: {_hex(contract.class_hash)}",
            "",
        ]
    lines += [f"Chain ID: {chain_id} ({chain_id_hex(chain_id)})", ""]
    for account in accounts:
        lines += [
            f"| Account address |  {_hex(account.address)}",
            f"| Private key     |  {_hex(account.private_key)}",
            f"| Public key      |  {_hex(account.public_key)}",
            "",
        ]
    if accounts:
        balance = accounts[0].initial_balance
        lines += [
            f"Predeployed accounts using class with hash: {_hex(account_class_hash)}",
            f"Initial balance of each account: {balance} WEI and FRI",
        ]
    lines += [
        f"Seed to replicate this account sequence: {seed}",
        "",
        f"Starknet Devnet listening on {url}",
    ]
    return "\n".join(lines)
