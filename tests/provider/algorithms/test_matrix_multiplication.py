"""matrix_multiplication against NumPy: exact integers at and past the float64 bound, float32."""

import numpy as np
import pytest

from provider.algorithms import compute, matrix_multiplication
from provider.algorithms.matrix_multiplication import (
    EXACT_BOUND,
    MAX_INT_BITS,
    exact_integer_product,
    limb_bits,
)
from provider.errors import PayloadRejectedError
from provider.results import sha256_hex


def payload(a, b):
    return {"algorithm": "matrix_multiplication", "matrix_a": a, "matrix_b": b}


def test_the_seeds_example():
    result = compute(payload([[1, 2], [3, 4]], [[5, 6], [7, 8]]))
    assert result == {
        "algorithm": "matrix_multiplication",
        "dtype": "int",
        "shape": [2, 2],
        "product": [[19, 22], [43, 50]],
    }


@pytest.mark.parametrize(("n", "m", "k"), [(1, 1, 1), (3, 5, 2), (7, 16, 9)])
def test_random_integers_match_numpy_exactly(n, m, k):
    rng = np.random.default_rng(n * 100 + m * 10 + k)
    a = rng.integers(-1000, 1000, (n, m))
    b = rng.integers(-1000, 1000, (m, k))
    result = compute(payload(a.tolist(), b.tolist()))
    assert result["product"] == (a @ b).tolist()


def test_integers_exact_at_the_bound():
    # m·max|a|·max|b| == 2^53 exactly: still the single float64 matmul, still exact.
    m = 8
    big = 1 << 25
    rng = np.random.default_rng(1)
    a = rng.integers(big - 50, big + 1, (4, m), dtype=np.int64)
    b = rng.integers(-big, big + 1, (m, 3), dtype=np.int64)
    a[0, 0], b[0, 0] = big, big
    assert m * big * big == EXACT_BOUND
    exact = a.astype(object) @ b.astype(object)
    assert exact_integer_product(a.astype(object), b.astype(object)).tolist() == exact.tolist()


def test_past_the_bound_limbs_keep_it_exact():
    # 2^53 + 1 has no float64: a plain float64 matmul would return 2^53.
    result = compute(payload([[2**53, 1]], [[1], [1]]))
    assert result["product"] == [[2**53 + 1]]
    rng = np.random.default_rng(2)
    a = [[int(x) * 10**30 + int(y) for x, y in zip(r1, r2, strict=True)]
         for r1, r2 in zip(rng.integers(-(10**6), 10**6, (3, 5)),
                           rng.integers(0, 10**9, (3, 5)), strict=True)]  # fmt: skip
    b = rng.integers(-(2**62), 2**62, (5, 4)).tolist()
    expected = (np.array(a, dtype=object) @ np.array(b, dtype=object)).tolist()
    assert compute(payload(a, b))["product"] == expected


def test_limb_bits_keep_limb_products_exact():
    for inner in (1, 2, 3, 100, 4000):
        bits = limb_bits(inner)
        assert inner * (2**bits - 1) ** 2 <= EXACT_BOUND < inner * (2 ** (bits + 1) - 1) ** 2


def test_refuses_integers_too_wide():
    with pytest.raises(PayloadRejectedError, match="bits"):
        matrix_multiplication.parse(payload([[2**MAX_INT_BITS]], [[1]]))


def test_floats_are_float32_like_numpy():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 11)).astype(np.float32)
    b = rng.standard_normal((11, 4)).astype(np.float32)
    result = compute(payload(a.tolist(), b.tolist()))
    assert result["dtype"] == "float32"
    got = np.array(result["product"], dtype=np.float32)
    np.testing.assert_allclose(got, a @ b, rtol=1e-5, atol=1e-5)


def test_mixed_numbers_are_float32():
    assert compute(payload([[1, 2.5]], [[2], [2]]))["product"] == [[7.0]]


def test_deterministic_across_runs():
    rng = np.random.default_rng(4)
    p = payload(rng.standard_normal((9, 9)).tolist(), rng.standard_normal((9, 9)).tolist())
    assert compute(p) == compute(p)


def test_a_product_too_big_for_a_claim_becomes_its_digest():
    a = [[i + 1] for i in range(60)]
    b = [list(range(60))]
    result = compute(payload(a, b))
    product = (np.array(a) @ np.array(b)).tolist()
    assert "product" not in result
    assert result["product_sha256"] == sha256_hex(product)


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ([[1, 2]], [[1, 2]], "matrix_b is 1x2"),
        ([], [[1]], "non-empty"),
        ([[1, 2], [3]], [[1], [1]], "row 1"),
        ([["1"]], [[1]], "not a number"),
        ([[True]], [[1]], "not a number"),
        ([[1e39]], [[1.0]], "float32"),
    ],
)
def test_bad_payloads_are_rejected(a, b, match):
    with pytest.raises(PayloadRejectedError, match=match):
        compute(payload(a, b))


def test_unknown_fields_and_missing_ones_are_rejected():
    with pytest.raises(PayloadRejectedError, match="unknown payload fields"):
        compute({**payload([[1]], [[1]]), "extra": 1})
    with pytest.raises(PayloadRejectedError, match="matrix_b"):
        compute({"algorithm": "matrix_multiplication", "matrix_a": [[1]]})
