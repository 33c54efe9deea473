"""JSON-RPC 2.0 dispatch: method name -> handler, with framing, batches and error mapping.

Transport-free on purpose: the HTTP server, the WebSocket endpoint and the tests all hand it
raw bytes (or a parsed request) and get bytes back, so the protocol rules live in one place.
Handlers take the spec's parameter names as keyword arguments (by-name or by-position calls
both map onto them) and raise :class:`~devnet.errors.RpcError` subclasses; anything else is a
bug, logged here with its traceback and answered as a bare internal error, never a trace.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from devnet.errors import (
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    MethodNotFoundError,
    ParseError,
    RpcError,
)

log = logging.getLogger("devnet.rpc")

Handler = Callable[..., Any] | Callable[..., Awaitable[Any]]
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Method:
    """A registered method and the names of its parameters, in the spec's order."""

    name: str
    handler: Handler
    params: tuple[str, ...]
    required: frozenset[str]

    def bind(self, params: Any) -> dict[str, Any]:
        """Map JSON-RPC ``params`` (list, object or absent) onto the handler's keywords."""
        if params is None:
            named: dict[str, Any] = {}
        elif isinstance(params, list):
            if len(params) > len(self.params):
                raise InvalidParamsError(f"{self.name} takes at most {len(self.params)} params")
            named = dict(zip(self.params, params, strict=False))
        elif isinstance(params, dict):
            unknown = sorted(set(params) - set(self.params))
            if unknown:
                raise InvalidParamsError(f"unexpected params {unknown} for {self.name}")
            named = dict(params)
        else:
            raise InvalidRequestError("params must be an array or an object")
        missing = sorted(self.required - set(named))
        if missing:
            raise InvalidParamsError(f"missing params {missing} for {self.name}")
        return named


class Dispatcher:
    """The method table of one server."""

    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}

    def method(self, name: str) -> Callable[[Handler], Handler]:
        """Register the decorated function as ``name``; its keyword names are the params."""

        def register(handler: Handler) -> Handler:
            self.add(name, handler)
            return handler

        return register

    def add(self, name: str, handler: Handler) -> None:
        if name in self._methods:
            raise ValueError(f"{name} registered twice")
        signature = inspect.signature(handler)
        params = tuple(signature.parameters)
        required = frozenset(
            p.name for p in signature.parameters.values() if p.default is inspect.Parameter.empty
        )
        self._methods[name] = Method(name, handler, params, required)

    @property
    def names(self) -> list[str]:
        return sorted(self._methods)

    async def call(self, name: str, params: Any = None) -> Any:
        """Run one method; raises :class:`RpcError` for every failure a client may see."""
        method = self._methods.get(name)
        if method is None:
            raise MethodNotFoundError()
        result = method.handler(**method.bind(params))
        if inspect.isawaitable(result):
            result = await result
        return result

    async def handle_request(self, request: Any) -> JsonObject | None:
        """Answer one parsed request object; ``None`` for a notification (no ``id``)."""
        if not isinstance(request, dict):
            return _error(None, InvalidRequestError("a request must be an object"))
        request_id = request.get("id")
        is_notification = "id" not in request
        if (
            request.get("jsonrpc") != "2.0"
            or not isinstance(request.get("method"), str)
            or not isinstance(request_id, str | int | None)
            or isinstance(request_id, bool)
        ):
            return _error(request_id if _valid_id(request_id) else None, InvalidRequestError())
        try:
            result = await self.call(request["method"], request.get("params"))
        except RpcError as exc:
            return None if is_notification else _error(request_id, exc)
        except Exception:
            log.exception("%s failed", request["method"])
            return None if is_notification else _error(request_id, InternalError())
        return None if is_notification else {"jsonrpc": "2.0", "id": request_id, "result": result}

    async def handle(self, payload: bytes | str) -> bytes | None:
        """Answer a raw HTTP body: one request or a batch. ``None`` when nothing is owed."""
        try:
            parsed = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            return _dump(_error(None, ParseError()))
        if isinstance(parsed, list):
            if not parsed:
                return _dump(_error(None, InvalidRequestError("empty batch")))
            answers = [a for a in [await self.handle_request(r) for r in parsed] if a is not None]
            return _dump(answers) if answers else None
        answer = await self.handle_request(parsed)
        return None if answer is None else _dump(answer)


def _valid_id(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _error(request_id: Any, error: RpcError) -> JsonObject:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def _dump(answer: Any) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode()
