"""Test-only reader of the Starknet JSON-RPC spec v0.10.2: validates the devnet's answers.

The spec is never copied into the project: it is read from ``../shared/starknet-rpc-spec-v0.10.2``
beside the checkout, or from the folder named by ``SMAINER_RPC_SPEC_DIR``; tests that need it skip
with a clear message where neither exists (:func:`load_spec`).

The spec's files are OpenRPC documents whose schemas are JSON Schema with a few quirks, fixed on a
private copy as they are loaded (starknet-devnet's ``spec_reader`` applies the same kind of fixes):

* files other than the read API reference it as ``./api/starknet_api_openrpc.json#/...`` although
  all five files sit in one folder, so that document is registered under both addresses;
* some schemas are wrapped in an OpenRPC content descriptor (``{"name", "schema"}``:
  ``SUBSCRIPTION_ID``, ``SUBSCRIPTION_BLOCK_ID``, ``TXN_WITH_HASH``, the items of
  ``BLOCK_BODY_WITH_TXS.transactions``); left as is they would accept anything, so the inner
  schema is hoisted;
* two error ``data`` schemas write ``"required": "name"`` instead of a list, and four write
  ``"data": "string"`` for a string;
* CASM cell offsets (``CellRef.offset``, ``DoubleDeref``'s offset) are signed 16-bit numbers in
  every compiled class (``[fp - 3]``), but the spec gives them ``minimum: 0``.

Validation is stricter than plain JSON Schema, because the spec's objects are open (no
``additionalProperties: false``) and a misspelt or extra field would otherwise pass unnoticed:

* every object reached through ``properties``/``items`` (and the answer itself) is *closed*: keys
  that no part of its schema (through ``$ref``, ``allOf`` and the matching ``oneOf`` branch)
  declares are an error (2020-12 ``unevaluatedProperties: false`` around the subschema);
* ``oneOf`` branches are open (an ``allOf`` sibling may add fields, as in
  ``TXN_RECEIPT_WITH_BLOCK_INFO``), so when several branches match, the one matching *closed*
  wins; a confirmed block thus is a ``BLOCK_WITH_TX_HASHES``, never also a pre-confirmed one.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_VERSION = "0.10.2"
SPEC_DIR_ENV = "SMAINER_RPC_SPEC_DIR"
DEFAULT_SPEC_DIR = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "starknet-rpc-spec-v0.10.2"
)
SPEC_FILES = (
    "starknet_api_openrpc.json",
    "starknet_write_api.json",
    "starknet_trace_api_openrpc.json",
    "starknet_ws_api.json",
    "starknet_executables.json",
)
READ_API = "starknet_api_openrpc.json"
BASE_URI = "https://starknet-spec.invalid/v0.10.2/"
"""Where the files are registered; an http-like scheme so ``./api/...`` resolves relatively."""

PROTOCOL_ERRORS = {
    -32700: "Parse error",
    -32600: "Invalid Request",
    -32601: "Method not found",
    -32602: "Invalid params",
    -32603: "Internal error",
}
"""JSON-RPC 2.0's own errors, which any method may answer (a bad request, a bad param)."""


class SpecError(AssertionError):
    """An answer that the spec does not allow; the message says where and why."""


def spec_dir() -> Path | None:
    """The spec folder: ``$SMAINER_RPC_SPEC_DIR`` or ``../shared/...``; ``None`` where absent."""
    configured = os.environ.get(SPEC_DIR_ENV)
    candidate = Path(configured).expanduser() if configured else DEFAULT_SPEC_DIR
    return candidate.resolve() if (candidate / READ_API).is_file() else None


def load_spec() -> Spec:
    """The parsed spec, or skip the calling test: the spec lives outside the project."""
    folder = spec_dir()
    if folder is None:
        pytest.skip(
            f"Starknet RPC spec v{SPEC_VERSION} not found: put it at {DEFAULT_SPEC_DIR.resolve()} "
            f"or point {SPEC_DIR_ENV} at a folder holding {READ_API}"
        )
    return _load(folder)


@cache
def _load(folder: Path) -> Spec:
    return Spec(folder)


