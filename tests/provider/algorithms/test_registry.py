"""The registry: unknown algorithms and non-object payloads are rejected before any compute."""

import pytest

from provider.algorithms import REGISTRY, compute, prepare
from provider.errors import PayloadRejectedError


def test_registry_names():
    assert set(REGISTRY) == {"matrix_multiplication", "monte_carlo_pi", "mlp_forward"}


@pytest.mark.parametrize("payload", [[], "x", {"algorithm": "sorting"}, {"algorithm": 3}, {}])
def test_unknown_or_malformed_is_rejected(payload):
    with pytest.raises(PayloadRejectedError):
        compute(payload)


def test_prepare_checks_without_running():
    algorithm, job = prepare({"algorithm": "monte_carlo_pi", "seed": 1, "samples": 5})
    assert algorithm.name == "monte_carlo_pi"
    assert job.samples == 5
