"""``smainer deploy`` against a fresh devnet served over HTTP, run twice, then reconfigured."""

import json
from collections.abc import Iterator

import pytest
from starknet_py.contract import Contract
from starknet_py.net.full_node_client import FullNodeClient

from smainer.chain.deploy import EscrowConfig, deploy_marketplace
from smainer.chain.networks import Network
from smainer.cli import main
from smainer.config import AccountSettings, DevnetSettings
from tests.devnet.conftest import RunningServer, serve_real_devnet, start_in_thread

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_devnet() -> Iterator[RunningServer]:
    server = start_in_thread(serve_real_devnet(DevnetSettings(port=0, seed=3, accounts=1)))
    yield server
    server.stop()


async def test_deploy_twice_changes_nothing_then_applies_a_new_setting(fresh_devnet, tmp_path):
    url = f"{fresh_devnet.url}/rpc"
    network = Network("devnet", url)
    client = FullNodeClient(node_url=url)

    first = await deploy_marketplace(
        network, AccountSettings(), EscrowConfig(), manifest_dir=tmp_path, progress=print
    )
    written = (tmp_path / "devnet.json").read_text()
    assert set(first.contracts) == {"Token", "Escrow"}
    assert first.contracts["Escrow"].declare_tx is not None
    block_after_first = await client.get_block_number()

    second = await deploy_marketplace(
        network, AccountSettings(), EscrowConfig(), manifest_dir=tmp_path, progress=print
    )
    assert await client.get_block_number() == block_after_first, "a second run sent a tx"
    assert (tmp_path / "devnet.json").read_text() == written
    assert second == first

    third = await deploy_marketplace(
        network,
        AccountSettings(),
        EscrowConfig(treasury=0x7EA5, gas_bps=300, provider_bps=9200, max_execution_time=3600),
        manifest_dir=tmp_path,
        progress=print,
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


def test_cli_reports_an_unreachable_network(tmp_path, capsys):
    code = main(["deploy", "--network", "http://127.0.0.1:9/rpc", "--manifest-dir", str(tmp_path)])
    assert code == 1
    assert "is not answering" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
