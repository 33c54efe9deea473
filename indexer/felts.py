"""Felts as the index stores them: 32-byte big-endian BLOBs, and back.

32 bytes hold any felt (< 2**251 + 17 * 2**192 + 1), compare and sort as the integers do, and
take a third of the room of their hex text. Readers get them back as ``int`` or as normalised
hex (lowercase, ``0x``, no leading zeros: starknet-py's ``hex()``), which is what the views show.
"""

from __future__ import annotations

FELT_BYTES = 32


def felt_bytes(value: int) -> bytes:
    return value.to_bytes(FELT_BYTES, "big")


def felt_int(blob: bytes) -> int:
    return int.from_bytes(blob, "big")


def felt_hex(value: int | bytes) -> str:
    """The normalised hex of a felt, as the views' ``felt_hex()`` macro writes it."""
    return hex(felt_int(value) if isinstance(value, bytes) else value)
