"""Task payloads and results on chain: UTF-8 JSON packed into felts.

Layout (checked by the escrow contract): ``[byte_length, word_0, ..., word_{n-1}]`` with
``n = ceil(byte_length / 31)``; each word holds 31 bytes big-endian, the last one the remaining
``byte_length - 31 * (n - 1)`` bytes. 31 bytes always fit below the felt prime, and the explicit
length keeps leading zero bytes of the last word. Payloads travel in ``TaskCreated`` events, so
providers and indexers read them from chain; the escrow stores only their Poseidon hash.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from poseidon_py.poseidon_hash import poseidon_hash_many

BYTES_PER_WORD = 31
MAX_PAYLOAD_FELTS = 256
"""The escrow's bound on payload and result length in felts (length prefix included)."""
MAX_PAYLOAD_BYTES = (MAX_PAYLOAD_FELTS - 1) * BYTES_PER_WORD


class PayloadError(ValueError):
    """A payload that the escrow would reject, or felts that are not a packed payload."""


def pack_bytes(data: bytes, *, max_felts: int = MAX_PAYLOAD_FELTS) -> list[int]:
    """Pack ``data`` as ``[len, words...]``; refuses what the contract's bound would reject."""
    words = [
        int.from_bytes(data[i : i + BYTES_PER_WORD], "big")
        for i in range(0, len(data), BYTES_PER_WORD)
    ]
    if len(words) + 1 > max_felts:
        raise PayloadError(
            f"payload is {len(data)} bytes ({len(words) + 1} felts); "
            f"the escrow accepts at most {(max_felts - 1) * BYTES_PER_WORD} bytes"
        )
    return [len(data), *words]


def unpack_bytes(felts: Sequence[int]) -> bytes:
    """Inverse of :func:`pack_bytes`; raises :class:`PayloadError` on malformed felts."""
    if not felts:
        raise PayloadError("empty payload: the first felt must be the byte length")
    length, words = felts[0], felts[1:]
    if len(words) != -(-length // BYTES_PER_WORD):
        raise PayloadError(f"byte length {length} does not match {len(words)} words")
    out = bytearray()
    for index, word in enumerate(words):
        size = min(BYTES_PER_WORD, length - index * BYTES_PER_WORD)
        if not 0 <= word < 256**size:
            raise PayloadError(f"word {index} does not fit in {size} bytes")
        out += word.to_bytes(size, "big")
    return bytes(out)


def encode_json(value: Any, *, max_felts: int = MAX_PAYLOAD_FELTS) -> list[int]:
    """Compact UTF-8 JSON of ``value``, packed: what ``create_task`` takes as its payload."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return pack_bytes(text.encode("utf-8"), max_felts=max_felts)


def decode_json(felts: Sequence[int]) -> Any:
    """The JSON value packed in ``felts`` (as read from a ``TaskCreated`` or ``TaskCompleted``)."""
    raw = unpack_bytes(felts)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"payload is not UTF-8 JSON: {exc}") from exc


def payload_hash(felts: Sequence[int]) -> int:
    """Poseidon hash of the felts, as the escrow stores it (``poseidon_hash_span``)."""
    return int(poseidon_hash_many(list(felts)))
