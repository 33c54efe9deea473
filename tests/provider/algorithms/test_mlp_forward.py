"""mlp_forward against a NumPy forward pass."""

import itertools
from typing import Any

import numpy as np
import pytest

from provider.algorithms import compute
from provider.errors import PayloadRejectedError


def numpy_forward(inputs, layers, activation, output):
    x = inputs.astype(np.float64)
    act: Any = {
        "relu": lambda v: np.maximum(v, 0),
        "tanh": np.tanh,
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    }[activation]
    for i, (w, b) in enumerate(layers):
        x = x @ w + b
        if i < len(layers) - 1:
            x = act(x)
    if output == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        x = e / e.sum(axis=-1, keepdims=True)
    return x


def random_network(rng, widths):
    return [
        (rng.standard_normal((a, b)).astype(np.float32) / np.sqrt(a),
         rng.standard_normal(b).astype(np.float32))
        for a, b in itertools.pairwise(widths)
    ]  # fmt: skip


def payload(inputs, layers, **options):
    return {
        "algorithm": "mlp_forward",
        "inputs": inputs.tolist(),
        "layers": [{"weights": w.tolist(), "bias": b.tolist()} for w, b in layers],
        **options,
    }


@pytest.mark.parametrize(
    ("widths", "activation", "output"),
    [
        ([3, 1], "relu", "linear"),
        ([4, 8, 8, 2], "tanh", "softmax"),
        ([5, 6, 3], "sigmoid", "linear"),
    ],
)
def test_matches_numpy(widths, activation, output):
    rng = np.random.default_rng(len(widths))
    inputs = rng.standard_normal((4, widths[0])).astype(np.float32)
    layers = random_network(rng, widths)
    result = compute(payload(inputs, layers, activation=activation, output=output))
    assert result["shape"] == [4, widths[-1]]
    expected = numpy_forward(inputs, layers, activation, output)
    np.testing.assert_allclose(np.array(result["outputs"]), expected, rtol=1e-5, atol=1e-5)


def test_deterministic_across_runs_and_defaults_to_relu_linear():
    rng = np.random.default_rng(9)
    inputs = rng.standard_normal((2, 3)).astype(np.float32)
    layers = random_network(rng, [3, 4, 2])
    first = compute(payload(inputs, layers))
    assert first == compute(payload(inputs, layers))
    expected = numpy_forward(inputs, layers, "relu", "linear")
    np.testing.assert_allclose(np.array(first["outputs"]), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"activation": "swish"}, "activation"),
        ({"layers": []}, "layers"),
        ({"layers": [{"weights": [[1.0], [2.0]], "bias": [0.0]}]}, "expected 3"),
        ({"layers": [{"weights": [[1.0], [2.0], [3.0]], "bias": [0.0, 1.0]}]}, "bias"),
        ({"layers": [{"weights": [[1.0], [2.0], [3.0]]}]}, "weights and bias"),
    ],
)
def test_bad_payloads_are_rejected(change, match):
    good = payload(np.ones((1, 3), np.float32), random_network(np.random.default_rng(0), [3, 1]))
    with pytest.raises(PayloadRejectedError, match=match):
        compute({**good, **change})
