"""The spec's write API: ``starknet_add{Invoke,Declare,DeployAccount}Transaction``.

Each parses its transaction (which must be of the method's type) and hands it to the devnet,
which executes it at once; a rejected transaction raises the spec's error and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devnet.codec import Json
from devnet.methods.params import typed_transaction
from devnet.state import Devnet


def add_invoke_transaction(devnet: Devnet, invoke_transaction: Any) -> Json:
    item = typed_transaction(invoke_transaction, "INVOKE", devnet.chain_id, "invoke_transaction")
    located = devnet.add_transaction(item)
    return {"transaction_hash": hex(located.transaction.transaction_hash)}


def add_declare_transaction(devnet: Devnet, declare_transaction: Any) -> Json:
    item = typed_transaction(declare_transaction, "DECLARE", devnet.chain_id, "declare_transaction")
    tx = devnet.add_transaction(item).transaction
    return {
        "transaction_hash": hex(tx.transaction_hash),
        "class_hash": hex(getattr(tx, "class_hash", 0)),
    }


def add_deploy_account_transaction(devnet: Devnet, deploy_account_transaction: Any) -> Json:
    item = typed_transaction(
        deploy_account_transaction,
        "DEPLOY_ACCOUNT",
        devnet.chain_id,
        "deploy_account_transaction",
    )
    tx = devnet.add_transaction(item).transaction
    return {
        "transaction_hash": hex(tx.transaction_hash),
        "contract_address": hex(tx.sender_address),
    }


METHODS: dict[str, Callable[..., Any]] = {
    "starknet_addInvokeTransaction": add_invoke_transaction,
    "starknet_addDeclareTransaction": add_declare_transaction,
    "starknet_addDeployAccountTransaction": add_deploy_account_transaction,
}
"""The write API's handlers by spec name."""
