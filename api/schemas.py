"""Response and request shapes, as msgspec Structs on one base (Litestar documents them in the
OpenAPI schema). Amounts are u256 token base units as decimal strings (JSON numbers lose
precision above 2**53); felts are normalised hex; times are chain timestamps in seconds."""

from __future__ import annotations

from typing import Any

import msgspec


class Base(msgspec.Struct, kw_only=True):
    """Every shape: keyword-only, so fields can be added without breaking callers."""


class ErrorBody(Base):
    """Every answer that is not a 2xx (``api/errors.py``)."""

    error: str
    """What went wrong, for people."""
    status_code: int
    parameter: str | None = None
    """The query, path or body parameter at fault (400 only)."""


class ChainInfo(Base):
    reachable: bool | None
    """Whether the node answered within the timeout (None when serving read-only)."""
    chain_id: str | None
    head: int | None
    """The node's latest block number."""


class Health(Base):
    status: str
    """``ok`` once the index is usable, ``starting`` while the initial sync runs."""
    synced: bool
    read_only: bool
    uptime_seconds: float
    indexed_block: int | None
    """The last block whose events are all in the index."""
    lag_blocks: int | None
    chain: ChainInfo


class HourCount(Base):
    hour_start: int
    completed: int


class Stats(Base):
    tasks_by_status: dict[str, int]
    tasks_total: int
    nodes_active: int
    nodes_total: int
    escrowed: str
    """Sum of the amounts of Open and Assigned tasks (``escrowed_amount()``)."""
    settled: str
    """Sum of the amounts of Completed tasks."""
    refunded: str
    paid_to_providers: str
    paid_to_gas: str
    paid_to_treasury: str
    completed_per_hour: list[HourCount]
    """The 24 hours of chain time up to the last indexed block, oldest first."""
    median_completion_seconds: float | None
    success_rate: float | None
    """Completed / (Completed + Expired)."""
    indexed_block: int | None
    chain_time: int | None = None
    """Timestamp of the last indexed block: the "now" of every age and window above."""


class Requirements(Base):
    min_tier: int = 0
    gpu_required: bool = False
    cpu_threads: int = 0
    ram_gb: int = 0
    max_execution_time: int = 3600


class Fees(Base):
    provider_bps: int
    gas_bps: int
    treasury_bps: int


class TaskSummary(Base):
    id: int
    status: str
    creator: str
    kind: str
    kind_name: str | None
    """``kind`` as its short string, when printable."""
    amount: str
    node: str | None
    created_at: int
    assigned_at: int | None
    deadline: int | None
    completed_at: int | None
    created_block: int


class TaskPage(Base):
    items: list[TaskSummary]
    next_cursor: str | None
    """Pass as ``cursor`` for the next (older) page; None on the last page."""


class TimelineEvent(Base):
    event: str
    block_number: int
    block_hash: str
    transaction_hash: str
    transaction_index: int
    event_index: int
    timestamp: int | None


class Settlement(Base):
    provider_amount: str
    gas_amount: str
    treasury_amount: str
    gas_recipient: str
    treasury: str


class TaskDetail(Base):
    task: TaskSummary
    requirements: Requirements
    fees: Fees
    payload_hash: str
    payload_felts: list[str]
    timeline: list[TimelineEvent]
    """Every escrow event of the task, in chain order."""
    payload: Any = None
    """The payload's JSON, decoded (None when it is not packed JSON: see ``payload_error``)."""
    payload_error: str | None = None
    result_hash: str | None = None
    result_felts: list[str] | None = None
    result: Any = None
    result_error: str | None = None
    settlement: Settlement | None = None
    refund: str | None = None


class Node(Base):
    address: str
    tier: int
    gpu: bool
    cpu_threads: int
    ram_gb: int
    status: str
    registered_at: int
    last_heartbeat: int | None
    completed_tasks: int
    failed_tasks: int
    earnings: str
    reputation: float
    """(completed + 2) / (completed + failed + 3), the scheduler's Beta(2, 1) prior."""
    online: bool
    """A heartbeat or task event within the online window of the last indexed block's time."""


class NodePage(Base):
    items: list[Node]


class NodeStats(Base):
    total_tasks: int
    """Tasks ever assigned to the node."""
    assigned_now: int
    completed: int
    failed: int
    success_rate: float | None
    average_completion_seconds: float | None
    earnings: str
    earnings_per_hour_active: str
    """Earnings over the hours from registration to the last indexed block (base units)."""


class NodeDetail(Base):
    node: Node
    stats: NodeStats


class Payout(Base):
    task_id: int
    role: str
    """``provider``, ``gas`` or ``treasury``."""
    amount: str
    block_number: int
    transaction_hash: str


class Earnings(Base):
    address: str
    as_provider: str
    as_gas_recipient: str
    as_treasury: str
    total: str
    payouts: list[Payout]


class Movement(Base):
    direction: str
    """``in`` (to the escrow) or ``out`` (from the escrow)."""
    amount: str
    block_number: int
    transaction_hash: str
    timestamp: int | None


class History(Base):
    address: str
    movements: list[Movement]


class QuoteRequest(Base):
    payload: Any
    """Any JSON value; packed as UTF-8 JSON into felts like ``smainer task create``."""
    amount: str
    """Token base units (decimal string or integer)."""
    kind: str = "matmul"
    """The task's kind, a short string (the algorithm name)."""
    requirements: Requirements = msgspec.field(default_factory=Requirements)


class CallOut(Base):
    to: str
    entrypoint: str
    selector: str
    calldata: list[str]


class Split(Base):
    provider: str
    gas: str
    treasury: str


class Quote(Base):
    eligible_nodes: list[Node]
    payload_felts: list[str] | None
    payload_hash: str | None
    payload_error: str | None
    """Why the payload cannot go on chain (too large), or None."""
    fees: Fees
    split: Split
    max_execution_time: int
    """The escrow's bound on ``requirements.max_execution_time``."""
    paused: bool
    calls: list[CallOut]
    """``approve`` then ``create_task``, unsigned: sign them as one multicall."""


class StreamedEvent(Base):
    event: str
    contract: str
    block_number: int
    transaction_index: int
    event_index: int
    transaction_hash: str
    values: dict[str, Any]
