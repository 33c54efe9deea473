"""Block 0: the contracts a Starknet client expects to find, and funded accounts.

Like starknet-devnet, the genesis state holds:

* the STRK fee token (our ``Token`` class) at Starknet's canonical STRK address, and a second
  instance at the canonical ETH address (starknet-devnet keeps both; ``devnet_mint`` with
  ``unit: "WEI"`` mints ETH);
* the Universal Deployer at the address starknet-py 0.30's ``deploy_v3`` calls by default, once
  the ``UniversalDeployer`` artifact exists (it offers ``deployContract`` and ``deploy_contract``);
* our ``Account`` class, declared, and ``accounts`` instances of it funded with
  ``initial_balance`` FRI and as many WEI.

**Keys.** Account ``i`` of seed ``s`` has the private key
``int(sha256(f"smainer-devnet:{s}:{i}")) mod (n - 1) + 1`` (``n`` the Stark curve order, so the
key is a valid non-zero scalar) and lives at Starknet's address for the Account class with
``constructor_calldata = [public_key]``, ``salt = public_key`` and deployer 0: exactly where a
client's DEPLOY_ACCOUNT of the same key would put it. Same seed, same accounts, on any machine.

Balances are written straight into the tokens' ``ERC20_balances``/``ERC20_total_supply`` slots
instead of running ``mint`` per account: the same end state, without seconds of VM time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from starknet_py.cairo.felt import encode_shortstring
from starknet_py.constants import EC_ORDER
from starknet_py.net.signer.key_pair import KeyPair

from devnet.journal import JournalingChain
from devnet.models import PredeployedAccount
from devnet.transactions import balance_slot
from smainer.artifacts import ArtifactNotFoundError, ContractArtifact, load_contract

__all__ = [
    "ETH_ADDRESS",
    "MINTER_ADDRESS",
    "STRK_ADDRESS",
    "UDC_ADDRESS",
    "Genesis",
    "build_genesis",
    "derive_private_key",
]

STRK_ADDRESS = 0x04718F5A0FC34CC1AF16A1CDEE98FFB20C31F5CD61D6AB07201858F4287C938D
"""Starknet's STRK token: the v3 fee token."""

ETH_ADDRESS = 0x049D36570D4E46F48E99674BD3FCC84644DDD6B96F7C741B1562B82F9E004DC7
"""Starknet's ETH token."""

UDC_ADDRESS = 0x02CEED65A4BD731034C01113685C831B01C15D7D432F71AFB1CF1634B53A2125
"""The Universal Deployer starknet-py 0.30's ``deploy_v3`` uses by default."""

UDC_ARTIFACT = "UniversalDeployer"

MINTER_ADDRESS = encode_shortstring("DEVNET_MINTER")
"""Owner of both tokens: ``devnet_mint`` runs their ``mint`` as this caller. No contract lives
here, so no key can ever sign for it."""


@dataclass(frozen=True)
class Genesis:
    """Where genesis put things."""

    account_class_hash: int
    accounts: tuple[PredeployedAccount, ...]
    token_class_hash: int
    udc_class_hash: int | None
    """``None`` until the ``UniversalDeployer`` artifact is built."""


def derive_private_key(seed: int, index: int) -> int:
    """The private key of predeployed account ``index`` for ``seed`` (see the module doc)."""
    digest = hashlib.sha256(f"smainer-devnet:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest, "big") % (EC_ORDER - 1) + 1


def _declare(chain: JournalingChain, artifact: ContractArtifact) -> int:
    chain.declare(
        artifact.class_hash,
        artifact.casm,
        artifact.sierra,
        compiled_class_hash=artifact.compiled_class_hash,
    )
    return artifact.class_hash


def _deploy_token(
    chain: JournalingChain, class_hash: int, address: int, name: str, symbol: str
) -> None:
    chain.deploy(
        class_hash,
        [
            encode_shortstring(name),
            encode_shortstring(symbol),
            18,
            0,
            0,
            MINTER_ADDRESS,
            MINTER_ADDRESS,
        ],
        address=address,
    )


def credit(chain: JournalingChain, token: int, address: int, amount: int) -> int:
    """Add ``amount`` to a balance and the total supply by writing the slots; the new balance."""
    slot = balance_slot(address)
    balance = chain.get_storage(token, slot) + (chain.get_storage(token, slot + 1) << 128)
    balance += amount
    chain.set_storage(token, slot, balance % 2**128)
    chain.set_storage(token, slot + 1, balance >> 128)
    supply_slot = chain.storage_address("ERC20_total_supply")
    supply = chain.get_storage(token, supply_slot) + (
        chain.get_storage(token, supply_slot + 1) << 128
    )
    supply += amount
    chain.set_storage(token, supply_slot, supply % 2**128)
    chain.set_storage(token, supply_slot + 1, supply >> 128)
    return balance


def build_genesis(
    chain: JournalingChain, *, seed: int, accounts: int, initial_balance: int
) -> Genesis:
    """Declare and deploy the predeploys on ``chain`` (the devnet then mines block 0)."""
    token_class = _declare(chain, load_contract("Token"))
    _deploy_token(chain, token_class, STRK_ADDRESS, "Starknet Token", "STRK")
    _deploy_token(chain, token_class, ETH_ADDRESS, "Ether", "ETH")

    udc_class: int | None = None
    try:
        udc = load_contract(UDC_ARTIFACT)
    except (ArtifactNotFoundError, KeyError):
        udc = None  # Not built yet: deployments go through accounts only.
    if udc is not None:
        udc_class = _declare(chain, udc)
        chain.deploy(udc_class, [], address=UDC_ADDRESS)

    account_class = _declare(chain, load_contract("Account"))
    predeployed = []
    for index in range(accounts):
        private_key = derive_private_key(seed, index)
        public_key = KeyPair.from_private_key(private_key).public_key
        address = chain.deploy(account_class, [public_key], salt=public_key).address
        for token in (STRK_ADDRESS, ETH_ADDRESS):
            credit(chain, token, address, initial_balance)
        predeployed.append(PredeployedAccount(address, private_key, public_key, initial_balance))
    return Genesis(
        account_class_hash=account_class,
        accounts=tuple(predeployed),
        token_class_hash=token_class,
        udc_class_hash=udc_class,
    )
