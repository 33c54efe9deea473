"""``matrix_multiplication``: the product of two matrices, exact for integers.

Payload (the seeds' format)::

    {"algorithm": "matrix_multiplication",
     "matrix_a": [[1, 2], [3, 4]], "matrix_b": [[5, 6], [7, 8]]}

``matrix_a`` is nxm, ``matrix_b`` mxk, each at most :data:`MAX_ELEMENTS` numbers and n·k at most
:data:`MAX_OUTPUT`. When every entry is a JSON integer the product is exact; otherwise both are
float32 and so is the product.

Result::

    {"algorithm": "matrix_multiplication", "dtype": "int" | "float32", "shape": [n, k],
     "product": [[19, 22], [43, 50]]}

with ``"product_sha256"`` (see :mod:`provider.results`) in place of ``"product"`` when the
product does not fit in a claim.

Why float64 for integers: integer matrix products have no BLAS path (n=1024 int64 takes ~6.6 s
in NumPy, ~8.6 s in JAX) while float64 takes ~54 ms. Every partial sum of the dot products is an
integer of magnitude at most m·max|a|·max|b|, and float64 holds every integer up to 2^53 exactly,
so when ``m·max|a|·max|b| <= 2^53`` (:data:`EXACT_BOUND`) each addition is exact in any order
(BLAS blocking, GPU reductions): the product is exact. Past the bound the entries are split into
signed limbs of L bits, with L chosen so that ``m·(2^L - 1)^2 <= 2^53``, the limb products are
computed the same exact way in one batched matmul, and recombined with Python integers. Entries
above :data:`MAX_INT_BITS` bits are refused.

float32 products use ``Precision.HIGHEST`` so that a GPU does not fall back to TF32.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from provider.algorithms import schema
from provider.algorithms.cost import Cost
from provider.errors import PayloadRejectedError
from provider.results import fit_result, float32_json

NAME = "matrix_multiplication"
MAX_ELEMENTS = 1 << 16
"""Numbers per input matrix (a payload of 7905 bytes holds fewer than 4000)."""
MAX_OUTPUT = 1 << 20
"""Entries of the product (n·k), so that its digest is cheap to take and to check."""
EXACT_BOUND = 1 << 53
"""float64 holds every integer of magnitude up to this exactly."""
MAX_INT_BITS = 256
"""Largest integer entries accepted: |x| < 2^256."""


@dataclass(frozen=True)
class Job:
    a: NDArray[Any]
    """nxm: int64 or Python ints (dtype object) in integer mode, else float32."""
    b: NDArray[Any]
    integer: bool


def parse(payload: Mapping[str, Any]) -> Job:
    schema.only_fields(payload, {"matrix_a", "matrix_b"})
    rows_a = schema.matrix_rows(schema.field(payload, "matrix_a"), "matrix_a", MAX_ELEMENTS)
    rows_b = schema.matrix_rows(schema.field(payload, "matrix_b"), "matrix_b", MAX_ELEMENTS)
    n, m, m_b, k = len(rows_a), len(rows_a[0]), len(rows_b), len(rows_b[0])
    if m != m_b:
        raise PayloadRejectedError(f"matrix_a is {n}x{m} but matrix_b is {m_b}x{k}")
    if n * k > MAX_OUTPUT:
        raise PayloadRejectedError(f"the product has {n * k} entries; at most {MAX_OUTPUT}")
    integer = all(isinstance(x, int) for rows in (rows_a, rows_b) for row in rows for x in row)
    if not integer:
        return Job(
            schema.float32_array(rows_a, "matrix_a"),
            schema.float32_array(rows_b, "matrix_b"),
            integer=False,
        )
    return Job(_integers(rows_a, "matrix_a"), _integers(rows_b, "matrix_b"), integer=True)


def _integers(rows: list[list[Any]], name: str) -> NDArray[Any]:
    """int64 when every entry is below 2^62 in magnitude (fast), else Python ints (object)."""
    try:
        small = np.array(rows, dtype=np.int64)
        if np.all(np.abs(small) < 2**62):
            return small
    except OverflowError:
        pass
    array = np.array(rows, dtype=object)
    if max(abs(int(x)) for x in array.flat).bit_length() > MAX_INT_BITS:
        raise PayloadRejectedError(f"{name} holds integers of more than {MAX_INT_BITS} bits")
    return array


@jax.jit
def _float32_product(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST)


@jax.jit
def _limb_products(a_limbs: jax.Array, b_limbs: jax.Array) -> jax.Array:
    """(p, n, m) x (q, m, k) -> (p, q, n, k): every limb of a times every limb of b."""
    return jnp.einsum("pnm,qmk->pqnk", a_limbs, b_limbs, precision=jax.lax.Precision.HIGHEST)


def limb_bits(inner: int) -> int:
    """Largest L with inner·(2^L - 1)^2 <= 2^53: limb products stay exact in float64."""
    bits = 1
    while inner * ((1 << (bits + 1)) - 1) ** 2 <= EXACT_BOUND:
        bits += 1
    return bits


def _split(x: NDArray[Any], bits: int, count: int) -> NDArray[np.float64]:
    """Signed limbs: x = Σ limb_i · 2^(bits·i), each limb of x's sign and below 2^bits."""
    sign = np.where(x < 0, -1, 1)
    magnitude = np.abs(x)
    mask = (1 << bits) - 1
    limbs = [((magnitude >> (bits * i)) & mask) * sign for i in range(count)]
    return np.stack(limbs).astype(np.float64)


