"""Protocol histories on the in-process chain, laid out in blocks of raw events for the indexer.

:class:`History` drives the compiled Escrow and Token (``smainer.sandbox``'s deployment on
``smainer.engine.Chain``, restored from one snapshot per history) and keeps every successful
transaction's Escrow and Token events, in emission order, in the block it ran in. A running
:class:`~tests.cairo.replay_model.EscrowReplay` of the log so far says which actions are valid
now (which task is Open, which node Active, who the scheduler is), so that random histories
waste few calls on reverts.

:class:`Layout` numbers and hashes those blocks the way a node would serve them and turns them
into ``RawEvent`` records (``event_index`` counts within a transaction, as
RPC's ``EMITTED_EVENT`` does); :meth:`Layout.fork` re-lays the blocks above a point on another
fork (new hashes, maybe a few empty blocks first, so the same transactions land in other block
numbers), as a reorg that re-includes them would.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from indexer.records import BlockHeader, RawEvent
from smainer.engine import Chain, Event, ExecutionRevertedError, Snapshot
from smainer.engine.contract import DeployedContract
from smainer.payload import encode_json, payload_hash
from smainer.sandbox import Marketplace, deploy_sandbox
from tests.cairo.replay_model import (
    NODE_ACTIVE,
    NODE_INACTIVE,
    NODE_SUSPENDED,
    TASK_ASSIGNED,
    TASK_OPEN,
    EscrowReplay,
    decode,
)

START_TIME = 1_700_000_000
FIRST_BLOCK = 1
ALICE, BOB, CAROL, STRANGER = 0xA11, 0xB0B, 0xCA201, 0x5757
NODE_1, NODE_2, NODE_3 = 0xE1, 0xE2, 0xE3
CREATORS = (ALICE, BOB, NODE_1)
"""Funded and approving; NODE_1 is a node that also creates tasks."""
NODE_CANDIDATES = (NODE_1, NODE_2, NODE_3, ALICE)
"""NODE_1 and NODE_2 register in the genesis; NODE_3 and ALICE (a creator) may register later."""
PAYEES = (0x7EA5, 0x6A5, 0xFEE1, 0xFEE2)
"""Treasury and gas recipient candidates (the deployment's two first)."""
FUNDS = 10**30
GENESIS_NODES = {NODE_1: (5, True, 16, 64), NODE_2: (2, False, 4, 8)}
REQUIREMENTS = {"gpu_required": False, "cpu_threads": 2, "ram_gb": 4}
"""What every generated task asks besides its tier, GPU and time (every node spec meets it)."""


@dataclass(frozen=True)
class Genesis:
    market: Marketplace
    snapshot: Snapshot
    blocks: tuple[tuple[tuple[Event, ...], ...], ...]
    """Blocks of transactions of followed events: the deployment, then funding and nodes."""


@functools.cache
def genesis() -> Genesis:
    """The marketplace deployed once per process (~7 s), creators funded, two nodes registered."""
    chain = Chain()
    chain.set_block(number=FIRST_BLOCK, timestamp=START_TIME)
    market = deploy_sandbox(chain)
    followed = {market.escrow.address, market.token.address}
    deployment = (tuple(market.escrow_constructor_events),)
    chain.set_block(number=FIRST_BLOCK + 1, timestamp=START_TIME + 12)
    txs: list[tuple[Event, ...]] = []
    owner = market.roles.owner
    for user in CREATORS:
        minted = market.token.invoke("mint", recipient=user, amount=FUNDS, caller=owner)
        approved = market.token.invoke(
            "approve", spender=market.escrow.address, amount=FUNDS, caller=user
        )
        txs += [
            tuple(e for e in r.events if e.from_address in followed) for r in (minted, approved)
        ]
    for node, (tier, gpu, cpu, ram) in GENESIS_NODES.items():
        result = market.escrow.invoke(
            "register_node", tier=tier, gpu=gpu, cpu_threads=cpu, ram_gb=ram, caller=node
        )
        txs.append(tuple(e for e in result.events if e.from_address in followed))
    return Genesis(market, chain.snapshot(), (deployment, tuple(txs)))


class History:
    """One protocol history from the genesis: each action is one transaction by the right
    caller; a reverted one leaves no trace (and is counted in :attr:`reverted`)."""

    def __init__(self) -> None:
        g = genesis()
        self.market = g.market
        self.chain = g.market.chain
        self.chain.restore(g.snapshot)
        self.escrow: DeployedContract = g.market.escrow
        self.token: DeployedContract = g.market.token
        self.followed = {self.escrow.address, self.token.address}
        self.blocks: list[list[tuple[Event, ...]]] = [list(b) for b in g.blocks]
        self.replay = EscrowReplay.from_events(
            e for b in g.blocks for tx in b for e in tx if e.from_address == self.escrow.address
        )
        self.reverted = 0
        self.new_block(12)

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def now(self) -> int:
        return int(self.chain.block.timestamp)

    def new_block(self, seconds: int) -> None:
        """Close the current block; the next one is ``seconds`` later."""
        block = self.chain.block
        self.chain.set_block(number=block.number + 1, timestamp=block.timestamp + seconds)
        self.blocks.append([])

    def _send(self, contract: DeployedContract, fn: str, caller: int, **kwargs: Any) -> bool:
        try:
            result = contract.invoke(fn, caller=caller, **kwargs)
        except ExecutionRevertedError:
            self.reverted += 1
            return False
        events = tuple(e for e in result.events if e.from_address in self.followed)
        self.blocks[-1].append(events)
        for event in events:
            if event.from_address == self.escrow.address:
                self.replay.apply(decode(event))
        return True

    def escrow_events(self) -> list[Event]:
        return [
            e
            for block in self.blocks
            for tx in block
            for e in tx
            if e.from_address == self.escrow.address
        ]

    # -- what is possible now (by the replay so far) ----------------------------------------

    def tasks_in(self, status: int) -> list[int]:
        return [i for i, t in self.replay.tasks.items() if t.status == status]

    def nodes_in(self, *statuses: int) -> list[int]:
        return [n for n in NODE_CANDIDATES if self._node_status(n) in statuses]

    def _node_status(self, node: int) -> int:
        model = self.replay.nodes.get(node)
        return 0 if model is None else model.status

    def assignable(self) -> list[tuple[int, int]]:
        """(task, node) pairs that ``assign_task`` accepts now."""
        if self.replay.paused:
            return []
        pairs = []
        for task_id in self.tasks_in(TASK_OPEN):
            need = self.replay.tasks[task_id].requirements
            for node in self.nodes_in(NODE_ACTIVE):
                spec = self.replay.nodes[node]
                if spec.tier >= need["min_tier"] and (spec.gpu or not need["gpu_required"]):
                    pairs.append((task_id, node))
        return pairs

    def claimable(self) -> list[int]:
        return [
            i for i in self.tasks_in(TASK_ASSIGNED) if self.replay.tasks[i].deadline >= self.now
        ]

    # -- actions ----------------------------------------------------------------------------

    def create(self, creator: int, amount: int, min_tier: int, gpu: bool, seconds: int) -> bool:
        requirements = {
            **REQUIREMENTS,
            "min_tier": min_tier,
            "gpu_required": gpu,
            "max_execution_time": min(seconds, self.replay.max_execution_time),
        }
        payload = encode_json({"algorithm": "matrix_multiplication", "n": len(self.replay.tasks)})
        return self._send(
            self.escrow,
            "create_task",
            creator,
            kind=1,
            payload=payload,
            requirements=requirements,
            amount=amount,
        )

    def cancel(self, task_id: int) -> bool:
        creator = self.replay.tasks[task_id].creator
        return self._send(self.escrow, "cancel_task", creator, task_id=task_id)

    def assign(self, task_id: int, node: int) -> bool:
        return self._send(
            self.escrow, "assign_task", self.replay.scheduler, task_id=task_id, node=node
        )

    def claim(self, task_id: int) -> bool:
        result = [task_id, self.now % 1000]
        return self._send(
            self.escrow,
            "submit_proof_and_claim",
            self.replay.tasks[task_id].node,
            task_id=task_id,
            result_hash=payload_hash(result),
            result=result,
        )

    def expire(self, task_id: int) -> bool:
        """Move to a block past the task's deadline, then reclaim it (as anyone may)."""
        self.new_block(max(1, self.replay.tasks[task_id].deadline + 1 - self.now))
        return self._send(self.escrow, "reclaim_expired", STRANGER, task_id=task_id)

    def register(self, node: int, tier: int, gpu: bool, cpu_threads: int, ram_gb: int) -> bool:
        return self._send(
            self.escrow,
            "register_node",
            node,
            tier=tier,
            gpu=gpu,
            cpu_threads=cpu_threads,
            ram_gb=ram_gb,
        )

    def node_call(self, fn: str, node: int) -> bool:
        """``deactivate_node`` or ``heartbeat`` by the node itself."""
        return self._send(self.escrow, fn, node)

    def owner_call(self, fn: str, **kwargs: Any) -> bool:
        """An owner-only call: suspend/reinstate, fees, payees, the time bound, pause."""
        return self._send(self.escrow, fn, self.replay.owner, **kwargs)

    def accept_ownership(self) -> bool:
        return self._send(self.escrow, "accept_ownership", self.replay.pending_owner)

    def stray_transfer(self, sender: int, amount: int) -> bool:
        """Tokens sent straight to the escrow (Token events only)."""
        return self._send(
            self.token, "transfer", sender, recipient=self.escrow.address, amount=amount
        )

    def suspendable(self) -> list[int]:
        return self.nodes_in(NODE_ACTIVE, NODE_INACTIVE)

    def suspended(self) -> list[int]:
        return self.nodes_in(NODE_SUSPENDED)


# ------------------------------------------------------------------------------- layout


def block_hash(fork: int, number: int) -> int:
    """A distinct felt per (fork, number)."""
    return (0xB10C << 200) + (fork << 64) + number


@dataclass(frozen=True)
class Block:
    header: BlockHeader
    events: tuple[RawEvent, ...]
    padding: bool = False
    """An empty block a fork put before the re-laid history blocks (not one of them)."""

    @property
    def number(self) -> int:
        return self.header.number


@dataclass
class Layout:
    """A history's blocks as a node serves them on the current fork."""

    transactions: list[list[tuple[Event, ...]]]
    """The history's blocks (of transactions of events), whatever the fork."""
    blocks: list[Block] = field(default_factory=list)
    fork_id: int = 0

    @classmethod
    def of(cls, history: History) -> Layout:
        layout = cls([list(b) for b in history.blocks])
        layout.blocks = layout._lay(0, FIRST_BLOCK, 0, 0)
        return layout

    def _lay(self, start: int, number: int, parent: int, empty: int) -> list[Block]:
        """History blocks ``start..`` from block ``number`` on (after ``empty`` empty blocks)."""
        groups: list[list[tuple[Event, ...]]] = [[] for _ in range(empty)]
        groups += self.transactions[start:]
        blocks = []
        for offset, txs in enumerate(groups):
            n = number + offset
            header = BlockHeader(
                n, block_hash(self.fork_id, n), parent, START_TIME + 12 * n, "ACCEPTED_ON_L2"
            )
            events = tuple(
                RawEvent(
                    block_number=n,
                    transaction_index=t,
                    event_index=i,
                    block_hash=header.hash,
                    transaction_hash=(0x7C << 200) + (self.fork_id << 64) + (n << 16) + t,
                    from_address=e.from_address,
                    keys=tuple(e.keys),
                    data=tuple(e.data),
                )
                for t, tx in enumerate(txs)
                for i, e in enumerate(tx)
            )
            blocks.append(Block(header, events, padding=offset < empty))
            parent = header.hash
        return blocks

    def fork(self, kept: int, empty: int) -> None:
        """Keep the first ``kept`` blocks; lay the history's rest again on a new fork, after
        ``empty`` empty blocks (a reorg that re-includes the same transactions higher up)."""
        self.fork_id += 1
        history_blocks = sum(1 for b in self.blocks[:kept] if not b.padding)
        del self.blocks[kept:]
        top = self.blocks[-1] if self.blocks else None
        self.blocks += self._lay(
            history_blocks,
            FIRST_BLOCK if top is None else top.number + 1,
            0 if top is None else top.header.hash,
            empty,
        )

    def events(self, upto: int | None = None) -> list[RawEvent]:
        """Every raw event of the first ``upto`` blocks (all by default), in chain order."""
        return [e for b in self.blocks[:upto] for e in b.events]
