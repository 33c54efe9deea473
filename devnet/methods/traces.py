"""The trace API of executed transactions: ``starknet_traceTransaction`` and
``starknet_traceBlockTransactions`` (simulation lives in :mod:`devnet.methods.simulation`).

Traces nest as the spec's ``FUNCTION_INVOCATION.calls`` does: an account's ``__execute__`` holds
the calls it made (the escrow), which hold theirs (the token's ``transfer_from``), and each call
lists only its own events and messages, with their order within the top-level call.
:func:`devnet.codec.invocation_json` and :func:`devnet.codec.trace_json` render those shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devnet.codec import Json, felt, parse_block_id, trace_json
from devnet.errors import InvalidParamsError
from devnet.methods.params import flags
from devnet.state import Devnet

__all__ = ["METHODS"]


def trace_transaction(devnet: Devnet, transaction_hash: Any) -> Json:
    located = devnet.get_transaction(felt(transaction_hash, "transaction_hash"))
    return trace_json(located.trace)


def trace_block_transactions(devnet: Devnet, block_id: Any, trace_flags: Any = None) -> list[Json]:
    if "RETURN_INITIAL_READS" in flags(trace_flags, "trace_flags", {"RETURN_INITIAL_READS"}):
        raise InvalidParamsError("RETURN_INITIAL_READS is not supported by this devnet")
    parsed = parse_block_id(block_id)
    if parsed.tag == "pre_confirmed":
        raise InvalidParamsError("traceBlockTransactions does not take pre_confirmed")
    block = devnet.get_block(parsed)
    return [
        {
            "transaction_hash": hex(located.transaction.transaction_hash),
            "trace_root": trace_json(located.trace),
        }
        for located in devnet.block_transactions(block)
    ]


METHODS: dict[str, Callable[..., Any]] = {
    "starknet_traceTransaction": trace_transaction,
    "starknet_traceBlockTransactions": trace_block_transactions,
}
"""The trace API's handlers by spec name."""
