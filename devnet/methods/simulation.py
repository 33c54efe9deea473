"""Work on a throwaway copy of the chain: ``starknet_estimateFee``, ``starknet_estimateMessageFee``
and ``starknet_simulateTransactions``, one named function each.

These run Cairo for every transaction they carry on the devnet's one worker, so the number of
transactions per request is bounded (:attr:`devnet.dispatch.Limits.max_transactions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devnet.codec import Json, fee_estimate_json, felt, parse_block_id, parse_felts, trace_json
from devnet.dispatch import Limits
from devnet.errors import InvalidParamsError
from devnet.fees import estimate as price
from devnet.methods.params import MessageFromL1, broadcasted_list, convert, flags
from devnet.state import Devnet


def estimate_fee(
    devnet: Devnet, limits: Limits, request: Any, simulation_flags: Any, block_id: Any
) -> list[Json]:
    wanted = flags(simulation_flags, "simulation_flags", {"SKIP_VALIDATE"})
    transactions = broadcasted_list(request, devnet.chain_id, "request", limits.max_transactions)
    estimates = devnet.estimate_fee(
        transactions, parse_block_id(block_id), validate="SKIP_VALIDATE" not in wanted
    )
    return [fee_estimate_json(estimate) for estimate in estimates]


def estimate_message_fee(devnet: Devnet, message: Any, block_id: Any) -> Json:
    """An L1 handler's fee, in WEI: the message is paid for on L1."""
    msg = convert(message, MessageFromL1, "message")
    resources = devnet.estimate_message(
        from_address=felt(msg.from_address, "message.from_address"),
        to_address=felt(msg.to_address, "message.to_address"),
        selector=felt(msg.entry_point_selector, "message.entry_point_selector"),
        payload=parse_felts(msg.payload, "message.payload"),
        block_id=parse_block_id(block_id),
    )
    out = fee_estimate_json(price(resources, devnet.prices))
    wei = devnet.prices
    out.update(
        l1_gas_price=hex(wei.l1_gas_wei),
        l1_data_gas_price=hex(wei.l1_data_gas_wei),
        l2_gas_price=hex(wei.l2_gas_wei),
        overall_fee=hex(
            resources.l1_gas * wei.l1_gas_wei
            + resources.l1_data_gas * wei.l1_data_gas_wei
            + resources.l2_gas * wei.l2_gas_wei
        ),
        unit="WEI",
    )
    return out


def simulate_transactions(
    devnet: Devnet, limits: Limits, block_id: Any, transactions: Any, simulation_flags: Any
) -> list[Json]:
    wanted = flags(
        simulation_flags,
        "simulation_flags",
        {"SKIP_VALIDATE", "SKIP_FEE_CHARGE", "RETURN_INITIAL_READS"},
    )
    if "RETURN_INITIAL_READS" in wanted:
        raise InvalidParamsError("RETURN_INITIAL_READS is not supported by this devnet")
    parsed = broadcasted_list(
        transactions, devnet.chain_id, "transactions", limits.max_transactions
    )
    results = devnet.simulate(
        parsed,
        parse_block_id(block_id),
        validate="SKIP_VALIDATE" not in wanted,
        charge_fee="SKIP_FEE_CHARGE" not in wanted,
    )
    return [
        {"transaction_trace": trace_json(trace), "fee_estimation": fee_estimate_json(fee)}
        for trace, fee, _ in results
    ]


METHODS: dict[str, Callable[..., Any]] = {
    "starknet_estimateMessageFee": estimate_message_fee,
}
"""Handlers that take only the devnet."""

LIMITED_METHODS: dict[str, Callable[..., Any]] = {
    "starknet_estimateFee": estimate_fee,
    "starknet_simulateTransactions": simulate_transactions,
}
"""Handlers that also take the :class:`~devnet.dispatch.Limits`."""
