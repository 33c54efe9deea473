"""The pinned Cairo toolchain: fetch the compilers, compile ``cairo/``, write or check artifacts."""

from smainer.toolchain.build import build, find_source_root
from smainer.toolchain.errors import (
    ArtifactMismatchError,
    CompileError,
    CompilerFetchError,
    CorelibError,
    CorelibNotFoundError,
    ToolchainError,
)
from smainer.toolchain.fetch import Toolchain, ensure_toolchain

__all__ = [
    "ArtifactMismatchError",
    "CompileError",
    "CompilerFetchError",
    "CorelibError",
    "CorelibNotFoundError",
    "Toolchain",
    "ToolchainError",
    "build",
    "ensure_toolchain",
    "find_source_root",
]
