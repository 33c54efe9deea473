"""Apibara DNA v1alpha2 from the ``apibara`` wheel itself: the wire types and the SDK's client.

One import place for the devnet's stream server (``devnet/dna.py``) and the indexer's stream
source (``indexer/apibara_source.py``).

``apibara.starknet``'s ``__init__`` imports the SDK's MongoDB indexer (``pymongo``, which the
wheel does not declare and we do not need), so importing any ``apibara.starknet.*`` module fails
without it. :func:`starknet_modules` then registers the package bare (its directory only, the
``__init__`` not run) and imports the generated protobuf modules in dependency order
(``types.proto`` before ``filter.proto`` and ``starknet.proto``). With ``pymongo`` installed the
package is imported normally.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

PACKAGE = "apibara.starknet"


def _import_starknet_package() -> None:
    try:
        importlib.import_module(PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name != "pymongo":
            raise
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or spec.submodule_search_locations is None:
            raise
        bare = types.ModuleType(PACKAGE)
        bare.__path__ = list(spec.submodule_search_locations)
        bare.__spec__ = spec
        sys.modules[PACKAGE] = bare
    # filter.proto and starknet.proto import types.proto: it must be in the pool first.
    importlib.import_module(f"{PACKAGE}.proto.types_pb2")


_import_starknet_package()

# The wheel ships no type information (no py.typed): these are ``Any`` to mypy (pyproject's
# overrides).
from apibara.protocol import StreamService  # noqa: E402
from apibara.protocol.proto import stream_pb2  # noqa: E402
from apibara.protocol.proto.stream_pb2_grpc import (  # noqa: E402
    StreamServicer,
    add_StreamServicer_to_server,
)
from apibara.starknet import felt  # noqa: E402
from apibara.starknet.filter import EventFilter, Filter  # noqa: E402
from apibara.starknet.proto import (  # noqa: E402
    filter_pb2,
    starknet_pb2,
    types_pb2,
)

__all__ = [
    "EventFilter",
    "Filter",
    "StreamService",
    "StreamServicer",
    "add_StreamServicer_to_server",
    "felt",
    "filter_pb2",
    "starknet_pb2",
    "stream_pb2",
    "types_pb2",
]
