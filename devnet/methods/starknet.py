"""The ``starknet_*`` methods of the spec (v0.10.2: read, write, trace and executables APIs).

Thin handlers: parse params with :mod:`devnet.codec`, ask :class:`~devnet.state.Devnet`, render
the result with :mod:`devnet.codec`. Parameter names are the spec's, so by-name and by-position
calls both work through :class:`~devnet.dispatch.Dispatcher`. Handlers are synchronous and
CPU-bound (transactions run the Cairo VM): the server runs them off its event loop.
"""

from __future__ import annotations

from typing import Any

from devnet.codec import (
    BlockId,
    Json,
    block_header_json,
    casm_json,
    contract_class_json,
    emitted_event_json,
    fee_estimate_json,
    felt,
    parse_block_id,
    parse_broadcasted,
    parse_felts,
    receipt_json,
    state_diff_json,
    trace_json,
    transaction_json,
)
from devnet.dispatch import Dispatcher
from devnet.errors import (
    InvalidParamsError,
    StorageProofNotSupportedError,
    TransactionHashNotFoundError,
)
from devnet.events import EventFilter
from devnet.fees import estimate as price
from devnet.models import Block, StateDiff
from devnet.rejections import reject
from devnet.state import Devnet, Located

__all__ = ["SPEC_VERSION", "register"]

SPEC_VERSION = "0.10.2"


def _flags(value: Any, name: str, allowed: set[str]) -> set[str]:
    if value is None:
        return set()
    if not isinstance(value, list) or not all(isinstance(flag, str) for flag in value):
        raise InvalidParamsError(f"{name} must be an array of strings")
    unknown = set(value) - allowed
    if unknown:
        raise InvalidParamsError(f"{name}: unknown flags {sorted(unknown)}")
    return set(value)


