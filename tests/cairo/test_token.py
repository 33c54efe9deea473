"""Unit tests of the Token contract (cairo/token.cairo), run in the in-process engine.

Every external function: views, transfer / transfer_from / transferFrom / approve / mint, the
constructor, their events (raw keys and data) and each revert with its exact message, a revert
leaving the chain state untouched.
"""

import pytest

from smainer.artifacts import load_contract
from smainer.engine import Chain, ExecutionRevertedError
from smainer.engine.contract import DeployedContract
from smainer.sandbox import TOKEN_DECIMALS
from tests.cairo.helpers import (
    ALICE,
    BOB,
    MAX_U256,
    U128,
    assert_events,
    reverts,
    short,
    state_of,
    u256,
)

CAROL = 0xCA201
BIG = 3 * U128 + 7  # needs both u256 words


@pytest.fixture
def token(market):
    return market.token


@pytest.fixture
def owner(market):
    return market.roles.owner


def mint(token, owner, to, amount):
    token.invoke("mint", recipient=to, amount=amount, caller=owner)


def balances(token, *users):
    return [token.call("balance_of", account=u) for u in users]


# ---------------------------------------------------------------- views and constructor


def test_metadata_and_owner(token, owner):
    assert token.call("name") == short("Smainer Token")
    assert token.call("symbol") == short("SMN")
    assert token.call("decimals") == TOKEN_DECIMALS
    assert token.call("owner") == owner
    assert token.call("total_supply") == 0
    assert token.call("totalSupply") == 0
    assert token.call("balance_of", account=ALICE) == 0
    assert token.call("allowance", owner=ALICE, spender=BOB) == 0


def deploy_token(chain: Chain, *, salt, **args):
    artifact = load_contract("Token")
    return DeployedContract.deploy(chain, artifact.class_hash, artifact.sierra, salt=salt, **args)


def test_constructor_mints_initial_supply_and_owner_zero_cannot_mint(market):
    token, deployed = deploy_token(
        market.chain,
        salt=99,
        name=short("Other"),
        symbol=short("OTH"),
        decimals=6,
        initial_supply=BIG,
        recipient=ALICE,
        owner=0,
    )
    assert_events(deployed.result, [(token.address, "Transfer", [0, ALICE], u256(BIG))])
    assert (token.call("name"), token.call("symbol"), token.call("decimals")) == (
        short("Other"),
        short("OTH"),
        6,
    )
    assert token.call("total_supply") == BIG
    assert token.call("balance_of", account=ALICE) == BIG
    assert token.call("owner") == 0
    # Owner zero: no (non-protocol) caller can mint.
    for caller in (ALICE, market.roles.owner):
        with reverts(market.chain, "NOT_OWNER"):
            token.invoke("mint", recipient=ALICE, amount=1, caller=caller)


def test_constructor_without_supply_emits_nothing_even_to_zero_recipient(market):
    token, deployed = deploy_token(
        market.chain,
        salt=98,
        name=1,
        symbol=2,
        decimals=0,
        initial_supply=0,
        recipient=0,
        owner=ALICE,
    )
    assert deployed.result.events == []
    assert token.call("total_supply") == 0


def test_constructor_mint_to_zero_reverts_and_deploys_nothing(market):
    before = state_of(market.chain)
    with pytest.raises(ExecutionRevertedError) as e:
        deploy_token(
            market.chain,
            salt=97,
            name=1,
            symbol=2,
            decimals=18,
            initial_supply=5,
            recipient=0,
            owner=ALICE,
        )
    assert e.value.reason == "MINT_TO_ZERO"
    assert state_of(market.chain) == before


def test_balances_live_at_cairo0_storage_slots(token, owner, market):
    mint(token, owner, ALICE, BIG)
    key = Chain.storage_address("ERC20_balances", ALICE)
    assert market.chain.get_storage(token.address, key) == BIG % U128
    assert market.chain.get_storage(token.address, key + 1) == BIG // U128
    assert token.call("balance_of", account=ALICE) == BIG
    assert token.call("balanceOf", account=ALICE) == BIG


# ---------------------------------------------------------------- mint


def test_mint_credits_recipient_grows_supply_and_emits_transfer(token, owner):
    result = token.invoke("mint", recipient=ALICE, amount=BIG, caller=owner)
    assert result.retdata == []
    assert_events(result, [(token.address, "Transfer", [0, ALICE], u256(BIG))])
    mint(token, owner, ALICE, 5)
    mint(token, owner, BOB, 10)
    assert balances(token, ALICE, BOB) == [BIG + 5, 10]
    assert token.call("total_supply") == BIG + 15
    assert token.call("totalSupply") == BIG + 15


