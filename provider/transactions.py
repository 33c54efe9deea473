"""One account's transactions, sent one at a time with a nonce kept locally.

A provider sends heartbeats and claims from concurrent coroutines; starknet-py's ``Account``
would read the nonce from the node for each, and two sends in flight would get the same one.
:class:`Sender` takes a lock, signs with its own counter, so concurrent claims go out pipelined
with consecutive nonces, and re-syncs that counter from the chain's ``pre_confirmed`` nonce
(which counts transactions already in the block being built) after any failure: a refused
send, or a sent transaction the node never accepted (its nonce may be free again). It reports
the transaction hash *before* sending, so that a journal can record it: a crash between the
record and the send is recovered by re-signing with the recorded nonce, and only one
transaction with that nonce can ever be included.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starknet_py.net.account.account import Account
from starknet_py.net.client_errors import ClientError
from starknet_py.net.client_models import (
    Call,
    ResourceBounds,
    ResourceBoundsMapping,
    TransactionReceiptWithBlockInfo,
)
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.models.transaction import InvokeV3
from starknet_py.transaction_errors import (
    TransactionNotReceivedError,
    TransactionRevertedError,
)

from provider.errors import TransactionFailedError, TransactionPendingError
from provider.retry import DEFAULT_BACKOFF, Backoff, retrying

INVALID_TRANSACTION_NONCE = 52
DUPLICATE_TX = 59
TXN_HASH_NOT_FOUND = 29

DEVNET_BOUNDS = ResourceBoundsMapping(
    l1_gas=ResourceBounds(max_amount=0, max_price_per_unit=10**10),
    l1_data_gas=ResourceBounds(max_amount=10**5, max_price_per_unit=10**10),
    l2_gas=ResourceBounds(max_amount=10**9, max_price_per_unit=10**10),
)
"""Bounds that cover any marketplace transaction on the devnet, to skip the fee estimate."""

_QUOTED_REASON = re.compile(r"'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'")
_BARE_REASON = re.compile(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b")
_GENERIC = frozenset({"ENTRYPOINT_FAILED", "ENTRYPOINT_NOT_FOUND"})
"""What the account's ``__execute__`` adds around the failing call's own reason."""

BeforeSend = Callable[[int, int], None]
"""Called with (transaction hash, nonce) after signing and before sending."""


def revert_reason(message: str) -> str | None:
    """The contract's short-string reason (``TASK_NOT_ASSIGNED``) in a node's failure text."""
    for pattern in (_QUOTED_REASON, _BARE_REASON):
        found = [r for r in pattern.findall(message) if r not in _GENERIC]
        if found:
            return str(found[0])
    return None


def failure(what: str, message: str) -> TransactionFailedError:
    """``what: REASON`` when the node's text names the contract's reason, else its first line
    (the Cairo traceback that follows is for debugging, not for a command's one-line error)."""
    reason = revert_reason(message)
    lines = message.strip().splitlines()
    return TransactionFailedError(f"{what}: {reason or (lines[0] if lines else message)}", reason)


@dataclass(frozen=True)
class Sent:
    tx_hash: int
    nonce: int


class Sender:
    """Signs and sends ``account``'s transactions with a locally managed nonce."""

    def __init__(
        self,
        account: Account,
        chain_id: int,
        *,
        resource_bounds: ResourceBoundsMapping | None = None,
        poll_interval: float = 0.25,
        wait_timeout: float = 600.0,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self.account = account
        self.chain_id = chain_id
        self.resource_bounds = resource_bounds
        """Fixed bounds, or ``None`` to estimate each transaction's fee (real networks)."""
        self.poll_interval = poll_interval
        """``wait_for_tx``'s check interval, which it also sleeps after seeing the tx accepted,
        before fetching the receipt: keep it short (its default, 2 s, dominates a devnet tx)."""
        self.wait_timeout = wait_timeout
        """Seconds :meth:`wait` waits for a transaction to be accepted."""
        self.backoff = backoff
        self._lock = asyncio.Lock()
        self._nonce: int | None = None

    @property
    def client(self) -> FullNodeClient:
        client = self.account.client
        assert isinstance(client, FullNodeClient)
        return client

    @property
    def address(self) -> int:
        return self.account.address

    async def chain_nonce(self) -> int:
        """The account's next nonce counting the ``pre_confirmed`` block, not only ``latest``:
        a transaction already in the block being built has used its nonce."""
        return int(
            await retrying(
                lambda: self.account.get_nonce(block_number="pre_confirmed"),
                "get_nonce",
                self.backoff,
            )
        )

    def resync(self) -> None:
        """Forget the local nonce: the next send reads it from the chain again."""
        self._nonce = None

    async def send(
        self,
        calls: Sequence[Call],
        *,
        before_send: BeforeSend | None = None,
        nonce: int | None = None,
    ) -> Sent:
        """Sign ``calls`` as one multicall and send it; ``nonce`` re-uses a recorded one.

        A nonce the node refuses (another client sent from this account) is read again from
        the chain and the calls re-signed once; ``before_send`` then sees the new hash.
        """
        async with self._lock:
            for attempt in (1, 2):
                if self._nonce is None:
                    self._nonce = await self.chain_nonce()
                use = self._nonce if nonce is None else nonce
                tx = await self._sign(calls, use)
                tx_hash = tx.calculate_hash(self.chain_id)
                if before_send is not None:
                    before_send(tx_hash, use)
                try:
                    await self._submit(tx)
                except ClientError as exc:
                    if exc.code == DUPLICATE_TX:  # a retry after a lost answer: already sent
                        pass
                    elif exc.code == INVALID_TRANSACTION_NONCE and nonce is None and attempt == 1:
                        self.resync()  # another client used the account: re-read, re-sign
                        continue
                    else:
                        self.resync()
                        raise failure("transaction refused", str(exc.message)) from exc
                except BaseException:  # the node unreachable, or cancelled: sent or not?
                    self.resync()
                    raise
                self._nonce = max(self._nonce or 0, use + 1)
                return Sent(tx_hash, use)
        raise AssertionError("unreachable")

    async def _sign(self, calls: Sequence[Call], nonce: int) -> InvokeV3:
        return await retrying(
            lambda: self.account.sign_invoke_v3(
                list(calls),
                nonce=nonce,
                resource_bounds=self.resource_bounds,
                auto_estimate=self.resource_bounds is None,
            ),
            "sign",
            self.backoff,
        )

    async def _submit(self, tx: InvokeV3) -> None:
        await retrying(lambda: self.client.send_transaction(tx), "send", self.backoff)

    async def wait(self, tx_hash: int) -> TransactionReceiptWithBlockInfo:
        """The receipt once accepted; :class:`TransactionFailedError` if it reverted,
        :class:`TransactionPendingError` if it is still not accepted after ``wait_timeout``."""
        checks = max(1, math.ceil(self.wait_timeout / self.poll_interval))
        try:
            return await retrying(
                lambda: self.client.wait_for_tx(
                    tx_hash, check_interval=self.poll_interval, retries=checks
                ),
                "wait_for_tx",
                self.backoff,
            )
        except TransactionRevertedError as exc:
            raise failure(f"transaction {hex(tx_hash)} reverted", exc.message) from exc
        except TransactionNotReceivedError as exc:  # also what starknet-py makes of a cancel
            self.resync()  # never accepted: if it was dropped, its nonce is free again
            raise TransactionPendingError(
                f"transaction {hex(tx_hash)} not accepted after {self.wait_timeout:.0f} s"
            ) from exc

    async def execute(self, calls: Sequence[Call]) -> TransactionReceiptWithBlockInfo:
        sent = await self.send(calls)
        return await self.wait(sent.tx_hash)

    async def status(self, tx_hash: int) -> str | None:
        """The transaction's finality status, ``REVERTED``, or ``None`` when the node has never
        heard of it (dropped, or never sent)."""
        try:
            found = await retrying(
                lambda: self.client.get_transaction_status(tx_hash), "tx status", self.backoff
            )
        except ClientError as exc:
            if exc.code == TXN_HASH_NOT_FOUND:
                return None
            raise
        if found.execution_status is not None and found.execution_status.value == "REVERTED":
            return "REVERTED"
        return str(found.finality_status.value)
