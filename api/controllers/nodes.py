"""``/nodes``: registered nodes by reputation, and one node's miner stats."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from api import params, schemas
from api.errors import LOOKUP, PARAMETERS, error_responses
from api.queries import IndexReader


class NodeController(Controller):
    path = "/nodes"
    tags = ["nodes"]  # noqa: RUF012

    @get(
        "/",
        summary="Nodes, best reputation first",
        sync_to_thread=True,
        responses=error_responses(*PARAMETERS),
    )
    def list_nodes(
        self,
        reader: NamedDependency[IndexReader],
        status: FromQuery[str | None] = None,
        min_tier: FromQuery[str | None] = None,
        gpu: FromQuery[str | None] = None,
        online: FromQuery[str | None] = None,
    ) -> schemas.NodePage:
        """Filters: ``status`` (active, inactive, suspended), ``min_tier`` (0..5), ``gpu``,
        ``online`` (a heartbeat or task event within the online window)."""
        return schemas.NodePage(
            items=reader.nodes(
                status=params.choice(status, "status", params.NODE_STATUSES),
                min_tier=params.integer(min_tier, "min_tier", high=255),
                gpu=params.boolean(gpu, "gpu"),
                online=params.boolean(online, "online"),
            )
        )

    @get(
        "/{address:str}",
        summary="One node with its stats",
        sync_to_thread=True,
        responses=error_responses(*LOOKUP),
    )
    def get_node(
        self, reader: NamedDependency[IndexReader], address: FromPath[str]
    ) -> schemas.NodeDetail:
        return reader.node(params.address(address))
