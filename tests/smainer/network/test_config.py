"""Deploy inputs that need no network: config files, network names, manifests, keystores."""

import json

import pytest
from eth_keyfile import create_keyfile_json
from starknet_py.net.full_node_client import FullNodeClient

from smainer.config import AccountSettings, NetworkSettings
from smainer.network.accounts import load_account
from smainer.network.deploy import EscrowConfig, _carry_over
from smainer.network.errors import AccountConfigError, ChainError
from smainer.network.manifest import DeployedEntry, Manifest, read_manifest, write_manifest
from smainer.network.networks import resolve_network


def test_config_file_and_flag_overrides(tmp_path):
    path = tmp_path / "deploy.toml"
    path.write_text('[escrow]\nscheduler = "0x5c"\nprovider_bps = 9000\ngas_bps = 500\n')
    config = EscrowConfig.from_file(path).merged(gas_bps=400, treasury_bps=None)
    assert (config.scheduler, config.provider_bps, config.gas_bps) == (0x5C, 9000, 400)
    assert config.treasury_bps == EscrowConfig().treasury_bps


def test_config_file_rejects_unknown_keys(tmp_path):
    path = tmp_path / "deploy.toml"
    path.write_text("[escrow]\nschedular = 1\n")
    with pytest.raises(ChainError, match="unknown \\[escrow\\] keys \\['schedular'\\]"):
        EscrowConfig.from_file(path)


def test_example_config_is_valid():
    config = EscrowConfig.from_file(
        __import__("pathlib").Path(__file__).resolve().parents[3]
        / "deployments"
        / "config.example.toml"
    )
    assert config.provider_bps + config.gas_bps + config.treasury_bps == 10_000


def test_networks():
    settings = NetworkSettings(sepolia_rpc_url="https://rpc.example/sepolia")
    assert resolve_network("devnet", settings).rpc_url == settings.devnet_rpc_url
    assert resolve_network("sepolia", settings).rpc_url == "https://rpc.example/sepolia"
    assert resolve_network("http://127.0.0.1:9/rpc", settings).name == "custom"
    with pytest.raises(ChainError, match="SMAINER_MAINNET_RPC_URL"):
        resolve_network("mainnet", settings)
    with pytest.raises(ChainError, match="unknown network"):
        resolve_network("goerli", settings)


def test_manifest_round_trip_and_carry_over(tmp_path):
    first = Manifest("devnet", "http://x", "0x1", "0xabc")
    first.contracts["Escrow"] = DeployedEntry("0x11", "0x22", "0x33", "0x44", 7)
    first.transactions = ["0x33", "0x44"]
    path = tmp_path / "devnet.json"
    write_manifest(first, path)
    assert read_manifest(path) == first
    # A second run that found everything in place sent nothing: the manifest stays the same.
    second = Manifest("devnet", "http://x", "0x1", "0xabc")
    second.contracts["Escrow"] = DeployedEntry("0x11", "0x22")
    assert _carry_over(read_manifest(path), second) == first


async def test_keystore_account_needs_the_right_password(tmp_path):
    private_key = 0x1234567
    keystore = tmp_path / "key.json"
    keystore.write_text(
        json.dumps(
            create_keyfile_json(
                private_key.to_bytes(32, "big"),
                b"s3cret",  # type: ignore[arg-type]  # its hint says str; the KDF needs bytes
                iterations=2,
            )
        )
    )
    client = FullNodeClient(node_url="http://127.0.0.1:9/rpc")
    settings = AccountSettings(address="0xa", keystore=keystore, keystore_password="s3cret")
    loaded = await load_account(client, "http://127.0.0.1:9/rpc", settings, 1)
    assert loaded.account.signer.public_key != 0
    assert "0x1234567" not in loaded.source
    assert "s3cret" not in repr(settings)
    wrong = AccountSettings(address="0xa", keystore=keystore, keystore_password="nope")
    with pytest.raises(AccountConfigError, match="wrong password"):
        await load_account(client, "http://127.0.0.1:9/rpc", wrong, 1)
    half = AccountSettings(address="0xa")
    with pytest.raises(AccountConfigError, match="SMAINER_PRIVATE_KEY or SMAINER_KEYSTORE"):
        await load_account(client, "http://127.0.0.1:9/rpc", half, 1)
