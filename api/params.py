"""Parsing of request parameters, each failure a 400 that names the parameter.

Handlers take query values as text and parse them here, rather than through Litestar's
coercion, so that every message says which parameter and what was expected, and so that values
reach SQL only as typed parameters.
"""

from __future__ import annotations

import base64
import binascii
import re

from api.errors import BadParameterError

FELT_PRIME = 2**251 + 17 * 2**192 + 1
U64_MAX = 2**64 - 1
U256_MAX = 2**256 - 1
_HEX = re.compile(r"0x[0-9a-f]{1,64}")
TASK_STATUSES = {"open": 1, "assigned": 2, "completed": 3, "cancelled": 4, "expired": 5}
NODE_STATUSES = {"active": 1, "inactive": 2, "suspended": 3}


def felt(value: str, parameter: str) -> int:
    """A felt in hex (``0x``, any case, leading zeros allowed) below the field prime."""
    text = value.strip().lower()
    if not _HEX.fullmatch(text):
        raise BadParameterError(
            f"{parameter} must be a 0x-prefixed hex felt, got {value[:80]!r}", parameter=parameter
        )
    number = int(text, 16)
    if number >= FELT_PRIME:
        raise BadParameterError(f"{parameter} is not below the felt prime", parameter=parameter)
    return number


def address(value: str, parameter: str = "address") -> str:
    """An address in any valid felt hex form, normalised (lowercase, no leading zeros)."""
    return hex(felt(value, parameter))


def optional_address(value: str | None, parameter: str) -> str | None:
    return None if value is None else address(value, parameter)


def integer(value: str | None, parameter: str, *, low: int = 0, high: int = U64_MAX) -> int | None:
    """A decimal integer in ``low..high`` (or None when absent)."""
    if value is None:
        return None
    text = value.strip()
    if not re.fullmatch(r"[0-9]{1,80}", text):
        raise BadParameterError(
            f"{parameter} must be a non-negative integer, got {value[:80]!r}", parameter=parameter
        )
    number = int(text)
    if not low <= number <= high:
        raise BadParameterError(f"{parameter} must be in {low}..{high}", parameter=parameter)
    return number


def limit(value: str | None, default: int, maximum: int) -> int:
    parsed = integer(value, "limit", low=1, high=maximum)
    return default if parsed is None else parsed


def boolean(value: str | None, parameter: str) -> bool | None:
    if value is None:
        return None
    text = value.strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise BadParameterError(f"{parameter} must be true or false", parameter=parameter)


def choice(value: str | None, parameter: str, names: dict[str, int]) -> int | None:
    """A status by name (``open``) or number (``1``)."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in names:
        return names[text]
    if text.isdigit() and int(text) in names.values():
        return int(text)
    raise BadParameterError(f"{parameter} must be one of {', '.join(names)}", parameter=parameter)


def kind(value: str | None) -> str | None:
    """A task kind as its short string (``matmul``) or felt hex; returned as felt hex."""
    if value is None:
        return None
    text = value.strip()
    if text.lower().startswith("0x"):
        return address(text, "kind")
    return hex(shortstring(text, "kind"))


def shortstring(text: str, parameter: str) -> int:
    """A Cairo short string (at most 31 ASCII bytes) as a felt."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise BadParameterError(f"{parameter} must be ASCII", parameter=parameter) from None
    if not 0 < len(raw) <= 31:
        raise BadParameterError(f"{parameter} must be 1..31 ASCII bytes", parameter=parameter)
    return int.from_bytes(raw, "big")


def decode_shortstring(value: str) -> str | None:
    """A felt hex as its short string when it is printable ASCII, else None."""
    raw = int(value, 16).to_bytes(32, "big").lstrip(b"\0")
    if raw and all(32 <= b < 127 for b in raw):
        return raw.decode("ascii")
    return None


# -- keyset cursors ------------------------------------------------------------------------------

_CURSOR_PREFIX = "t1:"


def encode_cursor(task_id: int) -> str:
    """An opaque cursor: the last id of a page (clients must not build these themselves)."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{task_id}".encode()).decode().rstrip("=")


def decode_cursor(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        padded = value.strip() + "=" * (-len(value.strip()) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise BadParameterError("cursor is not one this API issued", parameter="cursor") from None
    if not text.startswith(_CURSOR_PREFIX) or not text[len(_CURSOR_PREFIX) :].isdigit():
        raise BadParameterError("cursor is not one this API issued", parameter="cursor")
    number = int(text[len(_CURSOR_PREFIX) :])
    if number > U64_MAX:
        raise BadParameterError("cursor is not one this API issued", parameter="cursor")
    return number
