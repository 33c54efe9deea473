"""starknet-devnet's cheats: minting, moving time, aborting blocks, predeploying contracts,
impersonating accounts and setting gas prices.

None of them exists on Starknet; each changes the chain as a devnet user expects from
starknet-devnet's documentation (``website/docs``: balance, blocks, starknet-time), and leaves a
trace a client can follow: a mint is a recorded INVOKE with a ``Transfer`` event, time moves by
mining a block, an abort queues a :class:`~devnet.models.Reorg` for subscribers, new gas prices
show in the next block's header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from starknet_py.hash.selector import get_selector_from_name

from devnet.codec import BlockId, parse_broadcasted
from devnet.engine_errors import call_error
from devnet.errors import BlockNotFoundError, InvalidParamsError
from devnet.genesis import MINTER_ADDRESS
from devnet.journal import JournalingChain
from devnet.models import Block, ExecutionResources, GasPrices, Receipt, Reorg, TransactionTrace
from devnet.models import TransactionType as TxType
from devnet.reads import resolve, token_of
from devnet.record import ChainRecord, Located
from devnet.sealing import include, seal
from devnet.transactions import balance_of, invocation
from smainer.engine import EngineError, Snapshot

__all__ = [
    "abort_blocks",
    "impersonate",
    "increase_time",
    "mint",
    "predeploy",
    "set_auto_impersonate",
    "set_gas_price",
    "set_time",
]

_MINT_SELECTOR = get_selector_from_name("mint")


def mint(
    record: ChainRecord, address: int, amount: int, unit: str, *, mine: bool
) -> tuple[int, Located]:
    """``devnet_mint``: the token's ``mint`` as a recorded INVOKE from the minter.

    Returns the new balance and the transaction (fee 0, a ``Transfer`` event from 0).
    """
    if unit not in ("FRI", "WEI"):
        raise InvalidParamsError(f"unit must be FRI or WEI, got {unit!r}")
    if not 0 <= amount < 2**256:
        raise InvalidParamsError("amount must be a u256")
    token = token_of(unit)
    chain = record.chain
    nonce = chain.get_nonce(MINTER_ADDRESS)
    inner = [address, amount % 2**128, amount >> 128]
    calldata = [1, token, _MINT_SELECTOR, len(inner), *inner]
    tx = parse_broadcasted(
        {
            "type": "INVOKE",
            "version": "0x3",
            "sender_address": hex(MINTER_ADDRESS),
            "calldata": [hex(value) for value in calldata],
            "signature": [],
            "nonce": hex(nonce),
            "resource_bounds": {},
            "tip": "0x0",
            "paymaster_data": [],
            "account_deployment_data": [],
            "nonce_data_availability_mode": "L1",
            "fee_data_availability_mode": "L1",
        },
        record.chain_id,
    ).tx
    record.refresh_pending_time()
    mark = chain.mark()
    try:
        result = chain.invoke(token, "mint", inner, caller=MINTER_ADDRESS)
    except EngineError as err:
        raise call_error(err) from None
    chain.set_nonce(MINTER_ADDRESS, nonce + 1)
    receipt = Receipt(
        transaction_hash=tx.transaction_hash,
        type=TxType.INVOKE,
        actual_fee=0,
        execution_resources=ExecutionResources(),
        events=tuple(result.events),
    )
    trace = TransactionTrace(
        type=TxType.INVOKE,
        execution_resources=ExecutionResources(),
        state_diff=chain.diff(mark),
        execute=invocation(chain, token, "mint", inner, result, caller=MINTER_ADDRESS),
    )
    located = Located(tx, receipt, trace, chain.block.number, len(record.pending))
    new_balance = balance_of(chain, token, address)
    include(record, located, mine=mine)
    return new_balance, located


def set_time(record: ChainRecord, timestamp: int, *, generate_block: bool) -> Block | None:
    """``devnet_setTime``: time continues from ``timestamp``; mines a block at it unless told
    not to, in which case the next block (and what runs before it) gets that time."""
    record.clock.set(timestamp)
    if generate_block:
        return seal(record)
    record.chain.set_block(timestamp=timestamp)
    return None


def increase_time(record: ChainRecord, seconds: int) -> Block:
    """``devnet_increaseTime``: move time forward for good and mine a block."""
    record.clock.advance(seconds)
    return seal(record)


def abort_blocks(record: ChainRecord, starting_block_id: BlockId) -> list[Block]:
    """``devnet_abortBlocks``: undo blocks from ``starting_block_id`` to the latest.

    A pre-confirmed block with transactions is mined first and aborted with the rest (as
    starknet-devnet does). The genesis block cannot be aborted. Aborted blocks and their
    transactions are forgotten; the live state is rebuilt from the history on a new chain.
    """
    if record.pending:
        seal(record)
    first = resolve(record, starting_block_id)
    if first >= len(record.archive):
        raise BlockNotFoundError()
    if first == 0:
        raise InvalidParamsError("the genesis block cannot be aborted")
    aborted = record.archive.truncate(first)
    for block in reversed(aborted):
        record.history.truncate(block.number, block.state_diff)
    latest = record.latest
    chain = JournalingChain(record.block_context(latest.number + 1, record.clock.now()))
    chain.restore(Snapshot(data=record.history.state_at(latest.number), block=chain.block))
    record.chain = chain
    record.pending_mark = 0
    record.outbox.append(
        Reorg(
            starting_block_number=aborted[0].number,
            starting_block_hash=aborted[0].block_hash or 0,
            ending_block_number=aborted[-1].number,
            ending_block_hash=aborted[-1].block_hash or 0,
        )
    )
    return aborted


def predeploy(
    record: ChainRecord,
    class_hash: int,
    constructor_calldata: Sequence[int],
    *,
    sierra: dict[str, Any] | None,
    casm: dict[str, Any] | None,
    compiled_class_hash: int | None,
    salt: int,
    address: int | None,
    mine: bool,
) -> int:
    """Declare (if ``casm`` is given) and deploy a contract without a transaction.

    A cheat for banners, demos and tests (the marketplace's Token and Escrow): the changes go
    into the pre-confirmed block's state diff, mined at once if ``mine``. Returns the address
    (Starknet's, from deployer 0, unless ``address`` is given).
    """
    record.refresh_pending_time()
    chain = record.chain
    try:
        if casm is not None:
            chain.declare(class_hash, casm, sierra, compiled_class_hash=compiled_class_hash)
        deployed = chain.deploy(class_hash, constructor_calldata, salt=salt, address=address)
    except EngineError as err:
        raise call_error(err) from None
    if mine:
        seal(record)
    return deployed.address


def impersonate(record: ChainRecord, address: int, *, on: bool) -> None:
    """``devnet_impersonateAccount`` (``on``) / ``devnet_stopImpersonateAccount``.

    Transactions from an impersonated sender skip ``__validate*__`` (any signature, or none,
    passes) but keep the nonce, fee-bound and balance checks, as starknet-devnet's do. Unlike
    starknet-devnet, which impersonates only accounts of a forked network, any address may be
    impersonated here (there is no fork): a local account too, or a deploy-account's address.
    Stopping an address that is not impersonated is a no-op, as it is there.
    """
    if on:
        record.impersonated = record.impersonated | {address}
    else:
        record.impersonated = record.impersonated - {address}


def set_auto_impersonate(record: ChainRecord, *, on: bool) -> None:
    """``devnet_autoImpersonate`` (``on``) / ``devnet_stopAutoImpersonate``: every sender is
    impersonated (starknet-devnet: every sender absent from the local state, i.e. of the fork)."""
    record.auto_impersonate = on


def set_gas_price(
    record: ChainRecord, changes: Mapping[str, int], *, generate_block: bool
) -> GasPrices:
    """``devnet_setGasPrice``: new prices (fields of :class:`GasPrices`) for the block being
    built, its transactions and fee estimates from now on; mined at once if ``generate_block``.

    As in starknet-devnet, the next mined block's header carries the new prices; transactions
    already in the pre-confirmed block keep the fee they were charged.
    """
    record.prices = replace(record.prices, **changes)
    block = record.chain.block
    record.chain.set_block(record.block_context(block.number, block.timestamp))
    if generate_block:
        seal(record)
    return record.prices
