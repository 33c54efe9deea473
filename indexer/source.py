"""The chain as the indexer reads it: head, block headers and events, over JSON-RPC.

Only starknet-py's ``Client`` is used (``FullNodeClient`` in practice), so the same code reads
``smainer devnet``, Sepolia or mainnet. starknet-py's results become :mod:`indexer.records` and
its errors become :mod:`indexer.errors` here, at one boundary: ``BLOCK_NOT_FOUND`` (24) is
:class:`BlockNotFoundError`, which the runner reads as "reorged away or not reached"; everything
else a node can do wrong (timeouts, HTTP 429 or 5xx, a dropped connection, an invalidated
continuation token) is a retryable :class:`SourceError`.

The head is never overshot: the runner asks for events only up to the block number this source
last reported, because a lagging node answers ``getEvents`` with ``[]`` for blocks it has not
reached, which would otherwise be indexed as empty for good.

Once synced, the runner waits in :meth:`ChainSource.wait_for_news`. :class:`RpcSource` answers it
from a WebSocket subscription to new heads where the node has one (:mod:`smainer.network.heads`),
so a new block or a reorg is seen at once; without one it simply sleeps, and the runner polls.
The WebSocket is a wake-up and a reorg hint only: data always comes from ``getEvents``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import aiohttp
from starknet_py.net.client_errors import ClientError
from starknet_py.net.client_models import StarknetBlockWithTxHashes
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.http_client import RpcHttpClient

from indexer.errors import BlockNotFoundError, InconsistentAnswerError, SourceError
from indexer.filters import EventQuery
from indexer.records import BlockHeader, RawEvent
from smainer.network.heads import HeadWatcher, derive_ws_url

T = TypeVar("T")
Log = Callable[[str], None]

BLOCK_NOT_FOUND = 24
"""Starknet JSON-RPC error code of an unknown block (spec 0.10 ``BLOCK_NOT_FOUND``)."""
PAGE_SIZE_TOO_BIG = 31
"""The node's page limit is below our ``chunk_size`` (starknet-devnet and this devnet: 1000)."""
DEFAULT_CHUNK_SIZE = 1000


_logger = logging.getLogger(__name__)


class _PageSizeTooBig(Exception):
    pass


Finality = Literal["accepted", "l1"]


class ChainSource(Protocol):
    """What the runner needs from a chain (the RPC source now; a DNA stream later)."""

    async def head(self) -> int:
        """The newest block the indexer may read (by the chosen finality)."""
        ...

    async def header(self, number: int) -> BlockHeader: ...

    async def events(self, first: int, last: int) -> list[RawEvent]:
        """Every event of the followed contracts in blocks ``first..last``, in chain order."""
        ...

    async def wait_for_news(self, timeout: float) -> None:
        """Return as soon as the source knows of something new (a new head, a reorg), else
        after ``timeout`` seconds. What is new is then read through the methods above; a
        source without notifications just sleeps."""
        ...


@runtime_checkable
class HintsReorgs(Protocol):
    """A source told of reorgs (a WebSocket ``starknet_subscriptionReorg``, a DNA
    ``invalidate``): the runner rolls back from there without waiting to discover it."""

    def take_reorg(self) -> int | None:
        """The lowest first reorged block announced since the last call (then forgotten)."""
        ...


@runtime_checkable
class KnowsL1Finality(Protocol):
    """A source that can say how far L1 has accepted the chain (for ``blocks.finality``)."""

    async def l1_accepted(self) -> int:
        """The number of the newest block accepted on L1."""
        ...


