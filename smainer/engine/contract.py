"""``DeployedContract``: call a contract with Python values through its ABI (starknet-py's codec).

Tests read ``escrow.invoke("create_task", amount=10**18, caller=alice)`` instead of hand-built
felts. Arguments are serialized and results deserialized by starknet-py's ABI v2 serializers,
the same code a client uses on a real network: u256 as int, structs as dicts, arrays as lists,
enums as starknet-py's ``(variant, value)`` objects, ``Option``/``Result`` likewise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from starknet_py.abi.v2.parser import AbiParser
from starknet_py.serialization.factory import serializer_for_function_v1, serializer_for_payload

from smainer.engine.chain import Chain
from smainer.engine.types import CallResult, DeployResult, Event, TxContext
from smainer.events import DecodedEvent, EventDecoder

__all__ = ["DecodedEvent", "DeployedContract", "parse_abi"]


def parse_abi(sierra_or_abi: Mapping[str, Any] | Sequence[Any] | str) -> Any:
    """starknet-py's parsed ABI v2 from a Sierra class, its ``abi`` field, or ABI JSON text."""
    return AbiParser(_raw_abi(sierra_or_abi)).parse()


class DeployedContract:
    """A contract on a :class:`Chain`, with ABI-aware ``call``/``invoke``/``deploy``."""

    def __init__(self, chain: Chain, address: int, abi: Any) -> None:
        self.chain = chain
        self.address = address
        self.raw_abi = _raw_abi(abi)
        self.abi = parse_abi(self.raw_abi)
        self._decoder = EventDecoder(self.raw_abi)
        self._functions: dict[str, Any] = {}
        self._adapters: dict[str, Any] = {}
        for function in self.abi.functions.values():
            self._functions[function.name] = function
        for interface in self.abi.interfaces.values():
            for function in interface.items.values():
                self._functions[function.name] = function

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        class_hash: int,
        abi: Any,
        *,
        salt: int = 0,
        deployer_address: int = 0,
        **constructor_args: Any,
    ) -> tuple[DeployedContract, DeployResult]:
        """Deploy ``class_hash`` with Python constructor arguments."""
        parsed = parse_abi(_raw_abi(abi))
        calldata: list[int] = []
        if parsed.constructor is not None:
            calldata = list(
                serializer_for_payload(parsed.constructor.inputs).serialize(constructor_args)
            )
        result = chain.deploy(class_hash, calldata, salt=salt, deployer_address=deployer_address)
        return cls(chain, result.address, abi), result

    def _adapter(self, name: str) -> Any:
        try:
            adapter = self._adapters.get(name)
            if adapter is None:
                # Building a serializer walks the ABI types: once per function is enough.
                adapter = self._adapters[name] = serializer_for_function_v1(self._functions[name])
            return adapter
        except KeyError:
            raise AttributeError(f"the ABI has no function {name!r}") from None

    def decode_event(self, event: Event) -> DecodedEvent:
        """Name and members of one of this contract's events (keys[0] is the variant selector)."""
        if event.from_address != self.address or not self._decoder.knows(event.keys):
            raise ValueError(f"not an event of this contract: {event}")
        return self._decoder.decode(event.keys, event.data)

    def events(self, result: CallResult, name: str | None = None) -> list[DecodedEvent]:
        """This contract's events in ``result`` (only those called ``name`` if given), in order."""
        decoded = [self.decode_event(e) for e in result.events if e.from_address == self.address]
        return [e for e in decoded if name is None or e.name == name]

    def calldata(self, name: str, *args: Any, **kwargs: Any) -> list[int]:
        """The felts a call to ``name`` with these Python arguments sends."""
        return list(self._adapter(name).serialize(*args, **kwargs))

    def decode(self, name: str, retdata: Sequence[int]) -> Any:
        """Python values of ``name``'s return data: the single value, a tuple, or ``None``."""
        values = tuple(self._adapter(name).deserialize(list(retdata)))
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def call(
        self, name: str, *args: Any, caller: int = 0, tx: TxContext | None = None, **kwargs: Any
    ) -> Any:
        """Read-only call; returns the decoded return value."""
        result = self.chain.call(
            self.address, name, self.calldata(name, *args, **kwargs), caller=caller, tx=tx
        )
        return self.decode(name, result.retdata)

    def invoke(
        self, name: str, *args: Any, caller: int = 0, tx: TxContext | None = None, **kwargs: Any
    ) -> CallResult:
        """State-changing call; returns the raw :class:`CallResult` (use :meth:`decode`)."""
        return self.chain.invoke(
            self.address, name, self.calldata(name, *args, **kwargs), caller=caller, tx=tx
        )


def _raw_abi(abi: Mapping[str, Any] | Sequence[Any] | str) -> list[Any]:
    """The ABI entries of a Sierra class, its ``abi`` field, or ABI JSON text."""
    if isinstance(abi, Mapping):
        abi = abi["abi"]
    if isinstance(abi, str):
        abi = json.loads(abi)
    return list(abi)
