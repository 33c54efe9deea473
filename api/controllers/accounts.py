"""``/accounts/{address}``: an address's tasks (created or served), earnings and escrow history."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from api import params, schemas
from api.controllers.tasks import task_page
from api.errors import PARAMETERS, error_responses
from api.queries import IndexReader
from api.state import ApiState


class AccountController(Controller):
    path = "/accounts/{address:str}"
    tags = ["accounts"]  # noqa: RUF012

    @get(
        "/tasks",
        summary="Tasks created by or assigned to the address",
        sync_to_thread=True,
        responses=error_responses(*PARAMETERS),
    )
    def tasks(
        self,
        reader: NamedDependency[IndexReader],
        api_state: NamedDependency[ApiState],
        address: FromPath[str],
        status: FromQuery[str | None] = None,
        limit: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> schemas.TaskPage:
        return task_page(
            reader,
            api_state,
            limit=limit,
            cursor=cursor,
            status=status,
            party=params.address(address),
        )

    @get(
        "/earnings",
        summary="Payouts received",
        sync_to_thread=True,
        responses=error_responses(*PARAMETERS),
    )
    def earnings(
        self, reader: NamedDependency[IndexReader], address: FromPath[str]
    ) -> schemas.Earnings:
        return reader.earnings(params.address(address))

    @get(
        "/history",
        summary="Token movements into and out of escrow",
        sync_to_thread=True,
        responses=error_responses(*PARAMETERS),
    )
    def history(
        self, reader: NamedDependency[IndexReader], address: FromPath[str]
    ) -> schemas.History:
        return reader.history(params.address(address))
