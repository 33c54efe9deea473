"""A devnet with the marketplace deployed, and the parties of a provider's life on it.

Accounts: 0 deploys and demands, 1 is the scheduler, 2 the provider node, 3 the treasury,
4 the gas recipient, so each share of a payout lands in its own balance.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from starknet_py.net.account.account import Account
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.signer.key_pair import KeyPair

from provider.escrow import EscrowReader, Market, load_market
from provider.transactions import DEVNET_BOUNDS, Sender
from smainer.config import AccountSettings, DevnetSettings
from smainer.network.deploy import EscrowConfig, deploy_marketplace
from smainer.network.networks import Network
from tests.devnet.conftest import serve_real_devnet, start_in_thread

POLL = 0.05


@dataclass
class Deployed:
    url: str
    """The RPC URL (``.../rpc``)."""
    manifest_dir: Path
    keys: list[tuple[int, int]]
    """(address, private key) of the predeployed accounts."""
    chain_id: int

    @property
    def market(self) -> Market:
        return load_market("devnet", self.url, None, self.manifest_dir)

    def reader(self) -> EscrowReader:
        return EscrowReader(FullNodeClient(node_url=self.url), self.market)

    def sender(self, index: int) -> Sender:
        address, key = self.keys[index]
        account = Account(
            address=address,
            client=FullNodeClient(node_url=self.url),
            key_pair=KeyPair.from_private_key(key),
            chain=self.chain_id,
        )
        return Sender(account, self.chain_id, resource_bounds=DEVNET_BOUNDS, poll_interval=POLL)

    async def rpc(self, method: str, params: object = None) -> object:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
        async with aiohttp.ClientSession() as s, s.post(self.url, json=body) as response:
            answer = await response.json()
        assert "result" in answer, answer
        return answer["result"]


async def _deploy(url: str, manifest_dir: Path) -> Deployed:
    client = FullNodeClient(node_url=url)
    chain_id = int(await client.get_chain_id(), 16)
    deployed = Deployed(url, manifest_dir, [], chain_id)
    accounts = await deployed.rpc("devnet_getPredeployedAccounts")
    assert isinstance(accounts, list)
    deployed.keys = [(int(a["address"], 16), int(a["private_key"], 16)) for a in accounts]
    config = EscrowConfig(
        scheduler=deployed.keys[1][0],
        treasury=deployed.keys[3][0],
        gas_recipient=deployed.keys[4][0],
    )
    await deploy_marketplace(
        Network("devnet", url),
        AccountSettings(),
        config,
        manifest_dir=manifest_dir,
        progress=lambda _m: None,
    )
    return deployed


@pytest.fixture(scope="module")
def deployed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    """A devnet per module, with ``DEVNET_ACCOUNTS`` accounts (a module constant, default 5)."""
    accounts = getattr(request.module, "DEVNET_ACCOUNTS", 5)
    settings = DevnetSettings(port=0, seed=11, accounts=accounts)
    server = start_in_thread(serve_real_devnet(settings))
    try:
        manifest_dir = tmp_path_factory.mktemp("deployments")
        yield asyncio.run(_deploy(f"{server.url}/rpc", manifest_dir))
    finally:
        server.stop()
