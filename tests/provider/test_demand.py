"""What the demander CLI refuses before sending anything, and how it reads amounts."""

import pytest

from provider.demand import DemandError, check_payload, parse_amount
from smainer.payload import MAX_PAYLOAD_FELTS, decode_json


@pytest.mark.parametrize(
    ("text", "base"),
    [("25", 25 * 10**18), ("0.5", 5 * 10**17), ("1e-18", 1), ("1500base", 1500), ("7 BASE", 7)],
)
def test_amounts(text, base):
    assert parse_amount(text, 18) == base


@pytest.mark.parametrize("text", ["0", "-1", "abc", "0.0000000000000000001", "1.5base", "inf"])
def test_bad_amounts(text):
    with pytest.raises(DemandError):
        parse_amount(text, 18)


def test_payload_gets_its_algorithm_and_packs():
    felts = check_payload("monte_carlo_pi", {"seed": 1, "samples": 5})
    assert decode_json(felts) == {"algorithm": "monte_carlo_pi", "seed": 1, "samples": 5}
    assert len(felts) <= MAX_PAYLOAD_FELTS


@pytest.mark.parametrize(
    ("algorithm", "payload", "match"),
    [
        ("monte_carlo_pi", [1], "JSON object"),
        ("monte_carlo_pi", {"algorithm": "mlp_forward"}, "names 'mlp_forward'"),
        ("sorting", {}, "unknown algorithm"),
        ("monte_carlo_pi", {"seed": 1}, "samples"),
        ("matrix_multiplication", {"matrix_a": [[1] * 70] * 70, "matrix_b": [[1]]}, "7905 bytes"),
    ],
)
def test_refused_payloads(algorithm, payload, match):
    with pytest.raises(DemandError, match=match):
        check_payload(algorithm, payload)
