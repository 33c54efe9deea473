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
import re
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
class Limits:
    """What one request may ask of the devnet: all work runs on one thread, so a single
    oversized request would stall every client. ``devnet_getConfig`` reports these."""

    max_body_bytes: int = 16 * 1024 * 1024
    """Largest HTTP body or WebSocket frame: a declare carries a whole Sierra class (Escrow's is
    ~0.8 MB of JSON as starknet-py writes it); bigger bodies are answered HTTP 413."""

    max_batch: int = 100
    """Requests in one JSON-RPC batch; a longer batch is one ``-32600`` answer."""

    max_depth: int = 64
    """Nesting of arrays and objects in a body; the spec's deepest shapes need about 8."""

    max_transactions: int = 32
    """Transactions in one ``starknet_estimateFee`` or ``starknet_simulateTransactions``."""

    max_error_text: int = 2048
    """Characters of any string in an error's ``data``: a bad input is never echoed in full."""


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
    """The method table of one server, and the :class:`Limits` its requests are held to."""

    def __init__(self, limits: Limits | None = None) -> None:
        self._methods: dict[str, Method] = {}
        self.limits = limits or Limits()

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
            return None if is_notification else self._error(request_id, exc)
        except Exception:
            log.exception("%s failed", request["method"])
            return None if is_notification else _error(request_id, InternalError())
        return None if is_notification else {"jsonrpc": "2.0", "id": request_id, "result": result}

    async def handle(self, payload: bytes | str) -> bytes | None:
        """Answer a raw HTTP body: one request or a batch. ``None`` when nothing is owed."""
        try:
            parsed = json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _dump(_error(None, ParseError()))
        if _deeper_than(parsed, self.limits.max_depth):
            error = InvalidRequestError(f"JSON nested deeper than {self.limits.max_depth} levels")
            return _dump(_error(None, error))
        if isinstance(parsed, list):
            if not parsed:
                return _dump(_error(None, InvalidRequestError("empty batch")))
            if len(parsed) > self.limits.max_batch:
                error = InvalidRequestError(
                    f"a batch of {len(parsed)} requests exceeds {self.limits.max_batch}"
                )
                return _dump(_error(None, error))
            answers = [a for a in [await self.handle_request(r) for r in parsed] if a is not None]
            return _dump(answers) if answers else None
        answer = await self.handle_request(parsed)
        return None if answer is None else _dump(answer)

    def _error(self, request_id: Any, error: RpcError) -> JsonObject:
        """The error object, its ``data`` cut to :attr:`Limits.max_error_text` per string."""
        body = error.to_json()
        if "data" in body:
            body["data"] = clean_error_data(body["data"], self.limits.max_error_text)
        return {"jsonrpc": "2.0", "id": request_id, "error": body}


def clean_error_data(data: Any, max_text: int) -> Any:
    """``data`` fit to answer: strings without a Rust backtrace (the Sierra compiler appends
    one to its panics) and at most ``max_text`` characters, so a 16 MiB bad input is never
    echoed back; arrays cut to 64 items."""
    if isinstance(data, str):
        cut = _BACKTRACE.search(data)
        if cut is not None:
            data = data[: cut.start()].rstrip()
        if len(data) > max_text:
            data = f"{data[:max_text]}... ({len(data) - max_text} more characters)"
        return data
    if isinstance(data, list):
        return [clean_error_data(item, max_text) for item in data[:64]]
    if isinstance(data, dict):
        return {key: clean_error_data(value, max_text) for key, value in data.items()}
    return data


_BACKTRACE = re.compile(r"(stack backtrace:|note: run with `RUST_BACKTRACE)", re.IGNORECASE)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays/objects nest more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, list | dict) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, list | dict))
    return False


def _valid_id(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _error(request_id: Any, error: RpcError) -> JsonObject:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def _dump(answer: Any) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode()
