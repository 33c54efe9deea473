"""Helpers of the devnet's chain tests (test_genesis, test_transactions, test_fees, test_sealing,
test_reads, test_cheats, test_rollback, test_dump, test_methods...): a devnet on a fake clock,
RPC calls through the real dispatcher, and transactions signed by starknet-py as a client signs
them.

No tests here; pytest collects the module and finds none.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.account.account import Account
from starknet_py.net.client_models import Call, ResourceBounds, ResourceBoundsMapping
from starknet_py.net.client_utils import _create_broadcasted_txn
from starknet_py.net.signer.key_pair import KeyPair

from devnet.app import build_dispatcher
from devnet.errors import RpcError
from devnet.inprocess import in_process_client
from devnet.models import PredeployedAccount
from devnet.state import Devnet, Notification
from smainer.config import DevnetSettings

START_TIME = 1_700_000_000
ONE_STRK = 10**18
TRANSFER = get_selector_from_name("transfer")
TRANSFER_EVENT = get_selector_from_name("Transfer")
PRICE = 10**9
BOUNDS = ResourceBoundsMapping(
    l1_gas=ResourceBounds(max_amount=0, max_price_per_unit=2 * PRICE),
    l1_data_gas=ResourceBounds(max_amount=10_000, max_price_per_unit=2 * PRICE),
    l2_gas=ResourceBounds(max_amount=50_000_000, max_price_per_unit=2 * PRICE),
)
"""Generous bounds: 0.1 STRK at most, far below the accounts' 1000 STRK."""


class Clock:
    """A wall clock the test moves by hand, so timestamps are exact."""

    def __init__(self, now: int = START_TIME) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


INITIAL = 10**21
"""Each predeployed account's balance (the settings' default), in FRI and in WEI."""


def make_devnet(accounts: int = 2, *, dump_dir: Path | None = None, **options: Any) -> Devnet:
    settings = DevnetSettings(accounts=accounts, seed=7, dump_dir=dump_dir)
    return Devnet(settings, clock=Clock(), **options)


def chain_state(devnet: Devnet) -> dict[str, Any]:
    """Everything a rejected or failed request must leave alone, in a comparable form.

    The dump holds blocks, transactions, receipts, the pre-confirmed block and its diff, the
    classes and the clock; the live state and the history as of the latest block are added.
    """
    record = devnet._record
    data = record.chain.state
    return {
        "dump": devnet.dump(),
        # A 0 and an absent key read the same; a rollback may leave either.
        "storage": {slot: value for slot, value in data.storage.items() if value},
        "contracts": dict(data.contracts),
        "nonces": {address: nonce for address, nonce in data.nonces.items() if nonce},
        "classes": set(data.classes),
        "history": record.history.state_at(len(record.archive) - 1),
        "pending_block": record.chain.block,
    }


def rpc(devnet: Devnet, method: str, params: Any = None) -> Any:
    """One JSON-RPC call through the dispatcher (params by name or by position)."""
    return asyncio.run(build_dispatcher(devnet).call(method, params))


def rpc_error(devnet: Devnet, method: str, params: Any = None) -> RpcError:
    """The error a call raises; fails if it succeeds."""
    try:
        result = rpc(devnet, method, params)
    except RpcError as exc:
        return exc
    raise AssertionError(f"{method} succeeded: {result}")


def account_of(devnet: Devnet, predeployed: PredeployedAccount) -> Account:
    """starknet-py's Account for a predeployed account, served in process."""
    return Account(
        address=predeployed.address,
        client=in_process_client(devnet),
        key_pair=KeyPair.from_private_key(predeployed.private_key),
        chain=devnet.chain_id,
    )


def transfer_call(devnet: Devnet, to: int, amount: int) -> Call:
    return Call(devnet.fee_token_address, TRANSFER, [to, amount % 2**128, amount >> 128])


def signed_invoke(
    devnet: Devnet,
    predeployed: PredeployedAccount,
    calls: Call | Sequence[Call],
    *,
    nonce: int | None = None,
    bounds: ResourceBoundsMapping = BOUNDS,
    signature: list[int] | None = None,
) -> dict[str, Any]:
    """A BROADCASTED_INVOKE_TXN exactly as starknet-py 0.30 would send it."""
    account = account_of(devnet, predeployed)

    async def sign() -> dict[str, Any]:
        tx = await account.sign_invoke_v3(
            calls=list(calls) if isinstance(calls, Sequence) else calls,
            nonce=devnet.get_nonce(predeployed.address, _pre_confirmed())
            if nonce is None
            else nonce,
            resource_bounds=bounds,
        )
        if signature is not None:
            tx = dataclasses.replace(tx, signature=signature)
        return _create_broadcasted_txn(tx)

    return asyncio.run(sign())


def _pre_confirmed() -> Any:
    from devnet.codec import BlockId

    return BlockId(tag="pre_confirmed")


def send(devnet: Devnet, wire: dict[str, Any]) -> dict[str, Any]:
    """addInvokeTransaction (or declare/deploy-account), then the receipt."""
    method = {
        "INVOKE": ("starknet_addInvokeTransaction", "invoke_transaction"),
        "DECLARE": ("starknet_addDeclareTransaction", "declare_transaction"),
        "DEPLOY_ACCOUNT": (
            "starknet_addDeployAccountTransaction",
            "deploy_account_transaction",
        ),
    }[wire["type"]]
    added = rpc(devnet, method[0], {method[1]: wire})
    receipt: dict[str, Any] = rpc(
        devnet, "starknet_getTransactionReceipt", {"transaction_hash": added["transaction_hash"]}
    )
    return receipt


def strk_balance(devnet: Devnet, address: int, block_id: Any = "latest") -> int:
    """balance_of through starknet_call, as a client reads it."""
    low, high = rpc(
        devnet,
        "starknet_call",
        {
            "request": {
                "contract_address": hex(devnet.fee_token_address),
                "entry_point_selector": hex(get_selector_from_name("balance_of")),
                "calldata": [hex(address)],
            },
            "block_id": block_id,
        },
    )
    return int(low, 16) + (int(high, 16) << 128)


class InjectedFaultError(Exception):
    """The failure a test plants inside the devnet (test_rollback, test_state)."""


def fail_after(patch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    """Make ``owner.name`` do its work, then fail: a request is left half applied."""
    original = getattr(owner, name)

    def failing(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise InjectedFaultError(name)

    patch.setattr(owner, name, failing)


def listened(devnet: Devnet) -> list[Notification]:
    """Every notification the devnet's listeners hear from now on."""
    seen: list[Notification] = []
    devnet.add_listener(seen.append)
    return seen
