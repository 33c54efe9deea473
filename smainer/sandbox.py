"""The marketplace deployed on an in-process chain: the committed Token and Escrow, ready to use.

One place that knows how the contracts are wired together (constructor arguments, roles, fee
split), shared by the demo, the benchmark and the contract tests, so they all exercise the same
deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smainer.artifacts import load_contract
from smainer.engine import Chain, Event
from smainer.engine.contract import DeployedContract

TOKEN_DECIMALS = 18
ONE_TOKEN = 10**TOKEN_DECIMALS


@dataclass(frozen=True)
class FeeSplit:
    """Basis points of each payout; the escrow requires them to sum to 10000."""

    provider_bps: int = 9300
    gas_bps: int = 200
    treasury_bps: int = 500


@dataclass(frozen=True)
class Roles:
    """Addresses with a protocol role. Plain addresses: the engine lets any address be a caller."""

    owner: int = 0x0A11CE
    scheduler: int = 0x5C4ED
    treasury: int = 0x7EA5
    gas_recipient: int = 0x6A5


@dataclass
class Marketplace:
    """Token and Escrow deployed on ``chain``, with the roles and fee split they were given."""

    chain: Chain
    token: DeployedContract
    escrow: DeployedContract
    roles: Roles
    fees: FeeSplit = field(default_factory=FeeSplit)
    escrow_constructor_events: list[Event] = field(default_factory=list)
    """What the escrow's constructor emitted (``EscrowInitialized``): where a replay of the
    escrow's history from its events starts."""

    def fund(self, user: int, amount: int, *, approve: bool = True) -> None:
        """Mint ``amount`` to ``user`` and, by default, let the escrow pull all of it."""
        self.token.invoke("mint", recipient=user, amount=amount, caller=self.roles.owner)
        if approve:
            self.token.invoke("approve", spender=self.escrow.address, amount=amount, caller=user)

    def balance(self, user: int) -> int:
        balance: int = self.token.call("balance_of", account=user)
        return balance


def _deploy(
    chain: Chain, artifact_name: str, salt: int, **args: Any
) -> tuple[DeployedContract, list[Event]]:
    """Declare and deploy one committed contract; its constructor's own events come back too."""
    artifact = load_contract(artifact_name)
    chain.declare(
        artifact.class_hash,
        artifact.casm,
        artifact.sierra,
        compiled_class_hash=artifact.compiled_class_hash,
    )
    contract, deployed = DeployedContract.deploy(
        chain, artifact.class_hash, artifact.sierra, salt=salt, **args
    )
    return contract, [e for e in deployed.result.events if e.from_address == contract.address]


def deploy_sandbox(
    chain: Chain | None = None,
    *,
    roles: Roles | None = None,
    fees: FeeSplit | None = None,
) -> Marketplace:
    """Declare and deploy the payment token and the escrow, as a devnet genesis or a test would."""
    chain = chain if chain is not None else Chain()
    roles = roles or Roles()
    fees = fees or FeeSplit()
    token, _ = _deploy(
        chain,
        "Token",
        salt=1,
        name=int.from_bytes(b"Smainer Token", "big"),
        symbol=int.from_bytes(b"SMN", "big"),
        decimals=TOKEN_DECIMALS,
        initial_supply=0,
        recipient=roles.owner,
        owner=roles.owner,
    )
    escrow, escrow_events = _deploy(
        chain,
        "Escrow",
        salt=2,
        owner=roles.owner,
        payment_token=token.address,
        scheduler=roles.scheduler,
        treasury=roles.treasury,
        gas_recipient=roles.gas_recipient,
        provider_bps=fees.provider_bps,
        gas_bps=fees.gas_bps,
        treasury_bps=fees.treasury_bps,
    )
    return Marketplace(
        chain=chain,
        token=token,
        escrow=escrow,
        roles=roles,
        fees=fees,
        escrow_constructor_events=escrow_events,
    )
