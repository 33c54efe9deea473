"""In-process Starknet execution engine: run Cairo 1 contracts in Python with cairo-lang.

The devnet (tx flow, blocks, RPC) and the contract tests are built on :class:`Chain`.
Importing this package first makes cairo-lang importable on Python 3.11 (:mod:`.compat`).
"""

from smainer.engine import compat

compat.install()

from smainer.engine import speedups  # noqa: E402
from smainer.engine.chain import CONSTRUCTOR_SELECTOR, Chain, Selector, to_selector  # noqa: E402
from smainer.engine.errors import (  # noqa: E402
    ClassNotDeclaredError,
    ContractNotFoundError,
    EngineError,
    EntryPointNotFoundError,
    ExecutionRevertedError,
)
from smainer.engine.panic import decode_reason  # noqa: E402
from smainer.engine.state import DeclaredClass, Snapshot  # noqa: E402
from smainer.engine.types import (  # noqa: E402
    BlockContext,
    CallNode,
    CallResult,
    DeployResult,
    EntryPointType,
    Event,
    L2ToL1Message,
    ResourceBounds,
    TxContext,
)

speedups.install()

__all__ = [
    "CONSTRUCTOR_SELECTOR",
    "BlockContext",
    "CallNode",
    "CallResult",
    "Chain",
    "ClassNotDeclaredError",
    "ContractNotFoundError",
    "DeclaredClass",
    "DeployResult",
    "EngineError",
    "EntryPointNotFoundError",
    "EntryPointType",
    "Event",
    "ExecutionRevertedError",
    "L2ToL1Message",
    "ResourceBounds",
    "Selector",
    "Snapshot",
    "TxContext",
    "decode_reason",
    "speedups",
    "to_selector",
]
