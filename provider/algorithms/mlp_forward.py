"""``mlp_forward``: a small multilayer perceptron's forward pass; the weights travel in the payload.

Payload::

    {"algorithm": "mlp_forward",
     "inputs": [[0.5, -1.0, 2.0]],                       # batch x d_0
     "layers": [{"weights": [[...], ...], "bias": [...]},  # d_{i-1} x d_i, d_i
                ...],
     "activation": "relu",                               # hidden layers: relu | tanh | sigmoid
     "output": "linear"}                                 # last layer: linear | softmax

At most :data:`MAX_LAYERS` layers and :data:`MAX_ELEMENTS` numbers per array; everything is
float32 and every matmul uses ``Precision.HIGHEST`` (no TF32 on a GPU). Result::

    {"algorithm": "mlp_forward", "shape": [batch, d_n], "outputs": [[...]]}

with ``"outputs_sha256"`` in place of ``"outputs"`` when they do not fit in a claim. The whole
network is one jitted function, compiled once per (layer shapes, activation, output) and reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from provider.algorithms import schema
from provider.algorithms.cost import Cost
from provider.errors import PayloadRejectedError
from provider.results import fit_result, float32_json

NAME = "mlp_forward"
MAX_LAYERS = 16
MAX_ELEMENTS = 1 << 16
ACTIVATIONS = ("relu", "tanh", "sigmoid")
OUTPUTS = ("linear", "softmax")


@dataclass(frozen=True)
class Job:
    inputs: NDArray[np.float32]
    layers: tuple[tuple[NDArray[np.float32], NDArray[np.float32]], ...]
    activation: str
    output: str


def parse(payload: Mapping[str, Any]) -> Job:
    schema.only_fields(payload, {"inputs", "layers", "activation", "output"})
    rows = schema.matrix_rows(schema.field(payload, "inputs"), "inputs", MAX_ELEMENTS)
    inputs = schema.float32_array(rows, "inputs")
    raw_layers = schema.field(payload, "layers")
    if not isinstance(raw_layers, list) or not 1 <= len(raw_layers) <= MAX_LAYERS:
        raise PayloadRejectedError(f"layers must be a list of 1..{MAX_LAYERS} layers")
    width = inputs.shape[1]
    layers = []
    for i, layer in enumerate(raw_layers):
        if not isinstance(layer, dict) or set(layer) != {"weights", "bias"}:
            raise PayloadRejectedError(f"layer {i} must be an object with weights and bias")
        name = f"layers[{i}].weights"
        weights = schema.float32_array(
            schema.matrix_rows(layer["weights"], name, MAX_ELEMENTS), name
        )
        if weights.shape[0] != width:
            raise PayloadRejectedError(f"{name} has {weights.shape[0]} rows; expected {width}")
        width = weights.shape[1]
        name = f"layers[{i}].bias"
        bias = schema.float32_array(schema.vector(layer["bias"], name, width), name)
        layers.append((weights, bias))
    activation = schema.choice(
        schema.field(payload, "activation", "relu"), "activation", ACTIVATIONS
    )
    output = schema.choice(schema.field(payload, "output", "linear"), "output", OUTPUTS)
    return Job(inputs, tuple(layers), activation, output)


def cost(job: Job) -> Cost:
    """2·batch·d_in·d_out flops per layer; the weights plus three activations of the widest
    layer (input, output, the activation's temporary), as float32."""
    batch = job.inputs.shape[0]
    flops = sum(2.0 * batch * w.shape[0] * w.shape[1] for w, _ in job.layers)
    weights = sum(w.size + b.size for w, b in job.layers)
    widest = max([job.inputs.shape[1], *(w.shape[1] for w, _ in job.layers)])
    return Cost(flops, 4 * (weights + 3 * batch * widest))


_ACTIVATION_FNS = {"relu": jax.nn.relu, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid}


@partial(jax.jit, static_argnames=("activation", "output"))
def forward(
    inputs: jax.Array,
    layers: tuple[tuple[jax.Array, jax.Array], ...],
    activation: str,
    output: str,
) -> jax.Array:
    x = inputs
    for index, (weights, bias) in enumerate(layers):
        x = jnp.matmul(x, weights, precision=jax.lax.Precision.HIGHEST) + bias
        if index < len(layers) - 1:
            x = _ACTIVATION_FNS[activation](x)
    return jax.nn.softmax(x, axis=-1) if output == "softmax" else x


def run(job: Job) -> dict[str, Any]:
    outputs = np.asarray(forward(job.inputs, job.layers, job.activation, job.output))
    result = {
        "algorithm": NAME,
        "shape": list(outputs.shape),
        "outputs": float32_json(outputs),
    }
    return fit_result(result, "outputs")
