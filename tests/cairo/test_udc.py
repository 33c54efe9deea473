"""Tests of the Universal Deployer Contract (cairo/udc.cairo), run in the in-process engine.

The UDC must deploy exactly where starknet-py 0.30's own ``Deployer`` says it will (users compare
the address they computed with the one deployed), through both entry points: ``deployContract``,
which starknet-py's ``Deployer`` / ``Contract.deploy_contract_v3`` call, and ``deploy_contract``
(starknet.js 10, OpenZeppelin's current UDC). Deploying twice at one address must revert.
"""

from typing import Any

import pytest
from starknet_py.abi.v0 import AbiParser as AbiParserV0
from starknet_py.hash.address import compute_address
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.hash.utils import pedersen_hash
from starknet_py.net.udc_deployer.deployer import ContractDeployment, Deployer
from starknet_py.serialization import serializer_for_event

from smainer.artifacts import load_contract
from smainer.engine import CallResult, Chain, ExecutionRevertedError
from smainer.engine.contract import DeployedContract

ALICE = 0xA11
BOB = 0xB0B
U128 = 2**128
TOKEN_ARGS: dict[str, Any] = {
    "name": int.from_bytes(b"Deployed", "big"),
    "symbol": int.from_bytes(b"DPL", "big"),
    "decimals": 6,
    "initial_supply": 5 * U128 + 42,  # both u256 words
    "recipient": ALICE,
    "owner": BOB,
}
TOKEN_CALLDATA = [
    TOKEN_ARGS["name"],
    TOKEN_ARGS["symbol"],
    TOKEN_ARGS["decimals"],
    TOKEN_ARGS["initial_supply"] % U128,
    TOKEN_ARGS["initial_supply"] // U128,
    ALICE,
    BOB,
]
ENTRY_POINTS = ["deployContract", "deploy_contract"]

# The UDC event as starknet-py 0.30 describes it (`starknet_py.net.udc_deployer.deployer`):
# all members are data, in this order, the array as length then items.
STARKNET_PY_UDC_EVENT = {
    "type": "event",
    "name": "ContractDeployed",
    "keys": [],
    "data": [
        {"name": "address", "type": "felt"},
        {"name": "deployer", "type": "felt"},
        {"name": "unique", "type": "felt"},
        {"name": "classHash", "type": "felt"},
        {"name": "calldata_len", "type": "felt"},
        {"name": "calldata", "type": "felt*"},
        {"name": "salt", "type": "felt"},
    ],
}


@pytest.fixture(scope="module")
def _fresh() -> tuple[Chain, DeployedContract, object]:
    chain = Chain()
    for name in ("Token", "UniversalDeployer"):
        artifact = load_contract(name)
        chain.declare(
            artifact.class_hash,
            artifact.casm,
            artifact.sierra,
            compiled_class_hash=artifact.compiled_class_hash,
        )
    artifact = load_contract("UniversalDeployer")
    udc, _ = DeployedContract.deploy(chain, artifact.class_hash, artifact.sierra, salt=7)
    return chain, udc, chain.snapshot()


@pytest.fixture
def udc(_fresh) -> DeployedContract:
    """The UDC on a chain where Token is declared, restored to that state for each test."""
    chain, udc, snapshot = _fresh
    chain.restore(snapshot)
    return udc


TOKEN_CLASS = load_contract("Token").class_hash


def starknet_py_deployment(udc: DeployedContract, salt: int, caller: int | None):
    """starknet-py's ``ContractDeployment`` (UDC call + predicted address) of a Token.

    ``caller`` is the account sending the transaction for a unique (not-from-zero) deployment,
    ``None`` for one from zero: how ``Contract.deploy_contract_v3(unique=...)`` builds it.
    """
    deployer = Deployer(deployer_address=udc.address, account_address=caller)
    return deployer.create_contract_deployment(
        TOKEN_CLASS, salt=salt, abi=load_contract("Token").abi, calldata=TOKEN_ARGS
    )


