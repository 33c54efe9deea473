"""``smainer deploy`` against a fresh devnet served over HTTP, run twice, then reconfigured."""

import asyncio
import json
from collections.abc import Iterator

import pytest
from starknet_py.contract import Contract
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.account.account import Account
from starknet_py.net.client_models import Call
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.signer.key_pair import KeyPair

from smainer.cli import main
from smainer.config import AccountSettings, DevnetSettings
from smainer.network.accounts import predeployed_accounts
from smainer.network.deploy import (
    DEVNET_ACCOUNT_GRANT,
    DEVNET_TOKEN_SUPPLY,
    EscrowConfig,
    deploy_marketplace,
)
from smainer.network.errors import DeploymentError
from smainer.network.networks import Network
from tests.devnet.conftest import RunningServer, serve_real_devnet, start_in_thread

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_devnet() -> Iterator[RunningServer]:
    server = start_in_thread(serve_real_devnet(DevnetSettings(port=0, seed=3, accounts=3)))
    yield server
    server.stop()


async def balance(client: FullNodeClient, token: int, holder: int) -> int:
    low, high = await client.call_contract(
        Call(token, get_selector_from_name("balance_of"), [holder]), block_number="latest"
    )
    return low + (high << 128)


async def test_deploy_twice_changes_nothing_then_applies_a_new_setting(fresh_devnet, tmp_path):
    url = f"{fresh_devnet.url}/rpc"
    network = Network("devnet", url)
    client = FullNodeClient(node_url=url)

    lines: list[str] = []
    first = await deploy_marketplace(
        network, AccountSettings(), EscrowConfig(), manifest_dir=tmp_path, progress=lines.append
    )
    written = (tmp_path / "devnet.json").read_text()
    assert set(first.contracts) == {"Token", "Escrow"}
    assert first.contracts["Escrow"].declare_tx is not None
    block_after_first = await client.get_block_number()
    # Account 0 deployed and got the supply; the other two were each given their share.
    accounts = [int(a["address"], 16) for a in await predeployed_accounts(url) or []]
    token = first.address("Token")
    balances = [await balance(client, token, a) for a in accounts]
    assert balances == [
        DEVNET_TOKEN_SUPPLY - 2 * DEVNET_ACCOUNT_GRANT,
        DEVNET_ACCOUNT_GRANT,
        DEVNET_ACCOUNT_GRANT,
    ]
    assert "Token: giving 1000000 SMN to each of 2 predeployed accounts" in lines

    lines.clear()
    second = await deploy_marketplace(
        network, AccountSettings(), EscrowConfig(), manifest_dir=tmp_path, progress=lines.append
    )
    assert await client.get_block_number() == block_after_first, "a second run sent a tx"
    assert "Token: the 2 other predeployed accounts already hold SMN" in lines
    assert [await balance(client, token, a) for a in accounts] == balances
    assert (tmp_path / "devnet.json").read_text() == written
    assert second == first

    third_config = EscrowConfig(
        treasury=0x7EA5, gas_bps=300, provider_bps=9200, max_execution_time=3600
    )
    third = await deploy_marketplace(
        network, AccountSettings(), third_config, manifest_dir=tmp_path, progress=print
    )
    assert len(third.transactions) == len(first.transactions) + 1
    escrow = await Contract.from_address(third.address("Escrow"), provider=client)
    (treasury,) = await escrow.functions["treasury"].call()
    (fees,) = await escrow.functions["get_fee_config"].call()
    (token,) = await escrow.functions["payment_token"].call()
    (max_execution_time,) = await escrow.functions["max_execution_time"].call()
    assert treasury == 0x7EA5
    assert max_execution_time == 3600
    assert (fees["provider_bps"], fees["gas_bps"], fees["treasury_bps"]) == (9200, 300, 500)
    assert token == third.address("Token")
    saved = json.loads((tmp_path / "devnet.json").read_text())
    assert saved["config"]["treasury"] == "0x7ea5"
    assert saved["config"]["max_execution_time"] == 3600

    # Account 1 spends all its SMN: the next run gives it a share again, and only it.
    key = int((await predeployed_accounts(url) or [])[1]["private_key"], 16)
    spender = Account(
        address=accounts[1],
        client=client,
        key_pair=KeyPair.from_private_key(key),
        chain=int(await client.get_chain_id(), 16),
    )
    spend = Call(token, get_selector_from_name("transfer"), [accounts[0], DEVNET_ACCOUNT_GRANT, 0])
    sent = await spender.execute_v3(calls=[spend], auto_estimate=True)
    await client.wait_for_tx(sent.transaction_hash, check_interval=0.2)
    lines.clear()
    fourth = await deploy_marketplace(
        network, AccountSettings(), third_config, manifest_dir=tmp_path, progress=lines.append
    )
    assert "Token: giving 1000000 SMN to each of 1 predeployed accounts" in lines
    assert len(fourth.transactions) == len(third.transactions) + 1
    assert [await balance(client, token, a) for a in accounts] == balances


def test_cli_reports_an_unreachable_network(tmp_path, capsys):
    code = main(["deploy", "--network", "http://127.0.0.1:9/rpc", "--manifest-dir", str(tmp_path)])
    assert code == 1
    assert "is not answering" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_node_refusal_comes_out_as_a_chain_error(fresh_devnet, tmp_path):
    """A wrong key: the devnet refuses the signature (starknet-py raises its ClientError); the
    deployment turns it into a DeploymentError, which the CLI prints as one line."""
    url = f"{fresh_devnet.url}/rpc"
    address = (asyncio.run(predeployed_accounts(url)) or [])[1]["address"]
    settings = AccountSettings(address=address, private_key="0x1234")
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the type is the point below
        asyncio.run(
            deploy_marketplace(
                Network("devnet", url), settings, EscrowConfig(), manifest_dir=tmp_path,
                progress=lambda _: None,
            )
        )  # fmt: skip
    assert type(raised.value) is DeploymentError
    assert "the node refused a request" in str(raised.value)
    assert not (tmp_path / "devnet.json").exists()
