"""Fuzzing the devnet through its real HTTP layer with requests drawn from the spec's own schemas.

Params are generated from each method's parameter schemas in the spec files (``$ref``s followed
with the spec reader's registry), seeded with values this devnet knows (its accounts, fee token,
class hashes) so that some requests reach deep into the chain; invalid requests replace, drop
or add params, or break the JSON-RPC envelope. Every answer must validate against the spec (the
method's result, one of its listed errors, or a JSON-RPC protocol error), never be ``-32603``,
and a refused write must leave nonces, balances and the block number as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from referencing._core import Resolver

from devnet.genesis import STRK_ADDRESS
from smainer.config import DevnetSettings
from tests.devnet.conftest import RunningServer, serve_real_devnet, start_in_thread
from tests.devnet.spec import PROTOCOL_ERRORS, Spec, SpecError, validate_error_object

HTTP_METHODS_FILES = {
    "starknet_api_openrpc.json",
    "starknet_write_api.json",
    "starknet_trace_api_openrpc.json",
    "starknet_executables.json",
}
"""Spec files whose methods are served over HTTP (the WebSocket API's are not)."""

WRITES = {
    "starknet_addInvokeTransaction",
    "starknet_addDeclareTransaction",
    "starknet_addDeployAccountTransaction",
}

MAX_DEPTH = 7
"""How deep generated values nest: deeper schema branches get their simplest member."""

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**300),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e300]),  # Python's json takes them
    st.text(max_size=20),
)
JUNK = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
"""Any JSON value: what a careless client puts where a param should be."""


@dataclass(frozen=True)
class Known:
    """Values of the running devnet that generated params draw from now and then."""

    felts: tuple[str, ...]
    account: str


class SchemaStrategies:
    """Hypothesis strategies for the spec's JSON schemas (the subset the spec uses)."""

    def __init__(self, spec: Spec, known: Known) -> None:
        self.spec = spec
        self.known = known

    def for_uri(self, uri: str) -> st.SearchStrategy[Any]:
        resolved = self.spec.registry.resolver().lookup(uri)
        return self._schema(resolved.contents, resolved.resolver, 0)

    def _schema(self, schema: Any, resolver: Resolver[Any], depth: int) -> st.SearchStrategy[Any]:
        if not isinstance(schema, dict):
            return st.none()
        if "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            return self._schema(resolved.contents, resolved.resolver, depth)
        if "schema" in schema and "type" not in schema:  # a content descriptor
            return self._schema(schema["schema"], resolver, depth)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                branches = schema[key] if depth < MAX_DEPTH else schema[key][:1]
                return st.one_of([self._schema(b, resolver, depth + 1) for b in branches])
        if "allOf" in schema:
            kept = [part for part in schema["allOf"] if "not" not in part]
            excluded = [v for part in schema["allOf"] for v in part.get("not", {}).get("enum", [])]
            parts = [self._schema(part, resolver, depth + 1) for part in kept]
            return st.tuples(*parts).map(_merge).filter(lambda value: value not in excluded)
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if "const" in schema:
            return st.just(schema["const"])
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self._object(schema, resolver, depth)
        if kind == "array":
            items = self._schema(schema.get("items", {}), resolver, depth + 1)
            low = schema.get("minItems", 0)
            return st.lists(items, min_size=low, max_size=max(low, 3 if depth < MAX_DEPTH else 0))
        if kind == "string":
            return self._string(schema)
        if kind == "integer":  # small ones often: block numbers and indexes that exist
            low = schema.get("minimum", 0)
            high = schema.get("maximum", low + 2**20)
            return st.one_of(
                st.integers(min_value=low, max_value=min(high, low + 4)),
                st.integers(min_value=low, max_value=high),
            )
        if kind == "boolean":
            return st.booleans()
        if kind == "number":
            return st.integers(min_value=0, max_value=2**20)
        return JUNK

    def _object(
        self, schema: dict[str, Any], resolver: Resolver[Any], depth: int
    ) -> st.SearchStrategy[Any]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = {
            name: self._schema(sub, resolver, depth + 1)
            for name, sub in properties.items()
            if name in required or depth < MAX_DEPTH
        }
        mandatory = {name: s for name, s in fields.items() if name in required}
        optional = {name: s for name, s in fields.items() if name not in required}
        return st.fixed_dictionaries(mandatory, optional=optional)

    def _string(self, schema: dict[str, Any]) -> st.SearchStrategy[str]:
        pattern = schema.get("pattern")
        if pattern is None:
            return st.text(max_size=12)
        generated = st.from_regex(pattern, fullmatch=True)
        if pattern.startswith("^0x(0|[a-fA-F1-9]{1}[a-fA-F0-9]{0,62})$") or "{0,62}" in pattern:
            return st.one_of(generated, st.sampled_from(self.known.felts))
        return generated


