"""``/tasks``: filtered pages, one task in full, and the quote (``POST /tasks`` answers the
same: this network takes tasks on chain, so the API only prepares the calls)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api import params, schemas
from api.errors import LOOKUP, PARAMETERS, error_responses
from api.queries import IndexReader
from api.quote import quote
from api.state import ApiState


def task_page(
    reader: NamedDependency[IndexReader],
    api_state: NamedDependency[ApiState],
    *,
    limit: str | None,
    cursor: str | None,
    status: str | None = None,
    creator: str | None = None,
    provider: str | None = None,
    party: str | None = None,
    kind: str | None = None,
    created_after: str | None = None,
    created_before: str | None = None,
) -> schemas.TaskPage:
    settings = api_state.settings
    return reader.tasks(
        limit=params.limit(limit, settings.default_limit, settings.max_limit),
        before_id=params.decode_cursor(cursor),
        status=params.choice(status, "status", params.TASK_STATUSES),
        creator=params.optional_address(creator, "creator"),
        provider=params.optional_address(provider, "provider"),
        party=party,
        kind=params.kind(kind),
        created_after=params.integer(created_after, "created_after"),
        created_before=params.integer(created_before, "created_before"),
    )


class TaskController(Controller):
    path = "/tasks"
    tags = ["tasks"]  # noqa: RUF012

    @get(
        "/",
        summary="Tasks, newest first",
        sync_to_thread=True,
        responses=error_responses(*PARAMETERS),
    )
    def list_tasks(
        self,
        reader: NamedDependency[IndexReader],
        api_state: NamedDependency[ApiState],
        status: FromQuery[str | None] = None,
        creator: FromQuery[str | None] = None,
        provider: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        created_after: FromQuery[str | None] = None,
        created_before: FromQuery[str | None] = None,
        limit: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> schemas.TaskPage:
        """Filters: ``status`` (open, assigned, completed, cancelled, expired), ``creator``,
        ``provider`` (the assigned node), ``kind`` (short string or hex), ``created_after`` /
        ``created_before`` (chain timestamps). Pass ``next_cursor`` back as ``cursor``."""
        return task_page(
            reader,
            api_state,
            limit=limit,
            cursor=cursor,
            status=status,
            creator=creator,
            provider=provider,
            kind=kind,
            created_after=created_after,
            created_before=created_before,
        )

    @get(
        "/{task_id:str}",
        summary="One task with its timeline",
        sync_to_thread=True,
        responses=error_responses(*LOOKUP),
    )
    def get_task(
        self,
        reader: NamedDependency[IndexReader],
        api_state: NamedDependency[ApiState],
        task_id: FromPath[str],
    ) -> schemas.TaskDetail:
        """A finished task's page is served from memory after its first read, until the
        indexer rolls back (``FinishedTasks``)."""
        number = params.integer(task_id, "task_id", low=1)
        assert number is not None
        generation = api_state.generation()
        page = api_state.finished_tasks.get(number, generation)
        if page is None:
            page = reader.task(number)
            api_state.finished_tasks.put(page, generation)
        return page

    @post(
        "/quote",
        summary="Prepare a task: eligible nodes, payload, fees, calls",
        status_code=200,
        sync_to_thread=True,
        responses=error_responses(*PARAMETERS),
    )
    def quote(
        self, reader: NamedDependency[IndexReader], data: JSONBody[schemas.QuoteRequest]
    ) -> schemas.Quote:
        """Changes nothing: returns the unsigned ``approve`` and ``create_task`` calls."""
        return quote(reader, data)

    @post(
        "/",
        summary="Same as /tasks/quote (tasks are created on chain)",
        status_code=200,
        sync_to_thread=True,
        responses=error_responses(*PARAMETERS),
    )
    def create(
        self, reader: NamedDependency[IndexReader], data: JSONBody[schemas.QuoteRequest]
    ) -> schemas.Quote:
        return quote(reader, data)
