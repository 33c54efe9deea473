"""Errors of the pinned toolchain: each says what went wrong and what the user can do."""

from __future__ import annotations


class ToolchainError(Exception):
    """Base of every toolchain failure."""


class CompilerFetchError(ToolchainError):
    """The pinned compiler could not be obtained or did not match its pinned hash."""


class CorelibError(ToolchainError):
    """The corelib found for the Cairo 2.12 compiler is not one it can build with."""


class CorelibNotFoundError(CorelibError):
    """``SMAINER_CAIRO_CORELIB`` is not set and no corelib was found beside the checkout."""


class CompileError(ToolchainError):
    """A compiler rejected the sources; ``diagnostics`` is its own output, with file and line."""

    def __init__(self, what: str, diagnostics: str) -> None:
        super().__init__(f"{what} failed:\n{diagnostics.rstrip()}")
        self.diagnostics = diagnostics


class ArtifactMismatchError(ToolchainError):
    """``smainer build --check`` found committed artifacts that do not match their sources."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "committed artifacts do not match the Cairo sources:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nrun `smainer build` and commit smainer/artifacts/"
        )
        self.problems = problems