def _merge(parts: tuple[Any, ...]) -> Any:
    merged: dict[str, Any] = {}
    for part in parts:
        if not isinstance(part, dict):
            return part
        merged.update(part)
    return merged


@dataclass(frozen=True)
class Fuzzer:
    spec: Spec
    server: RunningServer
    http: httpx.Client
    strategies: SchemaStrategies
    methods: tuple[str, ...]

    def post(self, body: Any) -> Any:
        response = self.http.post(f"{self.server.url}/rpc", content=json.dumps(body))
        assert response.status_code in (200, 204, 413), response.status_code
        return response.json() if response.content else None

    def call(self, method: str, params: Any) -> Any:
        return self.post({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})

    def state(self) -> tuple[Any, ...]:
        """What a refused write must leave unchanged."""
        account = self.strategies.known.account
        return (
            self.call("starknet_blockNumber", [])["result"],
            self.call("starknet_getNonce", ["latest", account])["result"],
            self.call("starknet_getNonce", ["pre_confirmed", account])["result"],
            self.call("devnet_getAccountBalance", [account, "FRI", "pre_confirmed"])["result"],
        )


@pytest.fixture(scope="module")
def fuzzer(spec: Spec) -> Iterator[Fuzzer]:
    server = start_in_thread(serve_real_devnet(DevnetSettings(port=0, seed=9, accounts=1)))
    try:
        with httpx.Client(headers={"Content-Type": "application/json"}, timeout=120) as http:
            accounts = http.post(
                f"{server.url}/rpc",
                json={"jsonrpc": "2.0", "id": 1, "method": "devnet_getPredeployedAccounts"},
            ).json()["result"]
            config = http.post(
                f"{server.url}/rpc",
                json={"jsonrpc": "2.0", "id": 1, "method": "devnet_getConfig"},
            ).json()["result"]
            account = accounts[0]["address"]
            known = Known(
                felts=(
                    account,
                    hex(STRK_ADDRESS),
                    config["account_contract_class_hash"],
                    config["strk_erc20_class_hash"],
                    "0x0",
                    "0x1",
                ),
                account=account,
            )
            methods = tuple(
                sorted(
                    name
                    for name, method in spec.methods.items()
                    if method.file in HTTP_METHODS_FILES
                )
            )
            yield Fuzzer(spec, server, http, SchemaStrategies(spec, known), methods)
    finally:
        server.stop()


@st.composite
def valid_requests(draw: st.DrawFn, fuzzer: Fuzzer) -> tuple[str, Any]:
    """A method and params drawn from its schemas, by name or by position."""
    method = draw(st.sampled_from(fuzzer.methods))
    spec_method = fuzzer.spec.methods[method]
    named: dict[str, Any] = {}
    for position, param in enumerate(spec_method.params):
        if not param.get("required") and draw(st.booleans()):
            continue
        uri = f"{spec_method.uri}/params/{position}/schema"
        named[param["name"]] = draw(fuzzer.strategies.for_uri(uri))
    names = [p["name"] for p in spec_method.params]
    positional = all(name in named for name in names[: len(named)])
    if positional and draw(st.booleans()):
        return method, [named[name] for name in names[: len(named)]]
    return method, named


@st.composite
def broken_requests(draw: st.DrawFn, fuzzer: Fuzzer) -> tuple[str, Any]:
    """A drawn request with one param replaced by junk, dropped, or joined by a stranger."""
    method, params = draw(valid_requests(fuzzer))
    named = (
        params
        if isinstance(params, dict)
        else dict(
            zip([p["name"] for p in fuzzer.spec.methods[method].params], params, strict=False)
        )
    )
    how = draw(st.sampled_from(["replace", "drop", "add", "whole"]))
    if how == "replace" and named:
        named[draw(st.sampled_from(sorted(named)))] = draw(JUNK)
    elif how == "drop" and named:
        del named[draw(st.sampled_from(sorted(named)))]
    elif how == "add":
        named[draw(st.text(min_size=1, max_size=8))] = draw(JUNK)
    else:
        return method, draw(JUNK)
    return method, named


