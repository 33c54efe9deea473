"""Schemathesis against the app's own OpenAPI schema, in-process over ASGI, over a real index
(the devnet history of ``conftest.py``, indexed by the indexer and served read-only): for every
operation, generated inputs, valid and not, must give no 500 and only answers the schema
documents (status, content type, body).

The event stream is left out: it never ends by itself (``test_api.py`` covers it with
``limit``). Examples per operation are capped so the run stays well under a minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from litestar import Litestar
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import ApiSettings
from tests.indexer.conftest import index
from tests.indexer.market import Market

MAX_EXAMPLES = 30
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(market: Market, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Litestar]:
    db = tmp_path_factory.mktemp("schema") / "finished.duckdb"
    asyncio.run(index(market, db))
    yield create_app(ApiSettings(db=db, read_only=True, rate_limit=0))
    # Schemathesis keeps the app's lifespan running for the process; end it with the module.
    from schemathesis.python import asgi

    asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def api_schema(app: Litestar) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app).exclude(
        path="/api/v1/events/stream"
    )


def run_operation(operation: schemathesis.APIOperation, mode: schemathesis.GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

    check()


def test_the_api_keeps_its_schema_and_never_fails(api_schema: schemathesis.BaseSchema) -> None:
    """Every operation, with inputs valid by the schema and not; all failures reported at once.
    (Driven by Hypothesis directly: schemathesis' pytest fixture loader fails on pytest 9.)"""
    failures: dict[str, str] = {}
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an invalid operation: {result}"
        operations.append(result.ok())
    assert len(operations) >= 11
    for operation in operations:
        for mode in schemathesis.GenerationMode:
            try:
                run_operation(operation, mode)
            except Unsatisfiable:
                # No input of this mode exists (a free-text path parameter cannot be negated).
                continue
            except Exception as exc:
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
