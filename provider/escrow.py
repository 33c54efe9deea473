"""The escrow and its token through starknet-py's ``FullNodeClient`` only: views, events, calls.

Calldata is built by hand from ``docs/protocol.md``'s layouts, and views and events are decoded
the same way (events by the core :class:`smainer.events.EventDecoder`): starknet-py's
``Contract`` needs ~10 s of CPU to parse the escrow's ABI, longer than a provider's whole task.
Everything here reads; sending is :mod:`provider.transactions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.client_errors import ClientError
from starknet_py.net.client_models import Call
from starknet_py.net.full_node_client import FullNodeClient

from provider.errors import CallRevertedError
from provider.retry import DEFAULT_BACKOFF, Backoff, retrying
from smainer.artifacts import load_contract
from smainer.events import DecodedEvent, EventDecoder
from smainer.network.manifest import Manifest, manifest_path, read_manifest

U128 = 1 << 128
CONTRACT_ERROR = 40
"""JSON-RPC error of a call that reverted; its data holds the revert reason."""
EVENTS_CHUNK = 500


class TaskStatus(IntEnum):
    NONE = 0
    OPEN = 1
    ASSIGNED = 2
    COMPLETED = 3
    CANCELLED = 4
    EXPIRED = 5


class NodeStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    INACTIVE = 2
    SUSPENDED = 3


def u256(value: int) -> list[int]:
    return [value % U128, value // U128]


def shortstring(text: str) -> int:
    """A Cairo short string (at most 31 ASCII bytes) as a felt, e.g. a task's ``kind``."""
    raw = text.encode("ascii")
    if len(raw) > 31:
        raise ValueError(f"{text!r} is longer than a short string (31 bytes)")
    return int.from_bytes(raw, "big")


def decode_shortstring(felt: int) -> str:
    return felt.to_bytes(31, "big").lstrip(b"\0").decode("ascii", errors="replace")


@dataclass(frozen=True)
class Requirements:
    """What a node must offer (``Requirements`` in ``cairo/interfaces.cairo``)."""

    min_tier: int = 0
    gpu_required: bool = False
    cpu_threads: int = 0
    ram_gb: int = 0
    max_execution_time: int = 3600

    def felts(self) -> list[int]:
        return [
            self.min_tier,
            int(self.gpu_required),
            self.cpu_threads,
            self.ram_gb,
            self.max_execution_time,
        ]

    @classmethod
    def from_felts(cls, f: Sequence[int]) -> Requirements:
        return cls(f[0], bool(f[1]), f[2], f[3], f[4])


@dataclass(frozen=True)
class Task:
    """``get_task``'s answer, 21 felts in the order ``docs/protocol.md`` gives."""

    id: int
    creator: int
    kind: int
    payload_hash: int
    requirements: Requirements
    amount: int
    fees: tuple[int, int, int]
    status: TaskStatus
    node: int
    created_at: int
    assigned_at: int
    deadline: int
    completed_at: int
    result_hash: int

    @classmethod
    def from_felts(cls, f: Sequence[int]) -> Task:
        if len(f) != 21:
            raise ValueError(f"a Task is 21 felts, got {len(f)}")
        return cls(
            id=f[0],
            creator=f[1],
            kind=f[2],
            payload_hash=f[3],
            requirements=Requirements.from_felts(f[4:9]),
            amount=f[9] + f[10] * U128,
            fees=(f[11], f[12], f[13]),
            status=TaskStatus(f[14]),
            node=f[15],
            created_at=f[16],
            assigned_at=f[17],
            deadline=f[18],
            completed_at=f[19],
            result_hash=f[20],
        )


@dataclass(frozen=True)
class Node:
    """``get_node``'s answer (all zero for an unregistered address)."""

    tier: int
    gpu: bool
    cpu_threads: int
    ram_gb: int
    status: NodeStatus
    registered_at: int
    last_heartbeat: int
    completed_tasks: int
    failed_tasks: int
    earnings: int

    @classmethod
    def from_felts(cls, f: Sequence[int]) -> Node:
        if len(f) != 11:
            raise ValueError(f"a Node is 11 felts, got {len(f)}")
        return cls(
            f[0], bool(f[1]), f[2], f[3], NodeStatus(f[4]), f[5], f[6], f[7], f[8],
            f[9] + f[10] * U128,
        )  # fmt: skip


@dataclass(frozen=True)
class Market:
    """Where the marketplace of one network lives, from its ``deployments/<network>.json``."""

    rpc_url: str
    escrow: int
    token: int
    from_block: int
    """The escrow's deployment block: event scans start here."""

    @classmethod
    def from_manifest(cls, manifest: Manifest, rpc_url: str | None = None) -> Market:
        entry = manifest.contracts.get("Escrow")
        return cls(
            rpc_url=rpc_url or manifest.rpc_url,
            escrow=manifest.address("Escrow"),
            token=manifest.payment_token(),
            from_block=(entry.block or 0) if entry else 0,
        )