@dataclass(frozen=True)
class SpecMethod:
    """One method of the spec, with where its schemas live for ``$ref`` resolution."""

    name: str
    file: str
    index: int
    document: dict[str, Any]

    @property
    def uri(self) -> str:
        return f"{BASE_URI}{self.file}#/methods/{self.index}"

    @property
    def params(self) -> list[dict[str, Any]]:
        params: list[dict[str, Any]] = self.document["methods"][self.index]["params"]
        return params

    @property
    def has_result(self) -> bool:
        return "result" in self.document["methods"][self.index]


@dataclass(frozen=True)
class SpecErrorEntry:
    """An error a method may answer: the spec's name, code, message and ``data`` schema URI."""

    name: str
    code: int
    message: str
    data_uri: str | None


class Spec:
    """The five spec documents as one ``$ref``-resolving registry, and validators over them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.documents: dict[str, dict[str, Any]] = {}
        for name in SPEC_FILES:
            path = folder / name
            if path.is_file():
                self.documents[name] = _fix_quirks(json.loads(path.read_text()))
        resources = []
        for name, document in self.documents.items():
            resource = DRAFT202012.create_resource(document)
            resources.append((f"{BASE_URI}{name}", resource))
            if name == READ_API:
                resources.append((f"{BASE_URI}api/{name}", resource))
        self.registry: Registry[Any] = Registry().with_resources(resources)
        self.methods: dict[str, SpecMethod] = {}
        for name, document in self.documents.items():
            for index, method in enumerate(document.get("methods", [])):
                self.methods[method["name"]] = SpecMethod(method["name"], name, index, document)

    # Catalogues.

    def error_catalog(self) -> dict[str, tuple[int, str]]:
        """Every error the spec defines, by name: ``(code, message)``."""
        catalog: dict[str, tuple[int, str]] = {}
        for document in self.documents.values():
            for name, entry in document.get("components", {}).get("errors", {}).items():
                catalog[name] = (entry["code"], entry["message"])
        return catalog

    def method_errors(self, method: str) -> list[SpecErrorEntry]:
        """The errors ``method`` declares, each ``$ref`` followed to its definition."""
        spec_method = self._method(method)
        declared = spec_method.document["methods"][spec_method.index].get("errors", [])
        entries = []
        for position, ref in enumerate(declared):
            if "$ref" not in ref:  # an inline error definition
                uri = f"{spec_method.uri}/errors/{position}"
                entries.append(_error_entry(ref.get("name", "?"), ref, uri))
                continue
            uri = _absolute(spec_method.file, ref["$ref"])
            entry = self.registry.resolver().lookup(uri).contents
            entries.append(_error_entry(uri.rsplit("/", 1)[-1], entry, uri))
        return entries

    # Validation.

    def validate_result(self, method: str, result: Any) -> None:
        """Raise :class:`SpecError` unless ``result`` is what the spec says ``method`` returns."""
        spec_method = self._method(method)
        if not spec_method.has_result:
            raise SpecError(f"{method} is a notification in the spec: it has no result")
        self._check(f"{spec_method.uri}/result/schema", result, f"{method} result")

    def validate_params(self, method: str, params: dict[str, Any]) -> None:
        """Check named ``params`` (a request's, or a notification's) against the spec."""
        spec_method = self._method(method)
        declared = {p["name"]: position for position, p in enumerate(spec_method.params)}
        unknown = sorted(set(params) - set(declared))
        if unknown:
            raise SpecError(f"{method}: params {unknown} are not in the spec")
        for param in spec_method.params:
            if param.get("required") and param["name"] not in params:
                raise SpecError(f"{method}: required param {param['name']!r} missing")
        for name, value in params.items():
            uri = f"{spec_method.uri}/params/{declared[name]}/schema"
            self._check(uri, value, f"{method} param {name!r}")

    def validate_notification(self, message: dict[str, Any]) -> None:
        """A WebSocket notification: a JSON-RPC request without ``id`` whose params fit."""
        _check_keys(message, {"jsonrpc", "method", "params"}, set(), "notification")
        if message["jsonrpc"] != "2.0":
            raise SpecError(f"notification jsonrpc is {message['jsonrpc']!r}")
        self.validate_params(message["method"], message["params"])

    def validate_error(self, method: str, error: Any) -> SpecErrorEntry | None:
        """Check a JSON-RPC error object: a protocol error or one ``method`` declares.

        Returns the spec entry that matched (``None`` for a protocol error) so a test can also
        assert *which* error it got.
        """
        validate_error_object(error)
        code, message = error["code"], error["message"]
        if code in PROTOCOL_ERRORS:
            if message != PROTOCOL_ERRORS[code]:
                raise SpecError(f"{method}: code {code} with message {message!r}")
            return None
        for entry in self.method_errors(method):
            if entry.code != code:
                continue
            if entry.message != message:
                raise SpecError(f"{method}: error {code} message {message!r} != {entry.message!r}")
            if entry.data_uri is None:
                if "data" in error:
                    raise SpecError(f"{method}: error {entry.name} carries data the spec lacks")
            elif "data" not in error:
                raise SpecError(f"{method}: error {entry.name} lacks its data")
            else:
                self._check(entry.data_uri, error["data"], f"{method} error {entry.name} data")
            return entry
        allowed = sorted((e.code, e.name) for e in self.method_errors(method))
        raise SpecError(f"{method}: error {error} is not declared (allowed: {allowed})")

    def validate_response(
        self, method: str, response: Any, request_id: Any = None
    ) -> SpecErrorEntry | None:
        """A whole JSON-RPC response: envelope, then result or error as above."""
        if not isinstance(response, dict):
            raise SpecError(f"{method}: response is not an object: {response!r}")
        _check_keys(response, {"jsonrpc", "id"}, {"result", "error"}, f"{method} response")
        if response["jsonrpc"] != "2.0" or ("result" in response) == ("error" in response):
            raise SpecError(f"{method}: malformed response {response!r}")
        if request_id is not None and response["id"] != request_id:
            raise SpecError(f"{method}: response id {response['id']!r} != {request_id!r}")
        if "error" in response:
            return self.validate_error(method, response["error"])
        self.validate_result(method, response["result"])
        return None

    def validate_component(self, name: str, value: Any, file: str = READ_API) -> None:
        """Check a value against ``#/components/schemas/<name>`` (a block header, a receipt)."""
        self._check(f"{BASE_URI}{file}#/components/schemas/{name}", value, name)

    def _method(self, method: str) -> SpecMethod:
        try:
            return self.methods[method]
        except KeyError:
            raise SpecError(f"{method} is not a method of the spec") from None

    def _check(self, uri: str, value: Any, what: str) -> None:
        validator = StrictValidator(_closed({"$ref": uri}), registry=self.registry)
        _MATCHES.clear()
        try:
            error = _best(validator.iter_errors(value))
        finally:
            _MATCHES.clear()
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise SpecError(f"{what} at {where}: {error.message[:600]}")


