"""Results as JSON that fits on chain: numbers in a canonical text form, or a digest of them.

``submit_proof_and_claim`` takes at most 256 felts of result, packed by :mod:`smainer.payload`
(at most 7905 bytes of compact UTF-8 JSON). An algorithm returns its full output when it fits;
otherwise the field is replaced by ``<field>_sha256``, the SHA-256 of the field's canonical JSON
(compact separators, float32 values in their shortest round-trip form), which a demander
recomputes locally to check a result. Keeping one canonical text form is what makes the digest
reproducible in any language.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from smainer.payload import PayloadError, encode_json

NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
"""JSON has no infinities or NaN: they travel as these strings (NaN as ``"NaN"``)."""


def canonical_json(value: Any) -> str:
    """The one text form of a JSON value that digests are taken over."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def float32_json(values: NDArray[np.float32]) -> list[Any]:
    """float32 values as JSON numbers in their shortest round-trip form (``0.1``, not
    ``0.10000000149011612``), so ``np.float32(json_value)`` gives back the exact value."""

    def one(x: Any) -> float | str:
        if math.isfinite(x):
            return float(str(x))
        return "NaN" if math.isnan(x) else NON_FINITE[float(x)]

    if values.ndim == 0:
        return [one(values[()])]
    if values.ndim == 1:
        return [one(x) for x in values]
    return [float32_json(row) for row in values]


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def fit_result(result: Mapping[str, Any], field: str) -> dict[str, Any]:
    """``result`` as is when it packs into a claim, else with ``field`` replaced by its digest."""
    out = dict(result)
    try:
        encode_json(out)
    except PayloadError:
        value = out.pop(field)
        out[f"{field}_sha256"] = sha256_hex(value)
        encode_json(out)  # the rest must fit: algorithms keep their other fields small
    return out
