"""The one mapping of engine failures to spec errors (:mod:`devnet.engine_errors`)."""

from __future__ import annotations

from devnet.engine_errors import call_error, revert_reason, validation_error
from devnet.errors import (
    ContractError,
    ContractNotFoundError,
    EntrypointNotFoundError,
    NonAccountError,
    ValidationFailureError,
)
from smainer.engine import (
    ClassNotDeclaredError,
    EntryPointNotFoundError,
    ExecutionRevertedError,
)
from smainer.engine import ContractNotFoundError as EngineContractNotFoundError

REVERTED = ExecutionRevertedError("'TASK_NOT_OPEN'", trace="frame 1", failed_address=0xE5)
NO_ENTRY_POINT = EntryPointNotFoundError(0xC0, 0x5E1, "nope")


def test_call_failures_are_20_21_or_40():
    assert isinstance(call_error(EngineContractNotFoundError(0xC0)), ContractNotFoundError)
    assert isinstance(call_error(NO_ENTRY_POINT), EntrypointNotFoundError)
    reverted = call_error(REVERTED)
    assert (reverted.code, reverted.data) == (40, {"revert_error": "'TASK_NOT_OPEN'"})
    # estimateMessageFee does not list 21: a missing #[l1_handler] is a contract error there.
    missing = call_error(NO_ENTRY_POINT, entry_point_error=False)
    assert isinstance(missing, ContractError)
    assert missing.data == {"revert_error": str(NO_ENTRY_POINT)}
    assert call_error(ClassNotDeclaredError(0x1)).code == 40


def test_validation_failures_are_55_or_58():
    assert isinstance(validation_error(NO_ENTRY_POINT, "__validate__", 0xC0), NonAccountError)
    failed = validation_error(REVERTED, "__validate__", 0xC0)
    assert isinstance(failed, ValidationFailureError)
    assert failed.data == "__validate__ failed: 'TASK_NOT_OPEN'"


def test_revert_reasons_name_the_contract_and_keep_the_trace():
    assert revert_reason(REVERTED) == (
        "Transaction execution has failed: error in the called contract "
        "(contract address: 0xe5): 'TASK_NOT_OPEN'\nframe 1"
    )
    assert revert_reason(NO_ENTRY_POINT).startswith("Transaction execution has failed: contract")
