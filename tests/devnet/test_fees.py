"""The fee model (:mod:`devnet.fees`): its arithmetic alone, and an estimate equal to the fee
then charged on a real devnet."""

from __future__ import annotations

import pytest

from devnet import fees
from devnet.errors import InsufficientResourcesForValidateError
from devnet.models import (
    ExecutionResources,
    GasPrices,
    ResourceBound,
    ResourceBounds,
    StateDiff,
    TransactionType,
)
from smainer.engine import Event, L2ToL1Message
from tests.devnet.test_node_helpers import make_devnet, rpc, send, signed_invoke, transfer_call

PRICES = GasPrices()


def _bounds(
    l1: int = 0, data: int = 10_000, l2: int = 10**8, price: int = 10**12
) -> ResourceBounds:
    return ResourceBounds(
        l1_gas=ResourceBound(l1, price),
        l1_data_gas=ResourceBound(data, price),
        l2_gas=ResourceBound(l2, price),
    )


def test_resources_add_up_as_documented():
    base = fees.resources_of(fees.Usage(type=TransactionType.INVOKE))
    assert base == ExecutionResources(
        l1_gas=0,
        l1_data_gas=0,
        l2_gas=fees.TX_BASE_L2_GAS[TransactionType.INVOKE] + fees.FEE_TRANSFER_L2_GAS,
    )
    event = Event(from_address=1, keys=[2, 3], data=[4])
    usage = fees.Usage(
        type=TransactionType.INVOKE,
        steps=10,
        builtins={"pedersen_builtin": 2, "output_builtin": 7},
        data_felts=3,
        events=(event,),
        messages=(L2ToL1Message(from_address=1, to_address=2, payload=[5, 6]),),
        state_diff_felts=4,
    )
    used = fees.resources_of(usage)
    felts = 3 + 2 * 2 + 1  # calldata, event keys counted twice, event data
    assert used.l2_gas - base.l2_gas == 10 * 100 + 2 * 4050 + -(-felts * 5120 // 1000)
    assert used.l1_data_gas == 4 * fees.DATA_GAS_PER_FELT
    assert used.l1_gas == fees.MESSAGE_L1_GAS + 2 * fees.MESSAGE_PAYLOAD_L1_GAS
    declare = fees.resources_of(fees.Usage(type=TransactionType.DECLARE, code_felts=5))
    declare_base = fees.TX_BASE_L2_GAS[TransactionType.DECLARE] + fees.FEE_TRANSFER_L2_GAS
    assert declare.l2_gas - declare_base == 5 * 32 * fees.CODE_BYTE_L2_GAS


def test_state_diff_felts_count_what_the_os_publishes():
    diff = StateDiff(
        storage={(1, 10): 5, (1, 11): 6, (2, 10): 7},
        nonces={3: 1},
        deployed={4: 99},
        declared={50: 51},
    )
    # Contracts 1, 2, 3, 4: address + packed word each; 4's class hash; three slots; a class.
    assert fees.state_diff_felts(diff) == 2 * 4 + 1 + 2 * 3 + 2
    # The fee transfer's slots count once even when the diff already holds them.
    assert fees.state_diff_felts(diff, [(1, 10), (5, 1)]) == 2 * 5 + 1 + 2 * 4 + 2


def test_fee_and_estimate_use_the_fri_prices():
    resources = ExecutionResources(l1_gas=1, l1_data_gas=2, l2_gas=3)
    prices = GasPrices(l1_gas_fri=7, l1_data_gas_fri=11, l2_gas_fri=13)
    assert fees.fee_of(resources, prices) == 7 + 22 + 39
    estimate = fees.estimate(resources, prices)
    assert (estimate.overall_fee, estimate.l2_gas_consumed, estimate.l2_gas_price) == (68, 3, 13)


def test_bounds_below_prices_or_minimal_amounts_are_error_53():
    minimal = fees.minimal_resources(TransactionType.INVOKE, data_felts=10)
    fees.check_bounds(_bounds(), PRICES, minimal)
    with pytest.raises(InsufficientResourcesForValidateError):
        fees.check_bounds(_bounds(price=PRICES.l2_gas_fri - 1), PRICES, minimal)
    with pytest.raises(InsufficientResourcesForValidateError):
        fees.check_bounds(_bounds(l2=minimal.l2_gas - 1), PRICES, minimal)


def test_a_tx_over_its_bounds_is_reverted_and_charged_the_bounds():
    bounds = _bounds(data=100, l2=1000)
    assert fees.exceeded_bound(ExecutionResources(0, 100, 1000), bounds) is None
    reason = fees.exceeded_bound(ExecutionResources(0, 100, 1001), bounds)
    assert reason == "Insufficient max L2Gas: max amount: 1000, actual used: 1001"
    assert fees.capped(ExecutionResources(5, 300, 2000), bounds) == ExecutionResources(0, 100, 1000)


def test_fee_estimate_equals_the_fee_charged():
    devnet = make_devnet()
    alice, bob = devnet.predeployed_accounts
    call = transfer_call(devnet, bob.address, 10)
    wire = signed_invoke(devnet, alice, call)
    query = {**wire, "version": "0x100000000000000000000000000000003"}
    query["signature"] = signed_invoke(devnet, alice, call)["signature"]  # any: skip validate
    (estimate,) = rpc(devnet, "starknet_estimateFee", [[query], ["SKIP_VALIDATE"], "latest"])
    (validated,) = rpc(devnet, "starknet_estimateFee", [[wire], [], "pre_confirmed"])
    assert estimate["unit"] == "FRI"
    receipt = send(devnet, wire)
    assert receipt["actual_fee"]["amount"] == validated["overall_fee"]
    assert int(estimate["overall_fee"], 16) < int(validated["overall_fee"], 16)
    resources = receipt["execution_resources"]
    assert int(validated["l2_gas_consumed"], 16) == resources["l2_gas"]
    assert int(validated["l1_data_gas_consumed"], 16) == resources["l1_data_gas"]
    # Estimating changed nothing: the nonce only moved with the real transaction.
    assert rpc(devnet, "starknet_getNonce", ["latest", hex(alice.address)]) == "0x1"
