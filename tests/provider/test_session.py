"""``open_sender`` with ``--devnet-account``: the core's predeployed account, errors as ours."""

from collections.abc import Iterator

import pytest
from starknet_py.net.full_node_client import FullNodeClient

from provider.errors import ProviderError
from provider.escrow import EscrowReader, Market
from provider.session import Session, open_sender
from smainer.config import DevnetSettings, Settings
from smainer.network.accounts import predeployed_accounts
from tests.devnet.conftest import RunningServer, serve_real_devnet, start_in_thread


@pytest.fixture(scope="module")
def devnet() -> Iterator[RunningServer]:
    server = start_in_thread(serve_real_devnet(DevnetSettings(port=0, seed=5, accounts=3)))
    yield server
    server.stop()


def session_on(url: str, *, is_devnet: bool = True) -> Session:
    """A session as ``open_session`` makes it; no market is deployed (none is needed to sign)."""
    market = Market(rpc_url=url, escrow=0, token=0, from_block=0)
    network = "devnet" if is_devnet else "custom"
    return Session(EscrowReader(FullNodeClient(node_url=url), market), 1, is_devnet, network)


async def test_devnet_account_signs_as_that_predeployed_account(devnet):
    url = f"{devnet.url}/rpc"
    listed = (await predeployed_accounts(url) or [])[1]
    sender, source = await open_sender(session_on(url), Settings(), 1)
    assert sender.account.address == int(listed["address"], 16)
    assert source == f"{listed['address']} (devnet predeployed account 1)"


async def test_a_missing_devnet_account_is_a_provider_error_naming_what_exists(devnet):
    url = f"{devnet.url}/rpc"
    with pytest.raises(ProviderError, match=r"account 7: the devnet has accounts 0 to 2$"):
        await open_sender(session_on(url), Settings(), 7)


async def test_devnet_account_on_another_network_is_refused_without_asking_it():
    # Port 9 (discard) answers nothing: an RPC call would fail with a connection error instead.
    session = session_on("http://127.0.0.1:9/rpc", is_devnet=False)
    with pytest.raises(ProviderError, match="account 0: custom is not a devnet"):
        await open_sender(session, Settings(), 0)