def validate_error_object(error: Any) -> None:
    """The JSON-RPC 2.0 error object: ``code`` (int), ``message`` (str), optional ``data``."""
    if not isinstance(error, dict):
        raise SpecError(f"error is not an object: {error!r}")
    _check_keys(error, {"code", "message"}, {"data"}, "error")
    if not isinstance(error["code"], int) or isinstance(error["code"], bool):
        raise SpecError(f"error code {error['code']!r} is not an integer")
    if not isinstance(error["message"], str):
        raise SpecError(f"error message {error['message']!r} is not a string")


def _check_keys(value: dict[str, Any], required: set[str], optional: set[str], what: str) -> None:
    missing = required - set(value)
    extra = set(value) - required - optional
    if missing or extra:
        raise SpecError(f"{what}: missing {sorted(missing)}, unexpected {sorted(extra)}: {value}")


def _error_entry(name: str, entry: dict[str, Any], uri: str) -> SpecErrorEntry:
    data_uri = f"{uri}/data" if "data" in entry else None
    return SpecErrorEntry(name, entry["code"], entry["message"], data_uri)


def _absolute(file: str, ref: str) -> str:
    target, _, pointer = ref.partition("#")
    target = target.removeprefix("./")
    return f"{BASE_URI}{target or file}#{pointer}"


def _best(errors: Iterator[ValidationError]) -> ValidationError | None:
    """The error that explains a failure best: a real one, and the deepest leaf of a ``oneOf``.

    A failed ``oneOf`` also leaves its keys unevaluated, so "unevaluated properties" at the same
    object is a symptom; it is reported only when nothing else is wrong.
    """
    found = list(errors)
    if not found:
        return None
    real = [e for e in found if e.validator != "unevaluatedProperties"] or found
    leaf = real[0]
    while leaf.context:
        leaf = max(leaf.context, key=lambda e: (len(e.absolute_path), e.validator != "oneOf"))
    return leaf