def limb_plan(a: NDArray[Any], b: NDArray[Any]) -> tuple[int, int, int]:
    """(limb bits, limbs of a, limbs of b); (0, 1, 1) when a @ b is exact in float64 as is."""
    inner = a.shape[1]
    max_a = int(np.max(np.abs(a)))
    max_b = int(np.max(np.abs(b)))
    if inner * max_a * max_b <= EXACT_BOUND:
        return 0, 1, 1
    bits = limb_bits(inner)
    return bits, max(1, -(-max_a.bit_length() // bits)), max(1, -(-max_b.bit_length() // bits))


def exact_integer_product(a: NDArray[Any], b: NDArray[Any]) -> NDArray[Any]:
    """a @ b for integer matrices (int64 or object), exact, computed in float64 by JAX."""
    bits, p, q = limb_plan(a, b)
    with jax.enable_x64(True):
        if bits == 0:
            product = _limb_products(
                jnp.asarray(a.astype(np.float64)[None]), jnp.asarray(b.astype(np.float64)[None])
            )
            return np.asarray(product[0, 0]).astype(np.int64)
        a, b = a.astype(object), b.astype(object)
        products = np.asarray(
            _limb_products(jnp.asarray(_split(a, bits, p)), jnp.asarray(_split(b, bits, q)))
        ).astype(np.int64)
    total = np.zeros(products.shape[2:], dtype=object)
    for i in range(p):
        for j in range(q):
            total += products[i, j].astype(object) * (1 << (bits * (i + j)))
    return total


PYTHON_INT_BYTES = 64
"""Room for one exact entry recombined as a Python int (object array slot and the int)."""


def cost(job: Job) -> Cost:
    """2·n·m·k flops per limb pair; the limbs, their products and the product itself, doubled
    for the copies JAX and NumPy make on the way."""
    n, m = job.a.shape
    k = job.b.shape[1]
    if not job.integer:
        return Cost(2.0 * n * m * k, 2 * 4 * (n * m + m * k + n * k))
    _, p, q = limb_plan(job.a, job.b)
    limbs = 8 * (p * n * m + q * m * k + p * q * n * k)
    exact = PYTHON_INT_BYTES * n * k if p * q > 1 else 0
    return Cost(2.0 * n * m * k * p * q, 2 * (limbs + exact))


def run(job: Job) -> dict[str, Any]:
    if job.integer:
        product: list[Any] = exact_integer_product(job.a, job.b).tolist()
    else:
        product = float32_json(np.asarray(_float32_product(job.a, job.b)))
    n, k = job.a.shape[0], job.b.shape[1]
    result = {
        "algorithm": NAME,
        "dtype": "int" if job.integer else "float32",
        "shape": [n, k],
        "product": product,
    }
    return fit_result(result, "product")
