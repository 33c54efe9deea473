"""Work whose result is answered and whose changes are thrown away: calls, estimates, simulations.

``starknet_call``, ``starknet_estimateFee``, ``starknet_estimateMessageFee`` and
``starknet_simulateTransactions`` run on a *scratch* chain in the state of their ``block_id``:
the live chain itself when that is the current state (rolled back through its journal
afterwards: no copy), else a chain rebuilt from the history as that block left it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from devnet import fees
from devnet.codec import BlockId, Broadcasted
from devnet.engine_errors import call_error
from devnet.errors import (
    InvalidParamsError,
    RpcError,
    TransactionExecutionError,
    UnsupportedTransactionVersionError,
)
from devnet.journal import JournalingChain
from devnet.models import ExecutionResources, FeeEstimate, Receipt, TransactionTrace
from devnet.models import TransactionType as TxType
from devnet.reads import resolve
from devnet.record import ChainRecord
from devnet.transactions import Mode, execute
from smainer.engine import EngineError, EntryPointType, Snapshot

__all__ = ["call", "estimate_fee", "estimate_message", "scratch", "simulate"]

Simulated = tuple[TransactionTrace, FeeEstimate, Receipt]


@contextmanager
def scratch(record: ChainRecord, block_id: BlockId) -> Iterator[JournalingChain]:
    """A chain in the state of ``block_id`` whose changes are thrown away afterwards."""
    if block_id.tag == "pre_confirmed" or (
        not record.pending and resolve(record, block_id) == len(record.archive) - 1
    ):
        record.refresh_pending_time()
        chain = record.chain
    else:
        number = resolve(record, block_id)
        timestamp = record.archive.block(number).timestamp
        chain = JournalingChain(record.block_context(number + 1, timestamp))
        chain.restore(Snapshot(data=record.history.state_at(number), block=chain.block))
    mark = chain.mark()
    try:
        yield chain
    finally:
        chain.rollback(mark)


def simulate(
    record: ChainRecord,
    items: Sequence[Broadcasted],
    block_id: BlockId,
    *,
    validate: bool = True,
    charge_fee: bool = True,
) -> list[Simulated]:
    """Run txs one after the other on the state of ``block_id`` and keep nothing.

    A tx rejected on the way is spec error 41 with its index (``TRANSACTION_EXECUTION_ERROR``).
    """
    results: list[Simulated] = []
    mode = Mode(validate=validate, charge_fee=charge_fee, strict_nonce=False)
    with scratch(record, block_id) as chain:
        env = record.environment()
        for index, item in enumerate(items):
            try:
                executed = execute(chain, item, env, mode)
            except (InvalidParamsError, UnsupportedTransactionVersionError):
                raise
            except RpcError as err:
                raise TransactionExecutionError(
                    {"transaction_index": index, "execution_error": _error_text(err)}
                ) from None
            results.append((executed.trace, executed.estimate, executed.receipt))
    return results


def estimate_fee(
    record: ChainRecord, items: Sequence[Broadcasted], block_id: BlockId, *, validate: bool
) -> list[FeeEstimate]:
    """``starknet_estimateFee``: a reverted tx is spec error 41, as on Starknet."""
    results = simulate(record, items, block_id, validate=validate, charge_fee=False)
    for index, (_, _, receipt) in enumerate(results):
        if receipt.revert_reason is not None:
            raise TransactionExecutionError(
                {"transaction_index": index, "execution_error": receipt.revert_reason}
            )
    return [estimate for _, estimate, _ in results]


def call(
    record: ChainRecord, address: int, selector: int, calldata: Sequence[int], block_id: BlockId
) -> list[int]:
    """``starknet_call``: run a view (or anything) and keep nothing."""
    with scratch(record, block_id) as chain:
        try:
            return chain.call(address, selector, calldata).retdata
        except EngineError as err:
            raise call_error(err) from None


def estimate_message(
    record: ChainRecord,
    *,
    from_address: int,
    to_address: int,
    selector: int,
    payload: Sequence[int],
    block_id: BlockId,
) -> ExecutionResources:
    """``starknet_estimateMessageFee``: run the ``#[l1_handler]`` and keep nothing."""
    with scratch(record, block_id) as chain:
        mark = chain.mark()
        try:
            result = chain.invoke(
                to_address,
                selector,
                [from_address, *payload],
                entry_point_type=EntryPointType.L1_HANDLER,
            )
        except EngineError as err:
            raise call_error(err, entry_point_error=False) from None
        return fees.resources_of(
            fees.Usage(
                type=TxType.INVOKE,
                steps=result.steps,
                builtins=result.builtins,
                data_felts=len(payload) + 1,
                events=tuple(result.events),
                messages=tuple(result.l2_to_l1_messages),
                state_diff_felts=fees.state_diff_felts(chain.diff(mark)),
            )
        )


def _error_text(err: RpcError) -> str:
    return f"{err.message}: {err.data}" if err.data is not None else err.message
