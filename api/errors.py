"""The API's errors: one base with its HTTP status, and the one function that turns any
exception into a JSON answer. No input may produce a 500 (issue 15), so driver errors of the
index become 503 (the index is busy or gone: retry) rather than leak as server errors.
"""

from __future__ import annotations

import logging

import duckdb
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from api.schemas import ErrorBody

log = logging.getLogger("api")


class ApiError(Exception):
    """Base of every answer that is not a 2xx; ``status_code`` is the HTTP status."""

    status_code = 500

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter


class BadParameterError(ApiError):
    """A query, path or body parameter that is malformed or out of range: 400, named."""

    status_code = 400


class NotFoundError(ApiError):
    """An unknown task id or address: 404."""

    status_code = 404


class UnavailableError(ApiError):
    """The index cannot answer now (not opened yet, or a driver error): 503, retry later."""

    status_code = 503


ERROR_DESCRIPTIONS = {
    400: "A malformed or out-of-range parameter, named in ``parameter``",
    404: "No such task or node in the index",
    429: "Past the rate limit; ``Retry-After`` says when to retry",
    503: "The index cannot answer now; retry",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """The OpenAPI documentation of the error answers a handler can give (the same body for
    each), replacing Litestar's default 400 shape, which this API does not use."""
    return {
        code: ResponseSpec(
            data_container=ErrorBody, description=ERROR_DESCRIPTIONS[code], generate_examples=False
        )
        for code in codes
    }


LIMITED = (429, 503)
"""What any rate-limited read of the index may answer."""
PARAMETERS = (400, *LIMITED)
"""... and a handler that takes parameters."""
LOOKUP = (400, 404, *LIMITED)
"""... and one that looks up a task or node."""


def _body(message: str, status: int, parameter: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"error": message, "status_code": status}
    if parameter is not None:
        body["parameter"] = parameter
    return body


def error_response(request: Request, exc: Exception) -> Response[dict[str, object]]:
    """Every exception to ``{"error", "status_code", "parameter"?}`` with its status."""
    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        status, message, parameter = exc.status_code, exc.message, exc.parameter
    elif isinstance(exc, ValidationException):
        status, message, parameter = 400, str(exc.detail), _parameter_of(exc)
    elif isinstance(exc, HTTPException):
        status, message, parameter = exc.status_code, str(exc.detail), None
        headers = dict(exc.headers or {})
    elif isinstance(exc, duckdb.Error):
        log.warning("index error on %s: %s", request.url.path, exc)
        status, message, parameter = 503, "the index cannot answer now; retry", None
    else:
        log.exception("unexpected error on %s", request.url.path)
        status, message, parameter = 500, "internal error", None
    return Response(
        _body(message, status, parameter),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _parameter_of(exc: ValidationException) -> str | None:
    """Litestar lists the failing parameter in ``extra``: ``[{"key": name, ...}]``."""
    extra = exc.extra
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict) and item.get("key"):
                return str(item["key"])
    return None