@pytest.mark.parametrize(
    ("caller", "recipient", "amount", "preminted", "reason"),
    [
        (ALICE, ALICE, 1, 0, "NOT_OWNER"),
        (0, ALICE, 1, 0, "NOT_OWNER"),
        ("owner", 0, 1, 0, "MINT_TO_ZERO"),
        ("owner", BOB, MAX_U256, 1, "u256_add Overflow"),
    ],
    ids=["non-owner", "caller-zero", "to-zero", "supply-overflow"],
)
def test_mint_reverts(market, token, owner, caller, recipient, amount, preminted, reason):
    if preminted:
        mint(token, owner, ALICE, preminted)
    with reverts(market.chain, reason):
        token.invoke(
            "mint",
            recipient=recipient,
            amount=amount,
            caller=owner if caller == "owner" else caller,
        )


# ---------------------------------------------------------------- transfer


@pytest.mark.parametrize("amount", [0, 1, 100, BIG], ids=["zero", "one", "all", "two-words"])
def test_transfer_moves_balance_and_emits_transfer(token, owner, amount):
    mint(token, owner, ALICE, 100 if amount != BIG else BIG)
    start = 100 if amount != BIG else BIG
    result = token.invoke("transfer", recipient=BOB, amount=amount, caller=ALICE)
    assert token.decode("transfer", result.retdata) is True
    assert_events(result, [(token.address, "Transfer", [ALICE, BOB], u256(amount))])
    assert balances(token, ALICE, BOB) == [start - amount, amount]
    assert token.call("total_supply") == start


def test_transfer_to_self_keeps_balance(token, owner):
    mint(token, owner, ALICE, 50)
    result = token.invoke("transfer", recipient=ALICE, amount=30, caller=ALICE)
    assert_events(result, [(token.address, "Transfer", [ALICE, ALICE], u256(30))])
    assert balances(token, ALICE) == [50]


@pytest.mark.parametrize(
    ("caller", "recipient", "amount", "reason"),
    [
        (ALICE, BOB, 101, "INSUFFICIENT_BALANCE"),
        (BOB, ALICE, 1, "INSUFFICIENT_BALANCE"),
        (ALICE, 0, 1, "TRANSFER_TO_ZERO"),
        (0, BOB, 0, "TRANSFER_FROM_ZERO"),
    ],
    ids=["over-balance", "empty-balance", "to-zero", "from-zero"],
)
def test_transfer_reverts(market, token, owner, caller, recipient, amount, reason):
    mint(token, owner, ALICE, 100)
    with reverts(market.chain, reason):
        token.invoke("transfer", recipient=recipient, amount=amount, caller=caller)


# ---------------------------------------------------------------- approve / allowance


def test_approve_sets_and_overwrites_allowance(token):
    result = token.invoke("approve", spender=BOB, amount=BIG, caller=ALICE)
    assert token.decode("approve", result.retdata) is True
    assert_events(result, [(token.address, "Approval", [ALICE, BOB], u256(BIG))])
    assert token.call("allowance", owner=ALICE, spender=BOB) == BIG
    assert token.call("allowance", owner=BOB, spender=ALICE) == 0
    # A second approve replaces the allowance, it does not add to it.
    result = token.invoke("approve", spender=BOB, amount=7, caller=ALICE)
    assert_events(result, [(token.address, "Approval", [ALICE, BOB], u256(7))])
    assert token.call("allowance", owner=ALICE, spender=BOB) == 7
    token.invoke("approve", spender=BOB, amount=0, caller=ALICE)
    assert token.call("allowance", owner=ALICE, spender=BOB) == 0


@pytest.mark.parametrize(
    ("caller", "spender", "reason"),
    [(ALICE, 0, "APPROVE_TO_ZERO"), (0, BOB, "APPROVE_FROM_ZERO")],
    ids=["to-zero", "from-zero"],
)
def test_approve_reverts(market, token, caller, spender, reason):
    with reverts(market.chain, reason):
        token.invoke("approve", spender=spender, amount=5, caller=caller)


# ---------------------------------------------------------------- transfer_from / transferFrom

TRANSFER_FROM = pytest.mark.parametrize("fn", ["transfer_from", "transferFrom"])