def deploy(
    udc: DeployedContract, entry_point: str, salt: int, not_from_zero: bool, caller: int = ALICE
) -> tuple[int, CallResult]:
    """Deploy a Token with TOKEN_CALLDATA through ``entry_point``; (new address, call result)."""
    result = udc.invoke(
        entry_point,
        class_hash=TOKEN_CLASS,
        salt=salt,
        not_from_zero=not_from_zero,
        calldata=TOKEN_CALLDATA,
        caller=caller,
    )
    address: int = udc.decode(entry_point, result.retdata)
    return address, result


def deployed_token(udc: DeployedContract, address: int) -> DeployedContract:
    return DeployedContract(udc.chain, address, load_contract("Token").abi)


def test_abi_has_both_entry_points():
    selectors = {
        int(ep["selector"], 16)
        for ep in load_contract("UniversalDeployer").sierra["entry_points_by_type"]["EXTERNAL"]
    }
    assert selectors == {get_selector_from_name(name) for name in ENTRY_POINTS}


def test_starknet_py_calldata_encoding_is_what_the_abi_expects(udc):
    # starknet-py serializes the call with its own (Cairo 0 style) ABI; our ABI must agree.
    deployment = starknet_py_deployment(udc, salt=5, caller=ALICE)
    assert deployment.call.selector == get_selector_from_name("deployContract")
    ours = udc.calldata(
        "deployContract",
        class_hash=TOKEN_CLASS,
        salt=5,
        not_from_zero=True,
        calldata=TOKEN_CALLDATA,
    )
    assert list(deployment.call.calldata) == ours


@pytest.mark.parametrize("unique", [True, False], ids=["not_from_zero", "from_zero"])
def test_starknet_py_call_deploys_at_its_computed_address(udc, unique):
    salt = 0x5A17
    deployment: ContractDeployment = starknet_py_deployment(
        udc, salt, caller=ALICE if unique else None
    )
    # Sent exactly as starknet-py builds it, by the account ALICE (an __execute__ call).
    call = deployment.call
    result = udc.chain.invoke(call.to_addr, call.selector, call.calldata, caller=ALICE)
    address = udc.decode("deployContract", result.retdata)
    assert address == deployment.address
    assert udc.chain.get_class_hash_at(address) == TOKEN_CLASS
    token = deployed_token(udc, address)
    assert token.call("name") == TOKEN_ARGS["name"]
    assert token.call("balance_of", account=ALICE) == TOKEN_ARGS["initial_supply"]
    assert token.call("owner") == BOB


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
@pytest.mark.parametrize("not_from_zero", [True, False], ids=["not_from_zero", "from_zero"])
def test_entry_points_deploy_where_starknet_py_computes(udc, entry_point, not_from_zero):
    salt = 0x1234
    address, _ = deploy(udc, entry_point, salt, not_from_zero)
    predicted = Deployer(
        deployer_address=udc.address, account_address=ALICE if not_from_zero else None
    ).create_contract_deployment_raw(TOKEN_CLASS, salt=salt, raw_calldata=TOKEN_CALLDATA)
    assert address == predicted.address
    # The rule spelled out (docs/protocol.md): caller-salted and UDC as deployer, or neither.
    assert address == compute_address(
        class_hash=TOKEN_CLASS,
        constructor_calldata=TOKEN_CALLDATA,
        salt=pedersen_hash(ALICE, salt) if not_from_zero else salt,
        deployer_address=udc.address if not_from_zero else 0,
    )
    assert udc.chain.get_class_hash_at(address) == TOKEN_CLASS
    assert deployed_token(udc, address).call("symbol") == TOKEN_ARGS["symbol"]


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
@pytest.mark.parametrize("not_from_zero", [True, False], ids=["not_from_zero", "from_zero"])
def test_contract_deployed_event(udc, entry_point, not_from_zero):
    salt = 0xE7
    address, result = deploy(udc, entry_point, salt, not_from_zero)

    # The constructor's mint, from the new token, then the UDC's event.
    assert [e.from_address for e in result.events] == [address, udc.address]
    [event] = udc.events(result, "ContractDeployed")
    assert event.values == {
        "address": address,
        "deployer": ALICE,
        "not_from_zero": not_from_zero,
        "class_hash": TOKEN_CLASS,
        "calldata": TOKEN_CALLDATA,
        "salt": salt,  # as passed, not the caller-salted value
    }

    raw = result.events[-1]
    assert raw.keys == [get_selector_from_name("ContractDeployed")]
    assert raw.data == [
        address,
        ALICE,
        int(not_from_zero),
        TOKEN_CLASS,
        len(TOKEN_CALLDATA),
        *TOKEN_CALLDATA,
        salt,
    ]

    # starknet-py's own description of the UDC event reads the same data.
    abi = AbiParserV0([STARKNET_PY_UDC_EVENT]).parse()
    parsed = serializer_for_event(abi.events["ContractDeployed"]).deserialize(raw.data)
    assert parsed.as_dict() == {
        "address": address,
        "deployer": ALICE,
        "unique": int(not_from_zero),
        "classHash": TOKEN_CLASS,
        "calldata": TOKEN_CALLDATA,
        "salt": salt,
    }


