"""``devnet.errors`` against the spec files: one class per spec error, same code, same message."""

from __future__ import annotations

import pytest

from devnet import errors
from tests.devnet.spec import PROTOCOL_ERRORS, Spec

NOT_RAISED = {
    "REPLACEMENT_TRANSACTION_UNDERPRICED": "no mempool: a transaction is executed when received",
    "FEE_BELOW_MINIMUM": "no minimum fee beyond the resource bounds' own checks",
    "INVALID_PROOF": "invoke proofs (proof_facts) are not supported",
    "COMPILATION_ERROR": "classes compile at declare (COMPILATION_FAILED); getCompiledCasm reads",
}
"""Spec errors the devnet may leave without a class, and why; any other must have one."""


@pytest.mark.parametrize("name", sorted(errors.SPEC_ERRORS))
def test_class_has_the_specs_code_and_message(spec: Spec, name: str) -> None:
    catalog = spec.error_catalog()
    assert name in catalog, f"{name} is not an error of the spec"
    error_class = errors.SPEC_ERRORS[name]
    assert issubclass(error_class, errors.RpcError)
    assert (error_class.code, error_class.message) == catalog[name]


def test_every_spec_error_has_a_class_or_a_reason(spec: Spec) -> None:
    unmapped = set(spec.error_catalog()) - set(errors.SPEC_ERRORS)
    assert unmapped <= set(NOT_RAISED), f"spec errors without a class: {unmapped - set(NOT_RAISED)}"


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in errors.SPEC_ERRORS.values()]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    "error_class",
    [
        errors.ParseError,
        errors.InvalidRequestError,
        errors.MethodNotFoundError,
        errors.InvalidParamsError,
        errors.InternalError,
    ],
)
def test_protocol_errors_are_json_rpc_2s(error_class: type[errors.RpcError]) -> None:
    assert PROTOCOL_ERRORS[error_class.code] == error_class.message


def test_data_is_carried_only_when_given() -> None:
    assert errors.BlockNotFoundError().to_json() == {"code": 24, "message": "Block not found"}
    with_data = errors.ContractError({"revert_error": "boom"}).to_json()
    assert with_data == {"code": 40, "message": "Contract error", "data": {"revert_error": "boom"}}


def test_error_data_is_trimmed_for_clients() -> None:
    """What ``devnet.dispatch`` sends as ``data``: no backtrace, no huge echo, at any depth."""
    from devnet.dispatch import clean_error_data

    panic = "error: Invalid Sierra\n\nStack backtrace:\n   0: anyhow::error\n   1: main"
    data = {"transaction_index": 3, "execution_error": panic, "calldata": ["0x1"] * 1000}
    cleaned = clean_error_data(data, 100)
    assert cleaned["execution_error"] == "error: Invalid Sierra"
    assert cleaned["transaction_index"] == 3
    assert len(cleaned["calldata"]) == 64
    long = clean_error_data(["z" * 10_000], 100)[0]
    assert long == "z" * 100 + "... (9900 more characters)"
    assert clean_error_data("short", 100) == "short"


def test_the_devnets_own_errors_live_here_beside_the_specs() -> None:
    """Codes no spec names: starknet-devnet's -1 for ``devnet_*`` failures, EIP-1474's -32005
    for the subscription limit. One definition each, outside :data:`errors.SPEC_ERRORS`."""
    from devnet.methods import devnet as devnet_methods
    from devnet.subscriptions import TooManySubscriptionsError

    assert errors.DevnetError().to_json() == {"code": -1, "message": "Devnet error"}
    assert errors.TooManySubscriptionsError().to_json() == {
        "code": -32005,
        "message": "Limit exceeded",
    }
    assert devnet_methods.DevnetError is errors.DevnetError
    assert TooManySubscriptionsError is errors.TooManySubscriptionsError
    own = {errors.DevnetError, errors.TooManySubscriptionsError}
    assert not own & set(errors.SPEC_ERRORS.values())
