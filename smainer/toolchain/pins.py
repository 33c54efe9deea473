"""The pinned Cairo toolchain.

Cairo 2.1.0 is the only Cairo-to-Sierra compiler with a complete corelib that the package
registries offer: it ships inside the ``cairo-lang==0.12.3`` sdist. Newer sdists lack parts of the
corelib, so their ``starknet-compile`` fails on real contracts. Sierra-to-CASM uses the
``starknet-sierra-compile`` (Cairo 2.12) of the installed ``cairo-lang==0.14.0.1``, which accepts
2.1 Sierra and can add the Python hints that cairo-lang's execution needs.
"""

from __future__ import annotations

CAIRO_VERSION = "2.1.0"
"""The Cairo release that compiles ``cairo/`` to Sierra."""

COMPILER_SDIST = "cairo-lang==0.12.3"
"""The PyPI source distribution carrying the Cairo 2.1.0 compiler binaries and corelib."""

COMPILER_SDIST_SHA256 = "651abdaa5f911d1d8f5605749e3540e7fc4efb7fb625925e5a499c4ca04fcc85"
"""sha256 of ``cairo-lang-0.12.3.zip``; anything else is refused."""

COMPILER_DIR_IN_SDIST = "starkware/starknet/compiler/v1/sierra-compiler-major-1/"
"""The folder of the sdist holding ``bin/`` and ``corelib/``."""

SIERRA_COMPILE_PACKAGE = "starkware.starknet.compiler.v1"
"""The installed package whose ``sierra-compiler-major-1/bin`` holds ``starknet-sierra-compile``."""
