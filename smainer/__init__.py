"""Smainer's shared core: contract artifacts and bindings, the chain engine, config and the CLI.

Services (``devnet``, ``indexer``, ``api``, ``provider``) build on this package; nothing here
imports them, except :mod:`smainer.cli`, which wires them together one subcommand at a time.
"""

__version__ = "0.1.0"
