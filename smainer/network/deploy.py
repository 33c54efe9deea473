"""Deploy the marketplace to any network, idempotently, and record it in a manifest.

Every step first looks at the chain: a class already declared is not declared again, a contract
already at its (deterministic) address is not deployed again, and a setting that already has the
wanted value is not sent again. So running the deployment twice changes nothing, and a deployment
interrupted half-way finishes where it stopped.

On a devnet the deployment's own Token pays for tasks, and its whole supply is minted to the
deployer; so that the devnet's other predeployed accounts can demand too (``smainer task create
--devnet-account N``, the demo traffic), each of them that holds none is given
:data:`DEVNET_ACCOUNT_GRANT`, all in one multicall.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import ClientError as HttpError
from starknet_py.contract import Contract
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.account.account import Account
from starknet_py.net.client_errors import ClientError
from starknet_py.net.client_models import Call
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.udc_deployer.deployer import Deployer

from smainer.artifacts import load_contract
from smainer.class_hash import compiled_class_hash, sierra_class_hash
from smainer.config import AccountSettings
from smainer.network.accounts import load_account, predeployed_accounts
from smainer.network.errors import ChainError, DeploymentError, NetworkUnreachableError
from smainer.network.manifest import (
    DeployedEntry,
    Manifest,
    manifest_path,
    read_manifest,
    write_manifest,
)
from smainer.network.networks import Network

Progress = Callable[[str], None]

STRK_ADDRESS = 0x04718F5A0FC34CC1AF16A1CDEE98FFB20C31F5CD61D6AB07201858F4287C938D
"""STRK on Sepolia and mainnet (and on the devnet): the default payment token off devnet."""

CLASS_HASH_NOT_FOUND = 28
CONTRACT_NOT_FOUND = 20
RECEIPT_POLL_SECONDS = 0.1
"""``wait_for_tx``'s check interval: it sleeps one interval after seeing a tx accepted before it
fetches the receipt (2 s by default); a devnet accepts in well under a second, and ten status
polls a second are nothing for a public node either."""
RECEIPT_WAIT_SECONDS = 300
"""How long :meth:`Deployment._wait` waits for a transaction to be accepted."""
ONE_SMN = 10**18
"""The devnet Token has 18 decimals."""
DEVNET_TOKEN_SUPPLY = 10**9 * ONE_SMN
DEVNET_ACCOUNT_GRANT = 10**6 * ONE_SMN
"""SMN given to each other predeployed devnet account (0.1 % of the supply: ten accounts leave
the deployer 99 %)."""
U128 = 2**128


@dataclass(frozen=True)
class EscrowConfig:
    """Roles and fee split; ``None`` roles default to the deploying account."""

    scheduler: int | None = None
    treasury: int | None = None
    gas_recipient: int | None = None
    provider_bps: int = 9300
    gas_bps: int = 200
    treasury_bps: int = 500
    max_execution_time: int = 7 * 24 * 3600
    """The longest execution time new tasks may ask for, in seconds (1 ..= 365 days)."""
    payment_token: int | None = None
    """Off devnet defaults to STRK; on devnet the deployment's own Token."""

    @classmethod
    def from_file(cls, path: Path) -> EscrowConfig:
        """Read the ``[escrow]`` table of a TOML file (see ``deployments/config.example.toml``)."""
        try:
            table = tomllib.loads(path.read_text()).get("escrow", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ChainError(f"cannot read deploy config {path}: {exc}") from exc
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(table) - known)
        if unknown:
            raise ChainError(f"{path}: unknown [escrow] keys {unknown}; known: {sorted(known)}")
        values = {k: int(v, 0) if isinstance(v, str) else v for k, v in table.items()}
        return cls(**values)

    def merged(self, **overrides: Any) -> EscrowConfig:
        """This config with every non-``None`` override applied (command-line flags)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class ContractSource:
    """What a declare sends: Sierra and CASM JSON with their hashes."""

    name: str
    sierra: Mapping[str, Any]
    casm: Mapping[str, Any]
    class_hash: int
    compiled_class_hash: int


def committed_source(name: str) -> ContractSource:
    """The committed artifacts (Cairo 2.12, Sierra 1.7): what devnet, Sepolia and mainnet accept."""
    artifact = load_contract(name)
    return ContractSource(
        name, artifact.sierra, artifact.casm, artifact.class_hash, artifact.compiled_class_hash
    )


def scarb_source(name: str, target_dir: Path, package: str = "smainer") -> ContractSource:
    """Artifacts Scarb built from ``scarb-project/`` (what Sepolia and mainnet accept)."""
    sierra_path = target_dir / f"{package}_{name}.contract_class.json"
    casm_path = target_dir / f"{package}_{name}.compiled_contract_class.json"
    for path in (sierra_path, casm_path):
        if not path.exists():
            raise ChainError(f"{path} not found: run `scarb build` in scarb-project/ first")
    sierra = json.loads(sierra_path.read_text())
    casm = json.loads(casm_path.read_text())
    return ContractSource(name, sierra, casm, sierra_class_hash(sierra), compiled_class_hash(casm))


@dataclass
class Deployment:
    """One run of the deployment against one network."""

    network: Network
    client: FullNodeClient
    account: Account
    chain_id: str
    progress: Progress
    manifest: Manifest = field(init=False)

    def __post_init__(self) -> None:
        self.manifest = Manifest(
            network=self.network.name,
            rpc_url=self.network.rpc_url,
            chain_id=self.chain_id,
            deployer=hex(self.account.address),
        )

    async def _wait(self, tx_hash: int, what: str) -> int:
        receipt = await self.client.wait_for_tx(
            tx_hash,
            check_interval=RECEIPT_POLL_SECONDS,
            retries=int(RECEIPT_WAIT_SECONDS / RECEIPT_POLL_SECONDS),
        )
        if receipt.execution_status is not None and receipt.execution_status.value == "REVERTED":
            raise DeploymentError(f"{what} reverted: {receipt.revert_reason}")
        self.manifest.transactions.append(hex(tx_hash))
        return int(receipt.block_number or 0)

    async def is_declared(self, class_hash: int) -> bool:
        try:
            await self.client.get_class_by_hash(class_hash)
        except ClientError as exc:
            if exc.code == CLASS_HASH_NOT_FOUND:
                return False
            raise
        return True

    async def declare(self, source: ContractSource) -> DeployedEntry:
        entry = DeployedEntry(class_hash=hex(source.class_hash))
        if await self.is_declared(source.class_hash):
            self.progress(f"{source.name}: class {entry.class_hash} already declared")
            return entry
        self.progress(f"{source.name}: declaring class {entry.class_hash}")
        result = await Contract.declare_v3(
            self.account,
            compiled_contract=json.dumps(source.sierra),
            compiled_class_hash=source.compiled_class_hash,
            auto_estimate=True,
        )
        entry.declare_tx = hex(result.hash)
        await self._wait(result.hash, f"declare of {source.name}")
        return entry

    async def _deployed_class(self, address: int) -> int | None:
        try:
            return int(await self.client.get_class_hash_at(address))
        except ClientError as exc:
            if exc.code == CONTRACT_NOT_FOUND:
                return None
            raise

    async def deploy(
        self, source: ContractSource, entry: DeployedEntry, calldata: list[int]
    ) -> DeployedEntry:
        """Deploy through the UDC with a salt fixed per contract name, unique to the deployer."""
        salt = int.from_bytes(f"smainer.{source.name}".encode(), "big")
        deployment = Deployer(account_address=self.account.address).create_contract_deployment_raw(
            class_hash=source.class_hash, salt=salt, raw_calldata=calldata
        )
        entry.address = hex(deployment.address)
        existing = await self._deployed_class(deployment.address)
        if existing is not None:
            self.progress(f"{source.name}: already deployed at {entry.address}")
            return entry
        self.progress(f"{source.name}: deploying at {entry.address}")
        result = await self.account.execute_v3(calls=deployment.call, auto_estimate=True)
        entry.deploy_tx = hex(result.transaction_hash)
        entry.block = await self._wait(result.transaction_hash, f"deploy of {source.name}")
        return entry

    async def configure_escrow(self, address: int, config: EscrowConfig) -> dict[str, Any]:
        """Send only the settings that differ from what the escrow already has, in one tx."""
        me = self.account.address
        escrow = await Contract.from_address(address, provider=self.account)
        wanted = {
            "scheduler": config.scheduler or me,
            "treasury": config.treasury or me,
            "gas_recipient": config.gas_recipient or me,
        }
        calls: list[Call] = []
        for role, value in wanted.items():
            (current,) = await escrow.functions[role].call()
            if int(current) != value:
                calls.append(escrow.functions[f"set_{role}"].prepare_invoke_v3(value))
        (fees,) = await escrow.functions["get_fee_config"].call()
        split = {
            "provider_bps": config.provider_bps,
            "gas_bps": config.gas_bps,
            "treasury_bps": config.treasury_bps,
        }
        if any(int(fees[k]) != v for k, v in split.items()):
            calls.append(
                escrow.functions["set_fee_config"].prepare_invoke_v3(
                    config.provider_bps, config.gas_bps, config.treasury_bps
                )
            )
        (max_execution_time,) = await escrow.functions["max_execution_time"].call()
        if int(max_execution_time) != config.max_execution_time:
            calls.append(
                escrow.functions["set_max_execution_time"].prepare_invoke_v3(
                    config.max_execution_time
                )
            )
        if calls:
            self.progress(f"Escrow: updating {len(calls)} setting(s)")
            result = await self.account.execute_v3(calls=calls, auto_estimate=True)
            await self._wait(result.transaction_hash, "escrow configuration")
        else:
            self.progress("Escrow: settings already as configured")
        return {
            **{k: hex(v) for k, v in wanted.items()},
            **split,
            "max_execution_time": config.max_execution_time,
        }

    async def balance(self, token: int, holder: int) -> int:
        """``balance_of`` by a raw call: starknet-py's ``Contract`` would parse the whole ABI."""
        low, high = await self.client.call_contract(
            Call(token, get_selector_from_name("balance_of"), [holder]), block_number="latest"
        )
        return int(low) + int(high) * U128

    async def fund_accounts(self, token: int, accounts: Sequence[int], amount: int) -> int:
        """Give ``amount`` of ``token`` to each of ``accounts`` that holds none, in one multicall
        (so a second run, finding them all funded, sends nothing); returns how many got it."""
        balances = await asyncio.gather(*(self.balance(token, a) for a in accounts))
        empty = [a for a, held in zip(accounts, balances, strict=True) if held == 0]
        if not empty:
            self.progress(f"Token: the {len(accounts)} other predeployed accounts already hold SMN")
            return 0
        needed = amount * len(empty)
        held = await self.balance(token, self.account.address)
        if held < needed:
            self.progress(
                f"Token: the deployer holds {held} base units, less than the {needed} that "
                f"{len(empty)} predeployed accounts need; not funding them"
            )
            return 0
        each = f"{Decimal(amount) / ONE_SMN:f} SMN"
        self.progress(f"Token: giving {each} to each of {len(empty)} predeployed accounts")
        transfer = get_selector_from_name("transfer")
        calls = [Call(token, transfer, [a, amount % U128, amount // U128]) for a in empty]
        result = await self.account.execute_v3(calls=calls, auto_estimate=True)
        await self._wait(result.transaction_hash, "funding of the predeployed accounts")
        return len(empty)


async def deploy_marketplace(
    network: Network,
    account_settings: AccountSettings,
    config: EscrowConfig,
    *,
    manifest_dir: Path,
    scarb_target: Path | None = None,
    progress: Progress = print,
) -> Manifest:
    """Declare what is missing, deploy what is missing, configure, write the manifest.

    The one error boundary of a deployment: whatever starknet-py or the transport raises comes
    out as a :class:`ChainError` (the CLI's one message), never as a library's exception."""
    try:
        return await _deploy_marketplace(
            network,
            account_settings,
            config,
            manifest_dir=manifest_dir,
            scarb_target=scarb_target,
            progress=progress,
        )
    except ClientError as exc:
        raise DeploymentError(f"the node refused a request: {exc.message}") from exc
    except (HttpError, OSError) as exc:
        raise NetworkUnreachableError(f"{network.rpc_url} stopped answering: {exc}") from exc


async def _deploy_marketplace(
    network: Network,
    account_settings: AccountSettings,
    config: EscrowConfig,
    *,
    manifest_dir: Path,
    scarb_target: Path | None,
    progress: Progress,
) -> Manifest:
    client = FullNodeClient(node_url=network.rpc_url)
    try:
        chain_id = await client.get_chain_id()
    except (HttpError, OSError) as exc:
        raise NetworkUnreachableError(f"{network.rpc_url} is not answering: {exc}") from exc
    loaded = await load_account(client, network.rpc_url, account_settings, int(chain_id, 16))
    progress(f"network {network.name} ({network.rpc_url}), chain {chain_id}")
    progress(f"deploying from {loaded.source}")
    run = Deployment(network, client, loaded.account, chain_id, progress)

    def source(name: str) -> ContractSource:
        return committed_source(name) if scarb_target is None else scarb_source(name, scarb_target)

    payment_token = config.payment_token
    if payment_token is None and network.is_devnet:
        token = source("Token")
        entry = await run.declare(token)
        me = loaded.account.address
        calldata = [
            int.from_bytes(b"Smainer Token", "big"),
            int.from_bytes(b"SMN", "big"),
            18,
            DEVNET_TOKEN_SUPPLY % 2**128,
            DEVNET_TOKEN_SUPPLY // 2**128,
            me,
            me,
        ]
        run.manifest.contracts["Token"] = await run.deploy(token, entry, calldata)
        payment_token = int(run.manifest.contracts["Token"].address or "0", 16)
    elif payment_token is None:
        payment_token = STRK_ADDRESS

    escrow = source("Escrow")
    entry = await run.declare(escrow)
    me = loaded.account.address
    # Constructor arguments are fixed (roles = deployer, default split) so the address never
    # depends on the config; the configured values are then applied by setters.
    defaults = EscrowConfig()
    calldata = [
        me, payment_token, me, me, me,
        defaults.provider_bps, defaults.gas_bps, defaults.treasury_bps,
    ]  # fmt: skip
    run.manifest.contracts["Escrow"] = await run.deploy(escrow, entry, calldata)
    settings = await run.configure_escrow(run.manifest.address("Escrow"), config)
    if "Token" in run.manifest.contracts:
        await _fund_predeployed(run, payment_token)
    run.manifest.config = {"payment_token": hex(payment_token), **settings}
    path = manifest_path(manifest_dir, network.name)
    manifest = _carry_over(read_manifest(path), run.manifest)
    write_manifest(manifest, path)
    progress(f"wrote {path}")
    return manifest


async def _fund_predeployed(run: Deployment, token: int) -> None:
    """Give the devnet's other predeployed accounts SMN, so any of them can pay for tasks."""
    accounts = await predeployed_accounts(run.network.rpc_url)
    if accounts is None:
        run.progress("Token: the node lends no predeployed accounts; only the deployer holds SMN")
        return
    me = run.account.address
    others = [int(a["address"], 16) for a in accounts if int(a["address"], 16) != me]
    if others:
        await run.fund_accounts(token, others, DEVNET_ACCOUNT_GRANT)


def _carry_over(previous: Manifest | None, current: Manifest) -> Manifest:
    """Keep the transaction hashes of a previous run for contracts this run found in place.

    So a second run, which sends nothing, writes back the same manifest.
    """
    if previous is None or previous.chain_id != current.chain_id:
        return current
    for name, entry in current.contracts.items():
        old = previous.contracts.get(name)
        if old is None or (old.class_hash, old.address) != (entry.class_hash, entry.address):
            continue
        entry.declare_tx = entry.declare_tx or old.declare_tx
        entry.deploy_tx = entry.deploy_tx or old.deploy_tx
        entry.block = entry.block if entry.block is not None else old.block
    current.transactions = previous.transactions + [
        tx for tx in current.transactions if tx not in previous.transactions
    ]
    return current
