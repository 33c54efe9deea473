"""JAX provider workers, the task scheduler and the demander's functions (docs/provider.md).

Everything here acts on chain through starknet-py alone and reads addresses from
``deployments/<network>.json``; ``smainer/cli.py`` declares the commands that run it.
"""