class RpcSource:
    """A :class:`ChainSource` over a starknet-py client (and, for events, its transport)."""

    def __init__(
        self,
        client: FullNodeClient,
        addresses: Sequence[int],
        *,
        finality: Finality = "accepted",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_in_flight: int = 8,
        timeout: float = 30.0,
        http: RpcHttpClient | None = None,
        heads: HeadWatcher | None = None,
        queries: Sequence[EventQuery] | None = None,
    ) -> None:
        self.client = client
        self.addresses = list(addresses)
        self.queries = list(queries) if queries else [EventQuery(tuple(self.addresses))]
        """The ``getEvents`` filters (``indexer/filters.py``); default: every event of
        ``addresses``."""
        self.finality = finality
        self.chunk_size = chunk_size
        self.timeout = timeout
        self._slots = asyncio.Semaphore(max_in_flight)
        self._session: aiohttp.ClientSession | None = None
        self._http = http
        self.heads = heads
        """New-head notifications, when the node has a WebSocket (else ``wait_for_news``
        sleeps)."""

    @classmethod
    def connect(
        cls,
        url: str,
        addresses: Sequence[int],
        *,
        finality: Finality = "accepted",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float = 30.0,
        ws_url: str | Literal["auto"] | None = "auto",
        log: Log | None = None,
        queries: Sequence[EventQuery] | None = None,
    ) -> RpcSource:
        """A source on ``url`` with one kept-alive HTTP session (close it with :meth:`close`).

        starknet-py opens a new connection per request without a session of its own. Events
        go through starknet-py's transport (``RpcHttpClient``) and :func:`parse_events_page`.
        ``ws_url``: the node's WebSocket for new-head notifications; ``"auto"`` tries
        ``ws://host:port/ws`` (``wss`` for ``https``), ``None`` polls only. The WebSocket is
        opened on the first :meth:`wait_for_news`; ``log`` gets its one line if it fails.
        """
        session = aiohttp.ClientSession()
        where = derive_ws_url(url) if ws_url == "auto" else ws_url
        heads = None
        if where is not None:
            heads = HeadWatcher(where, log=log or _logger.warning, timeout=min(timeout, 10.0))
        source = cls(
            FullNodeClient(node_url=url, session=session),
            addresses,
            finality=finality,
            chunk_size=chunk_size,
            timeout=timeout,
            http=RpcHttpClient(url=url, session=session),
            heads=heads,
            queries=queries,
        )
        source._session = session
        return source

    async def close(self) -> None:
        if self.heads is not None:
            await self.heads.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, request: Callable[[], Awaitable[T]], what: str) -> T:
        """One request (made only once a slot is free), its errors translated."""
        async with self._slots:
            try:
                return await asyncio.wait_for(request(), timeout=self.timeout)
            except ClientError as exc:
                if str(exc.code) == str(BLOCK_NOT_FOUND):
                    raise BlockNotFoundError(f"{what}: block not found") from None
                if str(exc.code) == str(PAGE_SIZE_TOO_BIG):
                    raise _PageSizeTooBig() from None
                raise SourceError(f"{what}: {exc.message}") from exc
            except TimeoutError:
                raise SourceError(f"{what}: no answer within {self.timeout:g} s") from None
            except (aiohttp.ClientError, OSError) as exc:
                raise SourceError(f"{what}: {type(exc).__name__}: {exc}") from exc

    async def head(self) -> int:
        if self.finality == "l1":
            return await self.l1_accepted()
        return int(await self._call(self.client.get_block_number, "blockNumber"))

    async def l1_accepted(self) -> int:
        """The ``l1_accepted`` block's number (what ``--finality l1`` indexes up to)."""
        block = await self._call(
            lambda: self.client.get_block_with_tx_hashes(block_number="l1_accepted"),
            "l1_accepted block",
        )
        if not isinstance(block, StarknetBlockWithTxHashes):
            raise InconsistentAnswerError("the l1_accepted block came back pre-confirmed")
        return int(block.block_number)

    async def wait_for_news(self, timeout: float) -> None:
        if self.heads is None:
            await asyncio.sleep(timeout)
        else:
            await self.heads.wait(timeout)

    def take_reorg(self) -> int | None:
        return None if self.heads is None else self.heads.take_reorg()

    async def header(self, number: int) -> BlockHeader:
        block = await self._call(
            lambda: self.client.get_block_with_tx_hashes(block_number=number), f"block {number}"
        )
        if not isinstance(block, StarknetBlockWithTxHashes):
            raise BlockNotFoundError(f"block {number} is not mined yet")
        return BlockHeader(
            number=int(block.block_number),
            hash=int(block.block_hash),
            parent_hash=int(block.parent_hash),
            timestamp=int(block.timestamp),
            finality=block.status.value,
        )

    async def events(self, first: int, last: int) -> list[RawEvent]:
        if len(self.queries) == 1:
            return await self._query(self.queries[0], first, last)
        parts = await asyncio.gather(*(self._query(q, first, last) for q in self.queries))
        # An event matched by two filters (a transfer from the escrow to itself) is kept once.
        merged = {(e.block_number, e.transaction_index, e.event_index): e for p in parts for e in p}
        return [merged[position] for position in sorted(merged)]

    async def _query(self, query: EventQuery, first: int, last: int) -> list[RawEvent]:
        found: list[RawEvent] = []
        token: str | None = None
        while True:
            try:
                page, token = await self._call(
                    functools.partial(self._page, query, first, last, token),
                    f"events of blocks {first}..{last}",
                )
            except _PageSizeTooBig:
                if self.chunk_size == 1:
                    raise SourceError("the node refuses even one event per page") from None
                self.chunk_size = max(1, self.chunk_size // 2)  # and keep it for later pages
                continue
            found.extend(page)
            if not token:
                return found

    async def _page(
        self, query: EventQuery, first: int, last: int, token: str | None
    ) -> tuple[list[RawEvent], str | None]:
        if self._http is not None:
            params: dict[str, Any] = {
                "from_block": {"block_number": first},
                "to_block": {"block_number": last},
                **query.params(),
                "chunk_size": self.chunk_size,
            }
            if token:
                params["continuation_token"] = token
            result = await self._http.call(method_name="getEvents", params={"filter": params})
            return parse_events_page(result, first, last)
        chunk = await self.client.get_events(
            address=list(query.addresses),
            keys=[list(position) for position in query.keys] or None,
            from_block_number=first,
            to_block_number=last,
            continuation_token=token,
            chunk_size=self.chunk_size,
        )
        events = []
        for event in chunk.events:
            if event.block_hash is None or event.block_number is None:
                raise InconsistentAnswerError(
                    f"an event of blocks {first}..{last} came back pre-confirmed"
                )
            events.append(
                RawEvent(
                    block_number=event.block_number,
                    transaction_index=event.transaction_index,
                    event_index=event.event_index,
                    block_hash=event.block_hash,
                    transaction_hash=event.transaction_hash,
                    from_address=event.from_address,
                    keys=tuple(event.keys),
                    data=tuple(event.data),
                )
            )
        return events, chunk.continuation_token


def parse_events_page(
    result: Mapping[str, Any], first: int, last: int
) -> tuple[list[RawEvent], str | None]:
    """A ``starknet_getEvents`` result (spec ``EVENTS_CHUNK``) as raw events and the next token.

    Read directly from the JSON: starknet-py's schema parses about 5,000 events a second, which
    would be the whole backfill's limit; this reads about ten times as many.
    """
    try:
        events = [
            RawEvent(
                block_number=int(e["block_number"]),
                transaction_index=int(e["transaction_index"]),
                event_index=int(e["event_index"]),
                block_hash=int(e["block_hash"], 16),
                transaction_hash=int(e["transaction_hash"], 16),
                from_address=int(e["from_address"], 16),
                keys=tuple(int(k, 16) for k in e["keys"]),
                data=tuple(int(d, 16) for d in e["data"]),
            )
            for e in result["events"]
        ]
    except KeyError as exc:
        # No block hash or number: a pre-confirmed event, past the head we asked up to.
        raise InconsistentAnswerError(
            f"an event of blocks {first}..{last} lacks {exc.args[0]}"
        ) from None
    except (TypeError, ValueError) as exc:
        raise SourceError(f"malformed getEvents answer for blocks {first}..{last}: {exc}") from exc
    token = result.get("continuation_token")
    return events, token if isinstance(token, str) and token else None