def check_answer(fuzzer: Fuzzer, method: str, answer: Any) -> None:
    assert isinstance(answer, dict), answer
    error = answer.get("error")
    if error is not None:
        validate_error_object(error)
        assert error["code"] != -32603, (method, error)
        if error["code"] in PROTOCOL_ERRORS:
            assert error["message"] == PROTOCOL_ERRORS[error["code"]]
            return
    try:
        fuzzer.spec.validate_response(method, answer, 7)
    except SpecError as exc:
        if method == "starknet_getCompiledCasm" and "result" in answer:
            return  # the spec's CASM schema cannot describe real CASM (test_methods says why)
        raise AssertionError(f"{method}: {exc}") from None


def exercise(fuzzer: Fuzzer, method: str, params: Any) -> None:
    before = fuzzer.state() if method in WRITES else None
    answer = fuzzer.call(method, params)
    event(f"{answer['error']['code'] if 'error' in answer else 'result'}")
    check_answer(fuzzer, method, answer)
    if before is not None:
        assert "error" in answer, f"a generated {method} was accepted: {answer}"
        assert fuzzer.state() == before, f"a refused {method} changed the chain"


FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@FUZZ
@given(data=st.data())
def test_requests_drawn_from_the_spec(fuzzer: Fuzzer, data: st.DataObject) -> None:
    method, params = data.draw(valid_requests(fuzzer), label="request")
    exercise(fuzzer, method, params)


@FUZZ
@given(data=st.data())
def test_broken_requests(fuzzer: Fuzzer, data: st.DataObject) -> None:
    method, params = data.draw(broken_requests(fuzzer), label="request")
    exercise(fuzzer, method, params)


@settings(FUZZ, max_examples=100)
@given(
    body=st.one_of(
        JUNK,
        st.lists(JUNK, max_size=4),
        st.dictionaries(
            st.sampled_from(["jsonrpc", "id", "method", "params", "x"]), JUNK, max_size=5
        ),
    )
)
def test_broken_envelopes(fuzzer: Fuzzer, body: Any) -> None:
    answer = fuzzer.post(body)
    for one in answer if isinstance(answer, list) else [answer] if answer is not None else []:
        assert set(one) == {"jsonrpc", "id", "error"} or "result" in one, one
        if "error" in one:
            validate_error_object(one["error"])
            assert one["error"]["code"] != -32603, one
    assert fuzzer.call("starknet_chainId", [])["result"].startswith("0x")  # still serving


def test_the_generator_draws_what_the_spec_accepts(fuzzer: Fuzzer) -> None:
    """The generator itself: its params pass the spec reader's own param validation."""

    @settings(max_examples=40, deadline=None, database=None)
    @given(data=st.data())
    def draw(data: st.DataObject) -> None:
        method, params = data.draw(valid_requests(fuzzer))
        if isinstance(params, list):
            names = [p["name"] for p in fuzzer.spec.methods[method].params]
            params = dict(zip(names, params, strict=False))
        fuzzer.spec.validate_params(method, params)

    draw()
    assert re.fullmatch(r"0x[0-9a-f]+", fuzzer.strategies.known.account)


CHEATS = {
    "devnet_mint": ("address", "amount", "unit"),
    "devnet_setTime": ("time", "generate_block"),
    "devnet_increaseTime": ("time",),
    "devnet_createBlock": (),
    "devnet_abortBlocks": ("starting_block_id",),
    "devnet_dump": ("path",),
    "devnet_load": ("path",),
}
"""starknet-devnet's methods that change the chain: not in the spec, fuzzed for the rules that
hold for every method (a JSON-RPC answer, never -32603, a refusal changes nothing)."""


@settings(FUZZ, max_examples=100)
@given(
    method=st.sampled_from(sorted(CHEATS)),
    values=st.lists(
        st.one_of(JUNK, st.sampled_from(["0x1", "FRI", "WEI", "latest", 5])), max_size=3
    ),
)
def test_devnet_cheats_with_bad_input(fuzzer: Fuzzer, method: str, values: list[Any]) -> None:
    before = fuzzer.state()
    answer = fuzzer.call(method, dict(zip(CHEATS[method], values, strict=False)))
    event(f"{answer['error']['code'] if 'error' in answer else 'result'}")
    if "error" in answer:
        validate_error_object(answer["error"])
        assert answer["error"]["code"] != -32603, answer
        assert fuzzer.state() == before, f"a refused {method} changed the chain"
    assert fuzzer.call("starknet_chainId", [])["result"].startswith("0x")
