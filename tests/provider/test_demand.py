"""What the demander CLI refuses before sending anything, and how it reads amounts."""

from types import SimpleNamespace

import pytest

from provider.demand import DemandError, check_payload, parse_amount, task_result
from provider.escrow import Requirements, TaskStatus
from smainer.payload import MAX_PAYLOAD_FELTS, decode_json, encode_json, payload_hash


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


def test_a_task_no_default_provider_could_finish_in_time_is_refused():
    huge = {"seed": 1, "samples": 1 << 32}  # ~280 s at the default CPU rate
    with pytest.raises(DemandError, match="max_execution_time"):
        check_payload("monte_carlo_pi", huge, Requirements(max_execution_time=120))
    assert check_payload("monte_carlo_pi", huge, Requirements(max_execution_time=600))
    # A GPU task is judged at a GPU's rate.
    gpu = Requirements(gpu_required=True, max_execution_time=60)
    assert check_payload("monte_carlo_pi", huge, gpu)


class PublishedResult:
    """A completed task whose published result felts are ``published``, committed to
    ``committed``'s hash."""

    def __init__(self, committed: list[int], published: list[int]) -> None:
        self.task = SimpleNamespace(
            status=TaskStatus.COMPLETED, result_hash=payload_hash(committed)
        )
        self.published = published

    async def get_task(self, task_id: int) -> SimpleNamespace:
        return self.task

    async def task_result(self, task_id: int) -> dict:
        return {"result": self.published}


async def test_a_result_is_returned_only_if_it_matches_its_hash():
    result = encode_json({"algorithm": "monte_carlo_pi", "hits": 3})
    assert await task_result(PublishedResult(result, result), 1) == {  # type: ignore[arg-type]
        "algorithm": "monte_carlo_pi",
        "hits": 3,
    }
    forged = encode_json({"algorithm": "monte_carlo_pi", "hits": 4})
    with pytest.raises(DemandError, match="does not match"):
        await task_result(PublishedResult(result, forged), 1)  # type: ignore[arg-type]
