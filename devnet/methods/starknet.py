"""The ``starknet_*`` methods of the spec (v0.10.2): read, write, trace and executables APIs.

The handlers are named functions in modules by kind, each taking the
:class:`~devnet.state.Devnet` first and the spec's params by name: :mod:`devnet.methods.reads`,
:mod:`devnet.methods.writes`, :mod:`devnet.methods.simulation` (estimates and simulation, held
to the dispatcher's :class:`~devnet.dispatch.Limits`) and :mod:`devnet.methods.traces`. This
module only binds them to one devnet. Handlers are synchronous and CPU-bound (transactions run
the Cairo VM): the server runs them off its event loop.
"""

from __future__ import annotations

from functools import partial

from devnet.dispatch import Dispatcher
from devnet.methods import reads, simulation, traces, writes
from devnet.methods.reads import SPEC_VERSION
from devnet.state import Devnet

__all__ = ["SPEC_VERSION", "register"]


def register(dispatcher: Dispatcher, devnet: Devnet) -> None:
    """Add every ``starknet_*`` method served by ``devnet`` to ``dispatcher``."""
    for methods in (reads.METHODS, simulation.METHODS, traces.METHODS, writes.METHODS):
        for name, handler in methods.items():
            dispatcher.add(name, partial(handler, devnet))
    for name, limited in simulation.LIMITED_METHODS.items():
        dispatcher.add(name, partial(limited, devnet, dispatcher.limits))