def test_unique_addresses_depend_on_the_caller(udc):
    alice, _ = deploy(udc, "deploy_contract", 1, True, caller=ALICE)
    bob, _ = deploy(udc, "deploy_contract", 1, True, caller=BOB)
    from_zero, _ = deploy(udc, "deploy_contract", 1, False, caller=ALICE)
    assert len({alice, bob, from_zero}) == 3


def state_of(chain: Chain) -> tuple[dict, dict, dict]:
    data = chain.state
    return dict(data.storage), dict(data.contracts), dict(data.nonces)


@pytest.mark.parametrize("second", ENTRY_POINTS)
@pytest.mark.parametrize("first", ENTRY_POINTS)
@pytest.mark.parametrize("not_from_zero", [True, False], ids=["not_from_zero", "from_zero"])
def test_same_salt_twice_reverts(udc, first, second, not_from_zero):
    deploy(udc, first, 0xD0, not_from_zero)
    before = state_of(udc.chain)
    with pytest.raises(ExecutionRevertedError) as info:
        deploy(udc, second, 0xD0, not_from_zero)
    assert "CONTRACT_ADDRESS_UNAVAILABLE" in info.value.reason
    assert state_of(udc.chain) == before


def test_from_zero_address_ignores_the_caller(udc):
    # From zero, the address depends on salt, class and calldata only: BOB collides with ALICE.
    deploy(udc, "deploy_contract", 0xD1, False, caller=ALICE)
    with pytest.raises(ExecutionRevertedError) as info:
        deploy(udc, "deploy_contract", 0xD1, False, caller=BOB)
    assert "CONTRACT_ADDRESS_UNAVAILABLE" in info.value.reason


def test_undeclared_class_reverts(udc):
    before = state_of(udc.chain)
    with pytest.raises(ExecutionRevertedError) as info:
        udc.invoke(
            "deploy_contract",
            class_hash=0xDEAD,
            salt=1,
            not_from_zero=False,
            calldata=[],
            caller=ALICE,
        )
    assert "UNDECLARED_CLASS" in info.value.reason
    assert state_of(udc.chain) == before


def test_constructor_revert_reason_propagates(udc):
    # A Token minting its initial supply to address zero reverts in its constructor.
    calldata = [*TOKEN_CALLDATA[:5], 0, BOB]
    before = state_of(udc.chain)
    with pytest.raises(ExecutionRevertedError) as info:
        udc.invoke(
            "deployContract",
            class_hash=TOKEN_CLASS,
            salt=1,
            not_from_zero=True,
            calldata=calldata,
            caller=ALICE,
        )
    assert info.value.reason == "MINT_TO_ZERO"
    assert state_of(udc.chain) == before
