"""Unit tests of the Account contract (cairo/account.cairo), run in the in-process engine.

The account is declared and deployed next to the marketplace's Token, signed for with
starknet-py's Stark-curve ECDSA, and driven the way the protocol drives it: ``__validate__*``
in validate mode with a TxContext, ``__execute__`` with caller 0.
"""

import pytest
from starknet_py.hash.utils import message_signature
from starknet_py.net.account.account import _parse_calls
from starknet_py.net.client_models import Call
from starknet_py.net.signer.key_pair import KeyPair

from smainer.artifacts import load_contract
from smainer.engine import ExecutionRevertedError, TxContext
from smainer.engine.contract import DeployedContract
from tests.cairo.helpers import BOB, assert_events, reverts, sel, short, state_of, u256

PRIVATE_KEY = 0x1F2E3D4C5B6A79
OTHER_KEY = 0x7A6B5C4D3E2F1
TX_HASH = 0x5EC7E7_0F_7A5C
VALID = short("VALID")
SRC6_ID = 0x2CECCEF7F994940B3962A6C67E0BA4FCD37DF7D131417C604F91E03CAECC1CD
SRC5_ID = 0x3F918D17E5EE77373B56385708F855659A07F75997F365CF87748628532A055
STARK_PRIME = 2**251 + 17 * 2**192 + 1
ACCOUNT_FUNDS = 1000
KEY = KeyPair.from_private_key(PRIVATE_KEY)
OTHER = KeyPair.from_private_key(OTHER_KEY)


class World:
    """The marketplace plus one deployed account holding ACCOUNT_FUNDS tokens."""

    def __init__(self, market, account, deployed):
        self.market = market
        self.chain = market.chain
        self.token = market.token
        self.account = account
        self.deployed = deployed


@pytest.fixture(scope="module")
def _account_world(_fresh_marketplace):
    market, fresh = _fresh_marketplace
    market.chain.restore(fresh)
    artifact = load_contract("Account")
    market.chain.declare(
        artifact.class_hash,
        artifact.casm,
        artifact.sierra,
        compiled_class_hash=artifact.compiled_class_hash,
    )
    account, deployed = DeployedContract.deploy(
        market.chain, artifact.class_hash, artifact.sierra, salt=7, public_key=KEY.public_key
    )
    market.token.invoke(
        "mint", recipient=account.address, amount=ACCOUNT_FUNDS, caller=market.roles.owner
    )
    return World(market, account, deployed), market.chain.snapshot()


@pytest.fixture
def world(_account_world):
    world, snapshot = _account_world
    world.chain.restore(snapshot)
    return world


def sign(tx_hash, key=PRIVATE_KEY):
    r, s = message_signature(tx_hash, key)
    return [r, s]


def execute_calldata(*calls):
    """``__execute__`` calldata: [n_calls, (to, selector, calldata_len, *calldata)...]."""
    out = [len(calls)]
    for to, selector, calldata in calls:
        out += [to, selector, len(calldata), *calldata]
    return out


def tx(world, signature=(), version=3, tx_hash=TX_HASH):
    return TxContext(
        account_address=world.account.address,
        transaction_hash=tx_hash,
        signature=list(signature),
        nonce=0,
        version=version,
    )


def transfer_call(world, to, amount):
    return (world.token.address, sel("transfer"), [to, *u256(amount)])


def execute(world, *calls, caller=0, version=3):
    return world.chain.invoke(
        world.account.address,
        "__execute__",
        execute_calldata(*calls),
        caller=caller,
        tx=tx(world, version=version),
    )


def balance(world, user):
    return world.token.call("balance_of", account=user)


# ---------------------------------------------------------------- constructor and key


def test_constructor_stores_key_and_emits_event(world):
    assert_events(
        world.deployed.result,
        [(world.account.address, "OwnerPublicKeyChanged", [0, KEY.public_key], [])],
    )
    assert world.account.call("get_public_key") == KEY.public_key


