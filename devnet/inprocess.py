"""starknet-py clients talking to a devnet in the same process, through the real JSON-RPC layer.

Tests (ours, and anyone's who wants a chain without a port) get starknet-py's own
``FullNodeClient``/``Account``/``DevnetClient`` speaking to a :class:`~devnet.state.Devnet`:
every request is serialized to JSON, answered by :class:`~devnet.dispatch.Dispatcher` exactly as
the HTTP server would, and parsed back, so the wire shapes are exercised without sockets.
"""

from __future__ import annotations

import json
from typing import Any

from starknet_py.devnet_utils.devnet_client import DevnetClient
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.http_client import HttpMethod, RpcHttpClient

from devnet.app import build_dispatcher
from devnet.dispatch import Dispatcher
from devnet.state import Devnet

__all__ = ["InProcessRpcClient", "in_process_client", "in_process_devnet_client"]

URL = "inprocess://devnet"


class InProcessRpcClient(RpcHttpClient):
    """starknet-py's JSON-RPC transport, with the HTTP round trip replaced by a dispatcher."""

    def __init__(self, dispatcher: Dispatcher, method_prefix: str = "starknet") -> None:
        super().__init__(url=URL, session=None, method_prefix=method_prefix)
        self._dispatcher = dispatcher

    async def request(
        self,
        address: str,
        http_method: HttpMethod,
        params: dict[str, Any] | None = None,
        payload: Any = None,
    ) -> Any:
        answer = await self._dispatcher.handle(json.dumps(payload).encode())
        return None if answer is None else json.loads(answer)


def _dispatcher(target: Devnet | Dispatcher) -> Dispatcher:
    return target if isinstance(target, Dispatcher) else build_dispatcher(target)


def in_process_client(target: Devnet | Dispatcher) -> FullNodeClient:
    """A ``FullNodeClient`` served by ``target`` (a devnet, or a dispatcher built on one)."""
    client = FullNodeClient(node_url=URL)
    client._client = InProcessRpcClient(_dispatcher(target))
    return client


def in_process_devnet_client(target: Devnet | Dispatcher) -> DevnetClient:
    """starknet-py's ``DevnetClient`` (``devnet_*`` and ``starknet_*``) served by ``target``."""
    dispatcher = _dispatcher(target)
    client = DevnetClient(node_url=URL)
    client._client = InProcessRpcClient(dispatcher)
    client._devnet_client = InProcessRpcClient(dispatcher, method_prefix="devnet")
    return client
