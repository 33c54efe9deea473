"""The account that signs: from settings (key or encrypted keystore), or a devnet's predeployed one.

Keys come from the environment or a keystore only, never from the command line (shell history,
``ps``) and never into a log; a devnet's predeployed keys are public by design.
"""

from __future__ import annotations

import getpass
import json
import sys
from dataclasses import dataclass

from starknet_py.net.account.account import Account
from starknet_py.net.client import Client
from starknet_py.net.client_errors import ClientError
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.http_client import RpcHttpClient

from smainer.config import AccountSettings
from smainer.network.errors import AccountConfigError
from smainer.network.signer import FastStarkSigner, fast_key_pair

METHOD_NOT_FOUND = -32601


@dataclass(frozen=True)
class LoadedAccount:
    """A signing account and where its key came from (for messages; never the key itself)."""

    account: Account
    source: str


def _private_key(settings: AccountSettings) -> int:
    if settings.private_key:
        try:
            return int(settings.private_key, 0)
        except ValueError:
            raise AccountConfigError("SMAINER_PRIVATE_KEY is not a number") from None
    assert settings.keystore is not None
    try:
        keystore = json.loads(settings.keystore.read_text())
    except (OSError, ValueError) as exc:
        raise AccountConfigError(f"cannot read keystore {settings.keystore}: {exc}") from exc
    password = settings.keystore_password
    if password is None:
        if not sys.stdin.isatty():
            raise AccountConfigError(
                "keystore password needed: set SMAINER_KEYSTORE_PASSWORD or run in a terminal"
            )
        password = getpass.getpass(f"password for {settings.keystore}: ")
    from eth_keyfile import decode_keyfile_json

    try:
        return int.from_bytes(
            decode_keyfile_json(
                keystore,
                password.encode(),  # type: ignore[arg-type]  # its hint says str; KDFs need bytes
            ),
            "big",
        )
    except ValueError:
        raise AccountConfigError(f"wrong password for keystore {settings.keystore}") from None


def signing_account(address: int | str, private_key: int, client: Client, chain_id: int) -> Account:
    """A starknet-py ``Account`` signing with :class:`FastStarkSigner`: the same signatures as
    its default signer, ~3 ms instead of ~200 ms each."""
    signer = FastStarkSigner(address, fast_key_pair(private_key), chain_id)
    return Account(address=address, client=client, signer=signer, chain=chain_id)


async def predeployed_accounts(rpc_url: str) -> list[dict[str, str]] | None:
    """A devnet's predeployed accounts, or ``None`` when the node is not a devnet."""
    try:
        accounts = await RpcHttpClient(rpc_url, method_prefix="devnet").call(
            "getPredeployedAccounts"
        )
    except ClientError as exc:
        if exc.code == METHOD_NOT_FOUND:
            return None
        raise
    return list(accounts)


async def predeployed_account(
    client: Client, rpc_url: str, index: int, chain_id: int
) -> LoadedAccount:
    """The devnet's predeployed account number ``index`` (from 0) as a signing account.

    Raises :class:`AccountConfigError` when ``rpc_url`` is not a devnet, or has no such account
    (saying which it has), so a wrong ``--devnet-account`` or network is named, not an IndexError.
    The URL stays out of the message: a hosted node's URL may hold its API key.
    """
    accounts = await predeployed_accounts(rpc_url)
    if accounts is None:
        raise AccountConfigError(
            f"no predeployed devnet account {index}: the node is not a devnet "
            "(only a devnet lends its predeployed accounts)"
        )
    if not 0 <= index < len(accounts):
        have = f"accounts 0 to {len(accounts) - 1}" if accounts else "no accounts"
        raise AccountConfigError(f"no predeployed devnet account {index}: the devnet has {have}")
    chosen = accounts[index]
    account = signing_account(chosen["address"], int(chosen["private_key"], 16), client, chain_id)
    return LoadedAccount(account, f"{chosen['address']} (devnet predeployed account {index})")


async def load_account(
    client: FullNodeClient, rpc_url: str, settings: AccountSettings, chain_id: int
) -> LoadedAccount:
    """The configured account; on a devnet with none configured, its first predeployed one."""
    if settings.address and (settings.private_key or settings.keystore):
        source = "keystore" if not settings.private_key else "SMAINER_PRIVATE_KEY"
        account = signing_account(settings.address, _private_key(settings), client, chain_id)
        return LoadedAccount(account, f"{settings.address} ({source})")
    if settings.address or settings.private_key or settings.keystore:
        raise AccountConfigError(
            "an account needs SMAINER_ACCOUNT_ADDRESS and SMAINER_PRIVATE_KEY or SMAINER_KEYSTORE"
        )
    try:
        return await predeployed_account(client, rpc_url, 0, chain_id)
    except AccountConfigError as exc:
        raise AccountConfigError(
            "no account configured: set SMAINER_ACCOUNT_ADDRESS and SMAINER_KEYSTORE "
            "(or SMAINER_PRIVATE_KEY); only a devnet lends its predeployed accounts"
        ) from exc