def load_market(network_name: str, rpc_url: str, manifest: Path | None, directory: Path) -> Market:
    """The market of ``--network`` from ``--manifest``, else ``<directory>/<network>.json``."""
    path = manifest or manifest_path(directory, network_name)
    found = read_manifest(path)
    if found is None:
        raise FileNotFoundError(f"no deployment manifest at {path}: run `smainer deploy` first")
    return Market.from_manifest(found, rpc_url)


def escrow_call(market: Market, name: str, calldata: Sequence[int] = ()) -> Call:
    return Call(market.escrow, get_selector_from_name(name), list(calldata))


def token_call(market: Market, name: str, calldata: Sequence[int] = ()) -> Call:
    return Call(market.token, get_selector_from_name(name), list(calldata))


class EscrowReader:
    """Views and events of one market, every RPC retried with backoff on transient failures."""

    def __init__(
        self, client: FullNodeClient, market: Market, backoff: Backoff = DEFAULT_BACKOFF
    ) -> None:
        self.client = client
        self.market = market
        self.backoff = backoff
        self.decoder = EventDecoder(load_contract("Escrow").abi)

    async def _call(self, to: int, name: str, calldata: Sequence[int] = ()) -> list[int]:
        call = Call(to, get_selector_from_name(name), list(calldata))
        try:
            return await retrying(
                lambda: self.client.call_contract(call, block_number="latest"), name, self.backoff
            )
        except ClientError as exc:
            if exc.code != CONTRACT_ERROR:
                raise
            data: dict[str, Any] = exc.data if isinstance(exc.data, dict) else {}
            reason = str(data.get("revert_error", exc.message))
            raise CallRevertedError(f"{name} reverted: {reason}", reason) from exc

    async def get_task(self, task_id: int) -> Task:
        return Task.from_felts(await self._call(self.market.escrow, "get_task", [task_id]))

    async def get_task_count(self) -> int:
        return (await self._call(self.market.escrow, "get_task_count"))[0]

    async def get_node(self, node: int) -> Node:
        return Node.from_felts(await self._call(self.market.escrow, "get_node", [node]))

    async def max_execution_time(self) -> int:
        return (await self._call(self.market.escrow, "max_execution_time"))[0]

    async def user_tasks(self, user: int) -> list[int]:
        ids: list[int] = []
        while True:
            page = await self._call(self.market.escrow, "get_user_tasks", [user, len(ids), 100])
            ids += page[1:]
            if page[0] < 100:
                return ids

    async def balance_of(self, account: int) -> int:
        low, high = await self._call(self.market.token, "balance_of", [account])
        return low + high * U128

    async def decimals(self) -> int:
        return (await self._call(self.market.token, "decimals"))[0]

    async def chain_time(self) -> int:
        """The latest block's timestamp: deadlines are compared with it, not the local clock."""
        block = await retrying(
            lambda: self.client.get_block(block_number="latest"), "get_block", self.backoff
        )
        return int(block.timestamp)

    async def latest_block(self) -> int:
        return int(
            await retrying(lambda: self.client.get_block_number(), "block_number", self.backoff)
        )

    async def events(
        self, name: str, keys: Sequence[Sequence[int]], from_block: int, to_block: int
    ) -> list[tuple[int, DecodedEvent]]:
        """The escrow's ``name`` events matching ``keys`` (after the selector), with blocks."""
        filter_keys: list[list[int | str]] = [
            [self.decoder.selector(name)],
            *[list[int | str](k) for k in keys],
        ]
        found: list[tuple[int, DecodedEvent]] = []
        token: str | None = None
        while True:

            async def page(token: str | None = token) -> Any:
                return await self.client.get_events(
                    address=self.market.escrow,
                    keys=filter_keys,
                    from_block_number=from_block,
                    to_block_number=to_block,
                    continuation_token=token,
                    chunk_size=EVENTS_CHUNK,
                )

            chunk = await retrying(page, f"events {name}", self.backoff)
            for event in chunk.events:
                found.append((event.block_number or 0, self.decoder.decode(event.keys, event.data)))
            token = chunk.continuation_token
            if not token:
                return found

    async def task_payload(self, task_id: int) -> list[int]:
        """The payload felts ``TaskCreated`` published for ``task_id``."""
        latest = await self.latest_block()
        created = await self.events("TaskCreated", [[task_id]], self.market.from_block, latest)
        if not created:
            raise LookupError(f"no TaskCreated event for task {task_id}")
        payload: list[int] = created[0][1].values["payload"]
        return payload

    async def task_result(self, task_id: int) -> dict[str, Any] | None:
        """``TaskCompleted``'s values for ``task_id`` (result felts included), if completed."""
        latest = await self.latest_block()
        done = await self.events("TaskCompleted", [[task_id]], self.market.from_block, latest)
        return done[0][1].values if done else None