def test_constructor_refuses_zero_public_key(world):
    artifact = load_contract("Account")
    before = state_of(world.chain)
    with pytest.raises(ExecutionRevertedError) as e:
        DeployedContract.deploy(world.chain, artifact.class_hash, artifact.sierra, public_key=0)
    assert e.value.reason == "ZERO_PUBLIC_KEY"
    assert state_of(world.chain) == before


@pytest.mark.parametrize("caller", [BOB, 0], ids=["other", "zero"])
@pytest.mark.parametrize("key", [OTHER.public_key, 0], ids=["key", "zero-key"])
def test_set_public_key_only_self(world, caller, key):
    # NOT_SELF comes first, even for the zero key.
    with reverts(world.chain, "NOT_SELF"):
        world.account.invoke("set_public_key", new_public_key=key, caller=caller)


def test_set_public_key_refuses_zero(world):
    address = world.account.address
    # Through the account's own __execute__, and called by itself directly: the key stays
    # the one that signs (reverts() checks the state is unchanged).
    with reverts(world.chain, "ZERO_PUBLIC_KEY"):
        execute(world, (address, sel("set_public_key"), [0]))
    with reverts(world.chain, "ZERO_PUBLIC_KEY"):
        world.account.invoke("set_public_key", new_public_key=0, caller=address)


def test_set_public_key_through_own_execute_rotates_the_key(world):
    address = world.account.address
    result = execute(world, (address, sel("set_public_key"), [OTHER.public_key]))
    assert result.retdata == [1, 0]  # one call, empty return data
    assert_events(
        result, [(address, "OwnerPublicKeyChanged", [KEY.public_key, OTHER.public_key], [])]
    )
    assert world.account.call("get_public_key") == OTHER.public_key
    # The old key no longer validates, the new one does.
    validate = ("__validate__", execute_calldata())
    with reverts(world.chain, "INVALID_SIGNATURE"):
        world.chain.invoke(address, *validate, tx=tx(world, sign(TX_HASH)), validate=True)
    ok = world.chain.invoke(
        address, *validate, tx=tx(world, sign(TX_HASH, OTHER_KEY)), validate=True
    )
    assert ok.retdata == [VALID]


# ---------------------------------------------------------------- __validate*__

VALIDATE_ENTRY_POINTS = pytest.mark.parametrize(
    ("entry_point", "calldata"),
    [
        ("__validate__", execute_calldata((BOB, 1, [2, 3]))),
        ("__validate_declare__", [0x1234]),
        ("__validate_deploy__", [0x1234, 7, KEY.public_key]),
    ],
    ids=["validate", "declare", "deploy"],
)


@VALIDATE_ENTRY_POINTS
def test_validate_accepts_the_key_signature(world, entry_point, calldata):
    result = world.chain.invoke(
        world.account.address, entry_point, calldata, tx=tx(world, sign(TX_HASH)), validate=True
    )
    assert result.retdata == [VALID]
    assert result.events == []


def _bad_signatures():
    r, s = sign(TX_HASH)
    return {
        "empty": [],
        "one-felt": [r],
        "three-felts": [r, s, 0],
        "wrong-s": [r, s + 1],
        "swapped": [s, r],
        "other-key": sign(TX_HASH, OTHER_KEY),
        "other-hash": sign(TX_HASH + 1),
        "zeros": [0, 0],
    }


BAD_SIGNATURES = _bad_signatures()


@VALIDATE_ENTRY_POINTS
@pytest.mark.parametrize("bad", sorted(BAD_SIGNATURES))
def test_validate_rejects_bad_signature(world, entry_point, calldata, bad):
    with reverts(world.chain, "INVALID_SIGNATURE"):
        world.chain.invoke(
            world.account.address,
            entry_point,
            calldata,
            tx=tx(world, BAD_SIGNATURES[bad]),
            validate=True,
        )


# ---------------------------------------------------------------- is_valid_signature


