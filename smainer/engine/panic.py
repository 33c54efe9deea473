"""Decode Cairo panic data into the text a developer wrote.

Cairo 1 panics carry felts: ``assert(cond, 'TASK_NOT_OPEN')`` and ``panic_with_felt252`` give
short strings; ``assert!(cond, "...")`` / ``panic!("...")`` (Cairo ≥ 2.4) give a serialized
``ByteArray`` behind a magic felt. Reverted receipts and test assertions want the text.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["BYTE_ARRAY_MAGIC", "decode_reason", "felt_to_text"]

BYTE_ARRAY_MAGIC = 0x46A6158A16A947E5916B2A2CA68501A45E93D7110E81AA2D6438B1C57C879A3
"""First panic felt of a ``ByteArray`` panic (``selector!("byte_array_magic")``)."""

_WORD_BYTES = 31


def felt_to_text(value: int) -> str | None:
    """The short string a felt encodes, or ``None`` if it is not printable ASCII."""
    if value <= 0 or value.bit_length() > 8 * _WORD_BYTES:
        return None
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if all(0x20 <= byte < 0x7F for byte in raw):
        return raw.decode("ascii")
    return None


def _decode_byte_array(data: Sequence[int]) -> tuple[str, int] | None:
    """Decode a serialized ``ByteArray`` at the start of ``data``; return (text, felts used)."""
    if not data:
        return None
    n_words = data[0]
    if n_words < 0 or len(data) < n_words + 3:
        return None
    words = data[1 : 1 + n_words]
    pending, pending_len = data[1 + n_words], data[2 + n_words]
    if pending_len >= _WORD_BYTES or any(word.bit_length() > 8 * _WORD_BYTES for word in words):
        return None
    raw = b"".join(word.to_bytes(_WORD_BYTES, "big") for word in words)
    if pending_len:
        raw += pending.to_bytes(pending_len, "big")
    return raw.decode("utf-8", errors="replace"), n_words + 3


def decode_reason(panic_data: Sequence[int]) -> str:
    """Human text of a panic: short strings joined by ``", "``; hex for felts that are not text.

    Returns ``""`` when nothing decodes as text, so callers can look for a better frame.
    """
    parts: list[str] = []
    texts = 0
    index = 0
    while index < len(panic_data):
        value = panic_data[index]
        if value == BYTE_ARRAY_MAGIC:
            decoded = _decode_byte_array(panic_data[index + 1 :])
            if decoded is not None:
                text, used = decoded
                parts.append(text)
                texts += 1
                index += 1 + used
                continue
        short = felt_to_text(value)
        if short is None:
            parts.append(hex(value))
        else:
            parts.append(short)
            texts += 1
        index += 1
    return ", ".join(parts) if texts else ""