@TRANSFER_FROM
@pytest.mark.parametrize("amount", [40, 100], ids=["part", "whole-allowance"])
def test_transfer_from_spends_finite_allowance(token, owner, fn, amount):
    mint(token, owner, ALICE, 1000)
    token.invoke("approve", spender=BOB, amount=100, caller=ALICE)
    result = token.invoke(fn, sender=ALICE, recipient=CAROL, amount=amount, caller=BOB)
    assert token.decode(fn, result.retdata) is True
    assert_events(
        result,
        [
            (token.address, "Approval", [ALICE, BOB], u256(100 - amount)),
            (token.address, "Transfer", [ALICE, CAROL], u256(amount)),
        ],
    )
    assert token.call("allowance", owner=ALICE, spender=BOB) == 100 - amount
    assert balances(token, ALICE, BOB, CAROL) == [1000 - amount, 0, amount]


@TRANSFER_FROM
def test_transfer_from_infinite_allowance_is_not_lowered(token, owner, fn):
    mint(token, owner, ALICE, BIG)
    token.invoke("approve", spender=BOB, amount=MAX_U256, caller=ALICE)
    for amount in (BIG - 1, 1):
        result = token.invoke(fn, sender=ALICE, recipient=BOB, amount=amount, caller=BOB)
        assert_events(result, [(token.address, "Transfer", [ALICE, BOB], u256(amount))])
        assert token.call("allowance", owner=ALICE, spender=BOB) == MAX_U256
    assert balances(token, ALICE, BOB) == [0, BIG]


@TRANSFER_FROM
def test_transfer_from_allowance_just_below_infinite_is_finite(token, owner, fn):
    mint(token, owner, ALICE, 10)
    token.invoke("approve", spender=BOB, amount=MAX_U256 - 1, caller=ALICE)
    result = token.invoke(fn, sender=ALICE, recipient=BOB, amount=3, caller=BOB)
    assert_events(
        result,
        [
            (token.address, "Approval", [ALICE, BOB], u256(MAX_U256 - 4)),
            (token.address, "Transfer", [ALICE, BOB], u256(3)),
        ],
    )
    assert token.call("allowance", owner=ALICE, spender=BOB) == MAX_U256 - 4


@TRANSFER_FROM
@pytest.mark.parametrize(
    ("allowance", "sender"),
    [(0, ALICE), (100, ALICE), (0, CAROL)],
    ids=["no-allowance", "finite-allowance", "empty-sender"],
)
def test_transfer_from_zero_amount_needs_no_allowance(token, owner, fn, allowance, sender):
    mint(token, owner, ALICE, 100)
    if allowance:
        token.invoke("approve", spender=BOB, amount=allowance, caller=sender)
    result = token.invoke(fn, sender=sender, recipient=CAROL, amount=0, caller=BOB)
    assert token.decode(fn, result.retdata) is True
    # A Transfer of zero, no Approval: the allowance is neither needed nor changed.
    assert_events(result, [(token.address, "Transfer", [sender, CAROL], u256(0))])
    assert token.call("allowance", owner=sender, spender=BOB) == allowance
    assert balances(token, ALICE, CAROL) == [100, 0]


@TRANSFER_FROM
@pytest.mark.parametrize(
    ("allowance", "sender", "recipient", "amount", "reason"),
    [
        (0, ALICE, CAROL, 1, "INSUFFICIENT_ALLOWANCE"),
        (99, ALICE, CAROL, 100, "INSUFFICIENT_ALLOWANCE"),
        (500, ALICE, CAROL, 101, "INSUFFICIENT_BALANCE"),
        (MAX_U256, ALICE, CAROL, 101, "INSUFFICIENT_BALANCE"),
        (500, ALICE, 0, 1, "TRANSFER_TO_ZERO"),
        (0, ALICE, 0, 0, "TRANSFER_TO_ZERO"),
        # Sender 0 can never have granted an allowance, so a non-zero amount fails the
        # allowance check first; a zero amount needs no allowance and fails in the transfer.
        (0, 0, CAROL, 1, "INSUFFICIENT_ALLOWANCE"),
        (0, 0, CAROL, 0, "TRANSFER_FROM_ZERO"),
        (0, 0, 0, 0, "TRANSFER_FROM_ZERO"),
    ],
    ids=[
        "no-allowance",
        "over-allowance",
        "over-balance",
        "infinite-over-balance",
        "to-zero",
        "to-zero-amount-zero",
        "from-zero",
        "from-zero-amount-zero",
        "from-zero-before-to-zero",
    ],
)
def test_transfer_from_reverts(
    market, token, owner, fn, allowance, sender, recipient, amount, reason
):
    mint(token, owner, ALICE, 100)
    if allowance:
        token.invoke("approve", spender=BOB, amount=allowance, caller=ALICE)
    with reverts(market.chain, reason):
        token.invoke(fn, sender=sender, recipient=recipient, amount=amount, caller=BOB)
