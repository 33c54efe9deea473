"""Providers injected into handlers: the app's state and a per-request index reader.

The reader is a yield dependency: its DuckDB cursor is closed when the request is done, even
when the handler raised (Litestar docs, "dependency_yield_simple")."""

from __future__ import annotations

from collections.abc import Generator

from litestar.datastructures import State
from litestar.di import NamedDependency

from api.queries import IndexReader
from api.state import ApiState


def provide_api_state(state: State) -> ApiState:
    api_state: ApiState = state.api
    return api_state


def provide_reader(api_state: NamedDependency[ApiState]) -> Generator[IndexReader, None, None]:
    cursor = api_state.cursor()
    try:
        yield IndexReader(cursor, api_state.settings.online_window)
    finally:
        cursor.close()
