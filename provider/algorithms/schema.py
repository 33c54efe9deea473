"""Checks shared by the algorithms' payload parsers: every failure is a PayloadRejectedError.

JSON numbers arrive as Python ``int`` (any size), ``float`` or, by mistake, ``bool``; a matrix
is a non-empty list of equally long non-empty lists of numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from provider.errors import PayloadRejectedError

FLOAT32_MAX = float(np.finfo(np.float32).max)


def field(payload: Mapping[str, Any], name: str, default: Any = ...) -> Any:
    if name in payload:
        return payload[name]
    if default is ...:
        raise PayloadRejectedError(f"payload has no {name!r}")
    return default


def only_fields(payload: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(payload) - allowed - {"algorithm"})
    if unknown:
        raise PayloadRejectedError(f"unknown payload fields {unknown}")


def integer(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadRejectedError(f"{name} must be an integer, not {type(value).__name__}")
    if not low <= value <= high:
        raise PayloadRejectedError(f"{name} must be in {low}..{high}, not {value}")
    return value


def choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise PayloadRejectedError(f"{name} must be one of {list(options)}, not {value!r}")
    return str(value)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def matrix_rows(value: Any, name: str, max_elements: int) -> list[list[int | float]]:
    """A rectangular list of lists of JSON numbers, at most ``max_elements`` of them."""
    if not isinstance(value, list) or not value:
        raise PayloadRejectedError(f"{name} must be a non-empty list of rows")
    width = len(value[0]) if isinstance(value[0], list) else 0
    if width == 0:
        raise PayloadRejectedError(f"{name} must be a list of non-empty rows")
    if len(value) * width > max_elements:
        raise PayloadRejectedError(
            f"{name} has {len(value) * width} elements; at most {max_elements} are accepted"
        )
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != width:
            raise PayloadRejectedError(f"{name} row {i} is not a list of {width} numbers")
        if not all(_is_number(x) for x in row):
            raise PayloadRejectedError(f"{name} row {i} holds something that is not a number")
    return value


def vector(value: Any, name: str, length: int) -> list[int | float]:
    if not isinstance(value, list) or len(value) != length:
        raise PayloadRejectedError(f"{name} must be a list of {length} numbers")
    if not all(_is_number(x) for x in value):
        raise PayloadRejectedError(f"{name} holds something that is not a number")
    return value


def float32_array(rows: list[Any], name: str) -> NDArray[np.float32]:
    """The numbers as float32; refuses values that float32 cannot hold (they would become inf)."""
    array = np.asarray(rows, dtype=np.float64)
    if not np.all(np.abs(array) <= FLOAT32_MAX):
        raise PayloadRejectedError(f"{name} holds values beyond float32's range")
    return array.astype(np.float32)