# The quirks, fixed on a private copy.

_DESCRIPTOR_KEYS = {"name", "summary", "description", "title", "schema"}
_I16 = {"type": "integer", "minimum": -(2**15), "maximum": 2**15 - 1}


def _fix_quirks(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    components = document.get("components", {})
    components["schemas"] = _hoist_descriptors(components.get("schemas", {}))
    schemas = components["schemas"]
    if "CellRef" in schemas:  # CASM offsets are i16 (``[fp - 3]``); the spec says minimum 0
        schemas["CellRef"]["properties"]["offset"] = _I16
        schemas["DoubleDeref"]["properties"]["DoubleDeref"]["items"]["oneOf"][1] = _I16
    for error in components.get("errors", {}).values():
        if isinstance(error.get("data"), str):  # "data": "string" means a string
            error["data"] = {"type": error["data"]}
    _fix_required(document)
    return document


def _hoist_descriptors(node: Any) -> Any:
    """Replace ``{"name"?, "description"?, "schema": S}`` inside components by ``S``."""
    if isinstance(node, list):
        return [_hoist_descriptors(value) for value in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("schema"), dict) and set(node) <= _DESCRIPTOR_KEYS:
        hoisted = dict(node["schema"])
        for key in ("title", "description"):
            if key in node and key not in hoisted:
                hoisted[key] = node[key]
        return _hoist_descriptors(hoisted)
    return {key: _hoist_descriptors(value) for key, value in node.items()}


def _fix_required(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("required"), str) and node.get("type") == "object":
            node["required"] = [node["required"]]
        for value in node.values():
            _fix_required(value)
    elif isinstance(node, list):
        for value in node:
            _fix_required(value)


# The strict validator.

_BASE_KEYWORDS = Draft202012Validator.VALIDATORS


def _closed(schema: Any) -> dict[str, Any]:
    """``schema`` that also rejects object keys it does not itself declare."""
    return {"allOf": [schema], "unevaluatedProperties": False}


def _properties(
    validator: Any, properties: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    closed = {name: _closed(sub) for name, sub in properties.items()}
    yield from _BASE_KEYWORDS["properties"](validator, closed, instance, schema)


def _items(
    validator: Any, items: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    yield from _BASE_KEYWORDS["items"](validator, _closed(items), instance, schema)


_MATCHES: dict[tuple[int, int, bool], list[ValidationError]] = {}
"""Errors of (branch, instance, closed) during one check: the ``unevaluatedProperties`` of each
closed level re-validates ``oneOf`` branches below it, which is exponential in the nesting depth
(CASM hints, receipts) without this. Keys are ids of objects alive during the check."""


def _branch_errors(
    validator: Any, branch: Any, instance: Any, index: int, closed: bool
) -> list[ValidationError]:
    key = (id(branch), id(instance), closed)
    if key not in _MATCHES:
        schema = _closed(branch) if closed else branch
        _MATCHES[key] = list(validator.descend(instance, schema, schema_path=index))
    return _MATCHES[key]


def _one_of(
    validator: Any, one_of: list[Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    errors = [_branch_errors(validator, s, instance, i, False) for i, s in enumerate(one_of)]
    matching = [i for i, found in enumerate(errors) if not found]
    if not matching:
        context = [error for found in errors for error in found]
        yield ValidationError(
            f"{instance!r:.200} is not valid under any of the given schemas", context=context
        )
        return
    if len(matching) == 1:
        return
    closed = [i for i in matching if not _branch_errors(validator, one_of[i], instance, i, True)]
    if len(closed) != 1:
        titles = [_title(one_of[i]) for i in matching]
        how = "several" if closed else "none"
        yield ValidationError(
            f"oneOf branches {titles} all match with extra keys allowed, {how} without: "
            f"{instance!r:.200}"
        )


def _title(schema: Any) -> str:
    return str(schema.get("title", schema.get("$ref", "?"))) if isinstance(schema, dict) else "?"


StrictValidator = validators.extend(
    Draft202012Validator, {"properties": _properties, "items": _items, "oneOf": _one_of}
)
