"""Parameter models and parsers shared by the ``starknet_*`` handlers.

The spec's object params (``FUNCTION_CALL``, ``MSG_FROM_L1``, ``EVENT_FILTER`` with its
``RESULT_PAGE_REQUEST``) are msgspec Structs: msgspec checks presence, JSON types and unknown
keys in one call, and the felts inside are then read by :func:`devnet.codec.felt`, which holds
them to the spec's pattern. Every failure is ``-32602`` naming the field.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from devnet.codec import BlockId, Broadcasted, felt, parse_block_id, parse_broadcasted, parse_felts
from devnet.errors import (
    InvalidParamsError,
    InvalidRequestError,
    RpcError,
    TransactionExecutionError,
)

__all__ = [
    "EventsFilter",
    "FunctionCall",
    "MessageFromL1",
    "broadcasted_list",
    "convert",
    "flags",
    "index",
    "optional_block",
    "typed_transaction",
]

S = TypeVar("S", bound=msgspec.Struct)


class FunctionCall(msgspec.Struct, forbid_unknown_fields=True):
    """Spec ``FUNCTION_CALL`` (``starknet_call``'s ``request``)."""

    contract_address: str
    entry_point_selector: str
    calldata: list[Any]

    def parsed(self, name: str) -> tuple[int, int, tuple[int, ...]]:
        return (
            felt(self.contract_address, f"{name}.contract_address"),
            felt(self.entry_point_selector, f"{name}.entry_point_selector"),
            parse_felts(self.calldata, f"{name}.calldata"),
        )


class MessageFromL1(msgspec.Struct, forbid_unknown_fields=True):
    """Spec ``MSG_FROM_L1`` (``starknet_estimateMessageFee``'s ``message``)."""

    from_address: str
    to_address: str
    entry_point_selector: str
    payload: list[Any]


class EventsFilter(msgspec.Struct, forbid_unknown_fields=True):
    """Spec ``EVENT_FILTER`` and ``RESULT_PAGE_REQUEST`` (``starknet_getEvents``'s ``filter``)."""

    chunk_size: int
    from_block: Any = None
    to_block: Any = None
    address: str | list[Any] | None = None
    keys: list[list[Any]] | None = None
    continuation_token: str | None = None


def convert(value: Any, model: type[S], name: str) -> S:
    """``value`` as ``model``, or ``-32602`` with msgspec's account of what is wrong."""
    try:
        return msgspec.convert(value, model, strict=True)
    except msgspec.ValidationError as exc:
        raise InvalidParamsError(f"{name}: {exc}") from None


def flags(value: Any, name: str, allowed: set[str]) -> set[str]:
    """An array of flag names, each one the spec lists for this param."""
    if value is None:
        return set()
    if not isinstance(value, list) or not all(isinstance(flag, str) for flag in value):
        raise InvalidParamsError(f"{name} must be an array of strings")
    unknown = set(value) - allowed
    if unknown:
        raise InvalidParamsError(f"{name}: unknown flags {sorted(unknown)}")
    return set(value)


def index(value: Any, name: str) -> int:
    """A non-negative JSON integer (a transaction's index in its block)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParamsError(f"{name} must be a non-negative integer")
    return value


def optional_block(value: Any, name: str) -> BlockId | None:
    return None if value is None else parse_block_id(value, name)


def broadcasted_list(value: Any, chain_id: int, name: str, limit: int) -> list[Broadcasted]:
    """An array of at most ``limit`` ``BROADCASTED_TXN``s: the bound keeps one estimate or
    simulation from holding the devnet's single worker for long."""
    if not isinstance(value, list):
        raise InvalidParamsError(f"{name} must be an array of transactions")
    if len(value) > limit:
        raise InvalidParamsError(f"{name}: {len(value)} transactions exceed the limit of {limit}")
    parsed = []
    for i, tx in enumerate(value):
        try:
            parsed.append(parse_broadcasted(tx, chain_id, f"{name}[{i}]"))
        except (InvalidParamsError, InvalidRequestError):
            raise
        except RpcError as exc:
            # A write-API refusal (an unsupported tx or class version, a class too large) is,
            # in an estimate or simulation, the spec's TRANSACTION_EXECUTION_ERROR of that tx.
            reason = exc.message if exc.data is None else f"{exc.message}: {exc.data}"
            error = {"transaction_index": i, "execution_error": reason}
            raise TransactionExecutionError(error) from None
    return parsed


def typed_transaction(value: Any, kind: str, chain_id: int, name: str) -> Broadcasted:
    """A write-API transaction, which must be of the method's type."""
    if not isinstance(value, dict) or value.get("type") != kind:
        raise InvalidParamsError(f"{name} must be a {kind} transaction")
    return parse_broadcasted(value, chain_id, name)
