"""``/health``: 503 with the same body until the index is usable (a load balancer waits on it)."""

from __future__ import annotations

import asyncio
import time

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from starknet_py.net.full_node_client import FullNodeClient

from api import schemas
from api.queries import IndexReader
from api.state import ApiState


async def _chain(api_state: ApiState) -> schemas.ChainInfo:
    client: FullNodeClient | None = api_state.client
    if client is None:
        return schemas.ChainInfo(reachable=None, chain_id=None, head=None)
    timeout = api_state.settings.chain_timeout
    try:
        head = await asyncio.wait_for(client.get_block_number(), timeout)
        if api_state.chain_id is None:
            api_state.chain_id = str(await asyncio.wait_for(client.get_chain_id(), timeout))
    except Exception:  # any failure of the node is "unreachable", never a 500
        return schemas.ChainInfo(reachable=False, chain_id=api_state.chain_id, head=None)
    return schemas.ChainInfo(reachable=True, chain_id=api_state.chain_id, head=int(head))


def _indexed_block(api_state: ApiState) -> int | None:
    if api_state.indexer is not None:
        cursor = api_state.indexer.status().cursor
        return None if cursor is None else cursor.block_number
    if api_state.connection is None:
        return None
    reader = api_state.cursor()
    try:
        return IndexReader(reader).indexed_block()
    finally:
        reader.close()


class HealthController(Controller):
    path = "/health"
    tags = ["health"]  # noqa: RUF012

    @get(
        "/",
        summary="Readiness and lag",
        responses={
            503: ResponseSpec(
                data_container=schemas.Health,
                description="The index is not usable yet (same body)",
                generate_examples=False,
            )
        },
    )
    async def health(self, api_state: NamedDependency[ApiState]) -> Response[schemas.Health]:
        ready = api_state.ready
        chain = await _chain(api_state)
        indexed = _indexed_block(api_state)
        head = chain.head
        if head is None and api_state.indexer is not None:
            head = api_state.indexer.status().head
        body = schemas.Health(
            status="ok" if ready else ("failed" if api_state.failure else "starting"),
            synced=ready,
            read_only=api_state.settings.read_only,
            uptime_seconds=round(time.monotonic() - api_state.started, 3),
            indexed_block=indexed,
            lag_blocks=None if head is None or indexed is None else max(head - indexed, 0),
            chain=chain,
        )
        return Response(body, status_code=200 if ready else 503)
