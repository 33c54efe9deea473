"""Shared helpers of the contract unit tests (test_token, test_account, test_escrow).

Events are checked as raw felts (``keys``/``data``) against the layout docs/protocol.md gives,
so the tests do not depend on an ABI decoder agreeing with the contract.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.serialization.factory import serializer_for_payload

from smainer.engine import CallResult, Chain, DeployResult, Event, ExecutionRevertedError
from smainer.engine.contract import DeployedContract
from smainer.payload import encode_json, payload_hash
from smainer.sandbox import Marketplace
from tests.cairo.conftest import DEFAULT_REQUIREMENTS

U128 = 2**128
MAX_U256 = 2**256 - 1
MAX_U64 = 2**64 - 1

# Users and nodes of the escrow tests (plain addresses: the engine lets any address call).
ALICE = 0xA11
BOB = 0xB0B
NODE = 0xD0DE
NODE2 = 0xD0DE2
STRANGER = 0x5757
DEFAULT_NODE_SPEC = {"tier": 3, "gpu": True, "cpu_threads": 16, "ram_gb": 64}
DEFAULT_PAYLOAD = encode_json({"image": "python:3.11", "cmd": ["echo", "hello"]})


def sel(name: str) -> int:
    """Selector felt of an entry point or event name (an event's keys[0])."""
    return int(get_selector_from_name(name))


def short(text: str) -> int:
    """A Cairo short string felt."""
    return int.from_bytes(text.encode(), "big")


def u256(value: int) -> list[int]:
    """The two felts (low, high) a u256 serializes to."""
    return [value % U128, value // U128]


def events_named(result: CallResult, name: str, emitter: int | None = None) -> list[Event]:
    """Events of ``result`` whose keys[0] is the selector of ``name`` (from ``emitter`` only)."""
    key = sel(name)
    return [
        e
        for e in result.events
        if e.keys and e.keys[0] == key and (emitter is None or e.from_address == emitter)
    ]


def event_named(result: CallResult, name: str, emitter: int | None = None) -> Event:
    """The one event called ``name`` in ``result``; fails unless there is exactly one."""
    found = events_named(result, name, emitter)
    assert len(found) == 1, f"expected one {name} event, got {found} in {result.events}"
    return found[0]


def assert_events(result: CallResult, expected: Sequence[tuple[int, str, list, list]]) -> None:
    """``result`` emitted exactly ``expected``, in order.

    Each entry is (emitter, event name, keys after keys[0], data).
    """
    actual = [(e.from_address, e.keys, e.data) for e in result.events]
    wanted = [(emitter, [sel(name), *keys], data) for emitter, name, keys, data in expected]
    assert actual == wanted


def state_of(chain: Chain) -> tuple[dict, dict, dict]:
    """Everything a call could change: storage, deployed contracts, nonces."""
    data = chain.state
    return dict(data.storage), dict(data.contracts), dict(data.nonces)


@contextmanager
def reverts(chain: Chain, reason: str) -> Iterator[Any]:
    """The block must revert with exactly ``reason`` and leave the chain's state untouched."""
    before = state_of(chain)
    with pytest.raises(ExecutionRevertedError) as info:
        yield info
    assert info.value.reason == reason
    assert state_of(chain) == before


def deploy_at(
    chain: Chain, class_hash: int, abi: Any, address: int, **constructor_args: Any
) -> tuple[DeployedContract, DeployResult]:
    """Deploy a declared class at a chosen ``address``, so that the constructor arguments may
    name the contract's own address (which a computed address, a hash over them, cannot).

    ``abi``: the Sierra class (or its ``abi`` entries), as ``DeployedContract`` takes it."""
    contract = DeployedContract(chain, address, abi)
    calldata = serializer_for_payload(contract.abi.constructor.inputs).serialize(constructor_args)
    return contract, chain.deploy(class_hash, list(calldata), address=address)


def requirements(**changes: Any) -> dict[str, Any]:
    """DEFAULT_REQUIREMENTS with some fields changed."""
    return {**DEFAULT_REQUIREMENTS, **changes}


def create_task(
    market: Marketplace,
    creator: int,
    amount: int,
    *,
    payload: Sequence[int] = DEFAULT_PAYLOAD,
    kind: int = 1,
    **requirement_changes: Any,
) -> tuple[int, CallResult]:
    """Open a task as ``creator`` (who must be funded); returns (task id, call result)."""
    result = market.escrow.invoke(
        "create_task",
        kind=kind,
        payload=list(payload),
        requirements=requirements(**requirement_changes),
        amount=amount,
        caller=creator,
    )
    task_id: int = market.escrow.decode("create_task", result.retdata)
    return task_id, result


def register_node(market: Marketplace, node: int, **spec_changes: Any) -> CallResult:
    """Register ``node`` with DEFAULT_NODE_SPEC (some fields changed)."""
    return market.escrow.invoke(
        "register_node", caller=node, **{**DEFAULT_NODE_SPEC, **spec_changes}
    )


def assign(market: Marketplace, task_id: int, node: int) -> CallResult:
    """Assign as the scheduler."""
    return market.escrow.invoke(
        "assign_task", task_id=task_id, node=node, caller=market.roles.scheduler
    )


def submit(market: Marketplace, task_id: int, node: int, result: Sequence[int]) -> CallResult:
    """Submit ``result`` with its correct Poseidon hash as ``node``."""
    return market.escrow.invoke(
        "submit_proof_and_claim",
        task_id=task_id,
        result_hash=payload_hash(result),
        result=list(result),
        caller=node,
    )


def task(market: Marketplace, task_id: int) -> dict[str, Any]:
    """``get_task`` as a plain dict (nested requirements and fees too)."""
    value = dict(market.escrow.call("get_task", task_id=task_id))
    value["requirements"] = dict(value["requirements"])
    if "fees" in value:
        value["fees"] = dict(value["fees"])
    return value


def node(market: Marketplace, address: int) -> dict[str, Any]:
    """``get_node`` as a plain dict."""
    return dict(market.escrow.call("get_node", node=address))
