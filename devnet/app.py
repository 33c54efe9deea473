"""Wire a :class:`~devnet.state.Devnet` to a :class:`~devnet.dispatch.Dispatcher`: the one place
that knows which methods exist. The server and the tests both start here."""

from __future__ import annotations

from devnet.dispatch import Dispatcher
from devnet.methods import devnet as devnet_methods
from devnet.methods import starknet as starknet_methods
from devnet.state import Devnet

__all__ = ["build_dispatcher"]


def build_dispatcher(devnet: Devnet) -> Dispatcher:
    """Every ``starknet_*`` and ``devnet_*`` method, served by ``devnet``."""
    dispatcher = Dispatcher()
    starknet_methods.register(dispatcher, devnet)
    devnet_methods.register(dispatcher, devnet)
    return dispatcher
