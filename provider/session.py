"""Connecting a command to a market: the network, its manifest, a reader and a signing account.

Shared by ``smainer provider``, ``smainer scheduler`` and ``smainer task``. The account is the
core's :func:`smainer.network.accounts.load_account` (``SMAINER_ACCOUNT_ADDRESS`` with a keystore
or key; never a flag), or on a devnet the predeployed account ``devnet_account`` (the core's
:func:`~smainer.network.accounts.predeployed_account`). On a devnet, transactions carry fixed
generous resource bounds instead of a fee estimate each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import ClientError as HttpError
from starknet_py.net.full_node_client import FullNodeClient

from provider.errors import ProviderError, RpcUnavailableError
from provider.escrow import EscrowReader, load_market
from provider.transactions import DEVNET_BOUNDS, Sender
from smainer.config import Settings
from smainer.network.accounts import load_account, predeployed_account, predeployed_accounts
from smainer.network.errors import ChainError
from smainer.network.networks import resolve_network


@dataclass(frozen=True)
class Session:
    reader: EscrowReader
    chain_id: int
    is_devnet: bool
    network: str


async def open_session(
    network_spec: str, manifest: Path | None, manifest_dir: Path, settings: Settings
) -> Session:
    try:
        network = resolve_network(network_spec, settings.networks)
        market = load_market(network.name, network.rpc_url, manifest, manifest_dir)
    except (ChainError, FileNotFoundError, KeyError) as exc:
        raise ProviderError(str(exc)) from exc
    client = FullNodeClient(node_url=network.rpc_url)
    try:
        chain_id = int(await client.get_chain_id(), 16)
        is_devnet = await predeployed_accounts(network.rpc_url) is not None
    except (HttpError, OSError) as exc:
        raise RpcUnavailableError(f"{network.rpc_url} is not answering: {exc}") from exc
    return Session(EscrowReader(client, market), chain_id, is_devnet, network.name)


async def open_sender(
    session: Session, settings: Settings, devnet_account: int | None = None, poll: float = 0.25
) -> tuple[Sender, str]:
    """The signing account and a description of where its key came from (never the key)."""
    client = session.reader.client
    url = session.reader.market.rpc_url
    if devnet_account is not None and not session.is_devnet:  # known already: no RPC call
        raise ProviderError(
            f"no predeployed devnet account {devnet_account}: {session.network} is not a devnet"
        )
    try:
        if devnet_account is not None:
            loaded = await predeployed_account(client, url, devnet_account, session.chain_id)
        else:
            loaded = await load_account(client, url, settings.account, session.chain_id)
    except ChainError as exc:
        raise ProviderError(str(exc)) from exc
    account, source = loaded.account, loaded.source
    bounds = DEVNET_BOUNDS if session.is_devnet else None
    return Sender(account, session.chain_id, resource_bounds=bounds, poll_interval=poll), source
