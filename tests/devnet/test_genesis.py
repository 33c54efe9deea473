"""Block 0 (:mod:`devnet.genesis`): fee tokens, the UDC, funded accounts with derived keys."""

from __future__ import annotations

from starknet_py.hash.address import compute_address
from starknet_py.net.signer.key_pair import KeyPair

from devnet.genesis import ETH_ADDRESS, STRK_ADDRESS, UDC_ADDRESS, derive_private_key
from smainer.artifacts import load_contract
from tests.devnet.test_node_helpers import INITIAL, make_devnet, rpc, strk_balance


def test_genesis_predeploys_funded_accounts():
    devnet = make_devnet(accounts=3)
    token = load_contract("Token")
    assert rpc(devnet, "starknet_blockNumber") == 0
    assert rpc(devnet, "starknet_getClassHashAt", ["latest", hex(STRK_ADDRESS)]) == hex(
        token.class_hash
    )
    assert rpc(devnet, "starknet_getClassHashAt", ["latest", hex(ETH_ADDRESS)]) == hex(
        token.class_hash
    )
    assert devnet.udc_address == UDC_ADDRESS
    accounts = rpc(devnet, "devnet_getPredeployedAccounts", {"with_balance": True})
    assert len(accounts) == 3
    for index, (entry, account) in enumerate(
        zip(accounts, devnet.predeployed_accounts, strict=True)
    ):
        # Keys derive from the seed (documented in devnet.genesis) and the address from the key.
        assert account.private_key == derive_private_key(7, index)
        assert account.public_key == KeyPair.from_private_key(account.private_key).public_key
        assert account.address == compute_address(
            class_hash=devnet.account_class_hash,
            constructor_calldata=[account.public_key],
            salt=account.public_key,
        )
        assert int(entry["address"], 16) == account.address
        assert entry["balance"]["strk"] == {"amount": str(INITIAL), "unit": "FRI"}
        assert entry["balance"]["eth"] == {"amount": str(INITIAL), "unit": "WEI"}
        assert strk_balance(devnet, account.address) == INITIAL
    block = rpc(devnet, "starknet_getStateUpdate", {"block_id": {"block_number": 0}})
    deployed = {int(item["address"], 16) for item in block["state_diff"]["deployed_contracts"]}
    assert {STRK_ADDRESS, ETH_ADDRESS, UDC_ADDRESS} <= deployed
    # Same seed, same accounts.
    assert make_devnet(accounts=3).predeployed_accounts == devnet.predeployed_accounts