def _index(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParamsError(f"{name} must be a non-negative integer")
    return value


def register(dispatcher: Dispatcher, devnet: Devnet) -> None:
    """Add every ``starknet_*`` method served by ``devnet`` to ``dispatcher``."""
    method = dispatcher.method

    def status(block: Block) -> str:
        return "PRE_CONFIRMED" if block.is_pre_confirmed else "ACCEPTED_ON_L2"

    def finality(located: Located) -> str:
        return (
            "PRE_CONFIRMED"
            if devnet.is_pre_confirmed(located.transaction.transaction_hash)
            else ("ACCEPTED_ON_L2")
        )

    def block_json(block_id: Any, body: str, response_flags: Any = None) -> Json:
        flags = _flags(response_flags, "response_flags", {"INCLUDE_PROOF_FACTS"})
        block = devnet.get_block(parse_block_id(block_id))
        out = block_header_json(block, status(block))
        transactions = devnet.block_transactions(block)
        if body == "hashes":
            out["transactions"] = [hex(t.transaction.transaction_hash) for t in transactions]
        elif body == "txs":
            out["transactions"] = [
                transaction_json(t.transaction, proof_facts="INCLUDE_PROOF_FACTS" in flags)
                for t in transactions
            ]
        else:
            out["transactions"] = [
                {
                    "transaction": transaction_json(
                        t.transaction,
                        with_hash=False,
                        proof_facts="INCLUDE_PROOF_FACTS" in flags,
                    ),
                    "receipt": receipt_json(t.receipt, status(block)),
                }
                for t in transactions
            ]
        return out

    @method("starknet_specVersion")
    def spec_version() -> str:
        return SPEC_VERSION

    @method("starknet_chainId")
    def chain_id() -> str:
        return hex(devnet.chain_id)

    @method("starknet_syncing")
    def syncing() -> bool:
        return False

    @method("starknet_blockNumber")
    def block_number() -> int:
        return devnet.latest_block.number

    @method("starknet_blockHashAndNumber")
    def block_hash_and_number() -> Json:
        block = devnet.latest_block
        return {"block_hash": hex(block.block_hash or 0), "block_number": block.number}

    @method("starknet_getBlockWithTxHashes")
    def get_block_with_tx_hashes(block_id: Any) -> Json:
        return block_json(block_id, "hashes")

    @method("starknet_getBlockWithTxs")
    def get_block_with_txs(block_id: Any, response_flags: Any = None) -> Json:
        return block_json(block_id, "txs", response_flags)

    @method("starknet_getBlockWithReceipts")
    def get_block_with_receipts(block_id: Any, response_flags: Any = None) -> Json:
        return block_json(block_id, "receipts", response_flags)

    @method("starknet_getBlockTransactionCount")
    def get_block_transaction_count(block_id: Any) -> int:
        return len(devnet.get_block(parse_block_id(block_id)).transactions)

    @method("starknet_getStateUpdate")
    def get_state_update(block_id: Any, contract_addresses: Any = None) -> Json:
        block = devnet.get_state_update(parse_block_id(block_id))
        diff = block.state_diff
        if contract_addresses is not None:
            wanted = set(parse_felts(contract_addresses, "contract_addresses"))
            diff = StateDiff(
                storage={k: v for k, v in diff.storage.items() if k[0] in wanted},
                nonces={k: v for k, v in diff.nonces.items() if k in wanted},
                deployed={k: v for k, v in diff.deployed.items() if k in wanted},
                replaced={k: v for k, v in diff.replaced.items() if k in wanted},
                declared=diff.declared,
            )
        if block.is_pre_confirmed:
            return {"old_root": hex(block.old_root), "state_diff": state_diff_json(diff)}
        return {
            "block_hash": hex(block.block_hash or 0),
            "old_root": hex(block.old_root),
            "new_root": hex(block.new_root),
            "state_diff": state_diff_json(diff),
        }

    @method("starknet_getStorageAt")
    def get_storage_at(
        contract_address: Any, key: Any, block_id: Any, response_flags: Any = None
    ) -> Any:
        flags = _flags(response_flags, "response_flags", {"INCLUDE_LAST_UPDATE_BLOCK"})
        value, last_update = devnet.get_storage_at(
            felt(contract_address, "contract_address"),
            felt(key, "key"),
            parse_block_id(block_id),
        )
        if "INCLUDE_LAST_UPDATE_BLOCK" in flags:
            return {"value": hex(value), "last_update_block": last_update}
        return hex(value)

    @method("starknet_getTransactionStatus")
    def get_transaction_status(transaction_hash: Any) -> Json:
        located = devnet.get_transaction(felt(transaction_hash, "transaction_hash"))
        out: Json = {
            "finality_status": finality(located),
            "execution_status": "SUCCEEDED" if located.receipt.succeeded else "REVERTED",
        }
        if located.receipt.revert_reason is not None:
            out["failure_reason"] = located.receipt.revert_reason
        return out

    @method("starknet_getMessagesStatus")
    def get_messages_status(transaction_hash: Any) -> list[Json]:
        felt(transaction_hash, "transaction_hash")
        raise reject(TransactionHashNotFoundError, "this devnet has no L1 -> L2 messages")

    @method("starknet_getTransactionByHash")
    def get_transaction_by_hash(transaction_hash: Any, response_flags: Any = None) -> Json:
        flags = _flags(response_flags, "response_flags", {"INCLUDE_PROOF_FACTS"})
        located = devnet.get_transaction(felt(transaction_hash, "transaction_hash"))
        return transaction_json(located.transaction, proof_facts="INCLUDE_PROOF_FACTS" in flags)

    @method("starknet_getTransactionByBlockIdAndIndex")
    def get_transaction_by_block_id_and_index(
        block_id: Any, index: Any, response_flags: Any = None
    ) -> Json:
        flags = _flags(response_flags, "response_flags", {"INCLUDE_PROOF_FACTS"})
        located = devnet.get_transaction_by_index(parse_block_id(block_id), _index(index, "index"))
        return transaction_json(located.transaction, proof_facts="INCLUDE_PROOF_FACTS" in flags)

    @method("starknet_getTransactionReceipt")
    def get_transaction_receipt(transaction_hash: Any) -> Json:
        located = devnet.get_transaction(felt(transaction_hash, "transaction_hash"))
        return receipt_json(located.receipt, finality(located), devnet.block_of(located))

    @method("starknet_getClass")
    def get_class(block_id: Any, class_hash: Any) -> Json:
        sierra = devnet.get_class(felt(class_hash, "class_hash"), parse_block_id(block_id))
        return contract_class_json(sierra)

    @method("starknet_getClassHashAt")
    def get_class_hash_at(block_id: Any, contract_address: Any) -> str:
        return hex(
            devnet.get_class_hash_at(
                felt(contract_address, "contract_address"), parse_block_id(block_id)
            )
        )

    @method("starknet_getClassAt")
    def get_class_at(block_id: Any, contract_address: Any) -> Json:
        parsed = parse_block_id(block_id)
        class_hash = devnet.get_class_hash_at(felt(contract_address, "contract_address"), parsed)
        return contract_class_json(devnet.get_class(class_hash, parsed))

    @method("starknet_getCompiledCasm")
    def get_compiled_casm(class_hash: Any) -> Json:
        return casm_json(devnet.get_compiled_casm(felt(class_hash, "class_hash")))

    @method("starknet_getNonce")
    def get_nonce(block_id: Any, contract_address: Any) -> str:
        return hex(
            devnet.get_nonce(felt(contract_address, "contract_address"), parse_block_id(block_id))
        )

    @method("starknet_call")
    def call(request: Any, block_id: Any) -> list[str]:
        if not isinstance(request, dict):
            raise InvalidParamsError("request must be a FUNCTION_CALL object")
        for key in ("contract_address", "entry_point_selector", "calldata"):
            if key not in request:
                raise InvalidParamsError(f"request lacks {key!r}")
        result = devnet.call(
            felt(request["contract_address"], "request.contract_address"),
            felt(request["entry_point_selector"], "request.entry_point_selector"),
            parse_felts(request["calldata"], "request.calldata"),
            parse_block_id(block_id),
        )
        return [hex(value) for value in result]

    def broadcasted(request: Any, name: str) -> list[Any]:
        if not isinstance(request, list):
            raise InvalidParamsError(f"{name} must be an array of transactions")
        return [
            parse_broadcasted(tx, devnet.chain_id, f"{name}[{index}]")
            for index, tx in enumerate(request)
        ]

    @method("starknet_estimateFee")
    def estimate_fee(request: Any, simulation_flags: Any, block_id: Any) -> list[Json]:
        flags = _flags(simulation_flags, "simulation_flags", {"SKIP_VALIDATE"})
        estimates = devnet.estimate_fee(
            broadcasted(request, "request"),
            parse_block_id(block_id),
            validate="SKIP_VALIDATE" not in flags,
        )
        return [fee_estimate_json(estimate) for estimate in estimates]

    @method("starknet_estimateMessageFee")
    def estimate_message_fee(message: Any, block_id: Any) -> Json:
        if not isinstance(message, dict):
            raise InvalidParamsError("message must be a MSG_FROM_L1 object")
        for key in ("from_address", "to_address", "entry_point_selector", "payload"):
            if key not in message:
                raise InvalidParamsError(f"message lacks {key!r}")
        resources = devnet.estimate_message(
            from_address=felt(message["from_address"], "message.from_address"),
            to_address=felt(message["to_address"], "message.to_address"),
            selector=felt(message["entry_point_selector"], "message.entry_point_selector"),
            payload=parse_felts(message["payload"], "message.payload"),
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

    @method("starknet_simulateTransactions")
    def simulate_transactions(block_id: Any, transactions: Any, simulation_flags: Any) -> Any:
        flags = _flags(
            simulation_flags,
            "simulation_flags",
            {"SKIP_VALIDATE", "SKIP_FEE_CHARGE", "RETURN_INITIAL_READS"},
        )
        if "RETURN_INITIAL_READS" in flags:
            raise InvalidParamsError("RETURN_INITIAL_READS is not supported by this devnet")
        results = devnet.simulate(
            broadcasted(transactions, "transactions"),
            parse_block_id(block_id),
            validate="SKIP_VALIDATE" not in flags,
            charge_fee="SKIP_FEE_CHARGE" not in flags,
        )
        return [
            {"transaction_trace": trace_json(trace), "fee_estimation": fee_estimate_json(fee)}
            for trace, fee, _ in results
        ]

    @method("starknet_traceTransaction")
    def trace_transaction(transaction_hash: Any) -> Json:
        located = devnet.get_transaction(felt(transaction_hash, "transaction_hash"))
        return trace_json(located.trace)

    @method("starknet_traceBlockTransactions")
    def trace_block_transactions(block_id: Any, trace_flags: Any = None) -> Any:
        flags = _flags(trace_flags, "trace_flags", {"RETURN_INITIAL_READS"})
        if "RETURN_INITIAL_READS" in flags:
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

    @method("starknet_getEvents")
    def get_events(filter: Any) -> Json:
        if not isinstance(filter, dict):
            raise InvalidParamsError("filter must be an object")
        known = {"from_block", "to_block", "address", "keys", "chunk_size", "continuation_token"}
        unknown = set(filter) - known
        if unknown:
            raise InvalidParamsError(f"filter: unknown fields {sorted(unknown)}")
        chunk_size = filter.get("chunk_size")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise InvalidParamsError("filter.chunk_size must be a positive integer")
        address = filter.get("address")
        addresses: frozenset[int] | None = None
        if isinstance(address, list):
            addresses = frozenset(parse_felts(address, "filter.address"))
        elif address is not None:
            addresses = frozenset([felt(address, "filter.address")])
        keys = filter.get("keys") or []
        if not isinstance(keys, list):
            raise InvalidParamsError("filter.keys must be an array of arrays")
        token = filter.get("continuation_token")
        if token is not None and not isinstance(token, str):
            raise InvalidParamsError("filter.continuation_token must be a string")
        event_filter = EventFilter(
            addresses=addresses,
            keys=tuple(
                frozenset(parse_felts(position, f"filter.keys[{index}]"))
                for index, position in enumerate(keys)
            ),
        )
        events, next_token = devnet.get_events(
            event_filter,
            from_block=_optional_block(filter.get("from_block"), "filter.from_block"),
            to_block=_optional_block(filter.get("to_block"), "filter.to_block"),
            chunk_size=chunk_size,
            continuation_token=token,
        )
        out: Json = {"events": [emitted_event_json(event) for event in events]}
        if next_token is not None:
            out["continuation_token"] = next_token
        return out

    @method("starknet_getStorageProof")
    def get_storage_proof(
        block_id: Any,
        class_hashes: Any = None,
        contract_addresses: Any = None,
        contracts_storage_keys: Any = None,
    ) -> Json:
        raise reject(StorageProofNotSupportedError, "this devnet keeps no Merkle-Patricia tries")

    @method("starknet_addInvokeTransaction")
    def add_invoke_transaction(invoke_transaction: Any) -> Json:
        located = devnet.add_transaction(
            _typed(invoke_transaction, "INVOKE", devnet, "invoke_transaction")
        )
        return {"transaction_hash": hex(located.transaction.transaction_hash)}

    @method("starknet_addDeclareTransaction")
    def add_declare_transaction(declare_transaction: Any) -> Json:
        item = _typed(declare_transaction, "DECLARE", devnet, "declare_transaction")
        located = devnet.add_transaction(item)
        tx = located.transaction
        return {
            "transaction_hash": hex(tx.transaction_hash),
            "class_hash": hex(getattr(tx, "class_hash", 0)),
        }

    @method("starknet_addDeployAccountTransaction")
    def add_deploy_account_transaction(deploy_account_transaction: Any) -> Json:
        item = _typed(
            deploy_account_transaction, "DEPLOY_ACCOUNT", devnet, "deploy_account_transaction"
        )
        located = devnet.add_transaction(item)
        return {
            "transaction_hash": hex(located.transaction.transaction_hash),
            "contract_address": hex(located.transaction.sender_address),
        }


def _optional_block(value: Any, name: str) -> BlockId | None:
    return None if value is None else parse_block_id(value, name)


def _typed(value: Any, kind: str, devnet: Devnet, name: str) -> Any:
    """Parse a write-API tx, which must be of the method's type."""
    if not isinstance(value, dict) or value.get("type") != kind:
        raise InvalidParamsError(f"{name} must be a {kind} transaction")
    return parse_broadcasted(value, devnet.chain_id, name)