@pytest.mark.parametrize("fn", ["is_valid_signature", "isValidSignature"])
def test_is_valid_signature(world, fn):
    h = 0xC0FFEE
    assert world.account.call(fn, hash=h, signature=sign(h)) == VALID
    r, s = sign(h)
    # Never reverts: anything but the exact [r, s] of the key over `hash` is 0.
    for signature in (
        [],
        [r],
        [r, s, 0],
        [r, s + 1],
        sign(h, OTHER_KEY),
        sign(h + 1),
        [0, 0],
        [STARK_PRIME - 1, s],
    ):
        assert world.account.call(fn, hash=h, signature=signature) == 0, signature


# ---------------------------------------------------------------- supports_interface


@pytest.mark.parametrize(
    ("interface_id", "supported"),
    [(SRC6_ID, True), (SRC5_ID, True), (0, False), (SRC6_ID + 1, False), (0x80AC58CD, False)],
    ids=["src6", "src5", "zero", "src6+1", "erc721"],
)
def test_supports_interface(world, interface_id, supported):
    assert world.account.call("supports_interface", interface_id=interface_id) is supported


# ---------------------------------------------------------------- __execute__


def test_execute_calldata_matches_starknet_py():
    calls = [(0x11, 0x22, [3, 4, 5]), (0x66, 0x77, [])]
    expected = _parse_calls(1, [Call(to_addr=t, selector=s, calldata=c) for t, s, c in calls])
    assert execute_calldata(*calls) == list(expected) == [2, 0x11, 0x22, 3, 3, 4, 5, 0x66, 0x77, 0]


def test_execute_runs_one_call_and_returns_its_result(world):
    result = execute(world, transfer_call(world, BOB, 40))
    assert result.retdata == [1, 1, 1]  # one result: [true]
    assert_events(
        result, [(world.token.address, "Transfer", [world.account.address, BOB], u256(40))]
    )
    assert balance(world, world.account.address) == ACCOUNT_FUNDS - 40
    assert balance(world, BOB) == 40


def test_execute_runs_calls_in_order_and_returns_each_result(world):
    result = execute(
        world,
        transfer_call(world, BOB, 300),
        (world.token.address, sel("balance_of"), [BOB]),
        transfer_call(world, BOB, 1),
        (world.token.address, sel("decimals"), []),
    )
    # Results: [true], [balance after the first call (u256)], [true], [decimals].
    assert result.retdata == [4, 1, 1, 2, 300, 0, 1, 1, 1, 18]
    assert len(result.events) == 2
    assert balance(world, BOB) == 301


def test_execute_no_calls_returns_empty_array(world):
    result = execute(world)
    assert result.retdata == [0]
    assert result.events == []


@pytest.mark.parametrize("version", [1, 3, 2**128 + 3], ids=["v1", "v3", "query-v3"])
def test_execute_accepts_non_zero_versions(world, version):
    result = execute(world, transfer_call(world, BOB, 1), version=version)
    assert result.retdata == [1, 1, 1]


def test_execute_inner_revert_reverts_everything(world):
    # The first transfer would succeed alone; the second one fails and undoes it (reverts()
    # checks that the whole state, BOB's balance included, is unchanged).
    with reverts(world.chain, "INSUFFICIENT_BALANCE"):
        execute(world, transfer_call(world, BOB, 10), transfer_call(world, BOB, ACCOUNT_FUNDS))


@pytest.mark.parametrize("caller", [BOB, "self"], ids=["other", "self"])
def test_execute_rejects_non_protocol_caller(world, caller):
    with reverts(world.chain, "INVALID_CALLER"):
        execute(
            world,
            transfer_call(world, BOB, 1),
            caller=world.account.address if caller == "self" else caller,
        )


def test_execute_rejects_version_zero(world):
    with reverts(world.chain, "INVALID_TX_VERSION"):
        execute(world, transfer_call(world, BOB, 1), version=0)
    # No TxContext at all is a version 0 transaction too.
    with reverts(world.chain, "INVALID_TX_VERSION"):
        world.chain.invoke(
            world.account.address, "__execute__", execute_calldata(transfer_call(world, BOB, 1))
        )
