"""Spec errors that may carry no ``data``, with their reason logged instead.

Most spec errors (``BLOCK_NOT_FOUND``, ``INSUFFICIENT_ACCOUNT_BALANCE``, ``PAGE_SIZE_TOO_BIG``...)
define no ``data`` field, so a conformant answer cannot say *why*. The why still matters to
whoever runs the devnet, so it goes to the ``devnet.chain`` log at INFO instead.
"""

from __future__ import annotations

import logging

from devnet.errors import RpcError

__all__ = ["reject"]

log = logging.getLogger("devnet.chain")


def reject(error: type[RpcError], reason: str) -> RpcError:
    """``error`` without data, after logging ``reason``; ``raise reject(...)``."""
    log.info("%s: %s", error.message, reason)
    return error()
