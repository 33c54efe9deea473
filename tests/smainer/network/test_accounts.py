"""Picking a devnet's predeployed account, against a real devnet and a node that is not one."""

from collections.abc import Iterator

import pytest
from starknet_py.net.full_node_client import FullNodeClient

from devnet.dispatch import Dispatcher
from smainer.config import AccountSettings, DevnetSettings
from smainer.network.accounts import load_account, predeployed_account, predeployed_accounts
from smainer.network.errors import AccountConfigError
from tests.devnet.conftest import RunningServer, serve_real_devnet, serve_toy, start_in_thread

CHAIN_ID = 1


@pytest.fixture(scope="module")
def devnet() -> Iterator[RunningServer]:
    server = start_in_thread(serve_real_devnet(DevnetSettings(port=0, seed=5, accounts=3)))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def plain_node() -> Iterator[RunningServer]:
    """A JSON-RPC node that is no devnet: it knows ``starknet_specVersion`` and nothing else."""
    dispatcher = Dispatcher()

    @dispatcher.method("starknet_specVersion")
    def spec_version() -> str:
        return "0.10.2"

    server = start_in_thread(serve_toy(dispatcher))
    yield server
    server.stop()


async def test_picks_the_indexed_account_with_its_own_key(devnet):
    url = f"{devnet.url}/rpc"
    client = FullNodeClient(node_url=url)
    listed = (await predeployed_accounts(url) or [])[2]
    loaded = await predeployed_account(client, url, 2, CHAIN_ID)
    assert loaded.account.address == int(listed["address"], 16)
    assert loaded.account.signer.public_key == int(listed["public_key"], 16)
    assert loaded.source == f"{listed['address']} (devnet predeployed account 2)"
    assert listed["private_key"] not in loaded.source
    assert await loaded.account.get_nonce() == 0


@pytest.mark.parametrize("index", [3, -1])
async def test_an_index_the_devnet_lacks_says_which_it_has(devnet, index):
    url = f"{devnet.url}/rpc"
    with pytest.raises(
        AccountConfigError,
        match=rf"^no predeployed devnet account {index}: the devnet has accounts 0 to 2$",
    ):
        await predeployed_account(FullNodeClient(node_url=url), url, index, CHAIN_ID)


async def test_a_node_that_is_not_a_devnet_is_named_so_without_its_url(plain_node):
    url = f"{plain_node.url}/rpc"
    with pytest.raises(AccountConfigError, match="account 0: the node is not a devnet") as caught:
        await predeployed_account(FullNodeClient(node_url=url), url, 0, CHAIN_ID)
    assert url not in str(caught.value)


async def test_load_account_with_nothing_configured_takes_devnet_account_0(devnet, plain_node):
    url = f"{devnet.url}/rpc"
    listed = (await predeployed_accounts(url) or [])[0]
    loaded = await load_account(FullNodeClient(node_url=url), url, AccountSettings(), CHAIN_ID)
    assert loaded.account.address == int(listed["address"], 16)
    assert loaded.source == f"{listed['address']} (devnet predeployed account 0)"
    other = f"{plain_node.url}/rpc"
    with pytest.raises(AccountConfigError, match=r"^no account configured: set SMAINER_ACCOUNT"):
        await load_account(FullNodeClient(node_url=other), other, AccountSettings(), CHAIN_ID)
