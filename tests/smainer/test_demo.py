"""The demo runs the committed contracts end to end and prints the payout it got from them."""

from smainer.demo import PAYLOAD, matmul, run_demo


def test_matmul_matches_the_payload_example():
    assert matmul(PAYLOAD["matrix_a"], PAYLOAD["matrix_b"]) == [[19, 22], [43, 50]]


def test_demo_completes_a_task_and_splits_the_payout():
    lines: list[str] = []
    steps = run_demo(lines.append)
    assert [s.label.split()[0] for s in steps] == [
        "create_task",
        "register_node",
        "assign_task",
        "submit_proof_and_claim",
    ]
    assert all(s.steps > 0 and s.events > 0 for s in steps)
    text = "\n".join(lines)
    assert "status 3 (3 = Completed), result [[19, 22], [43, 50]]" in text
    # 25 tokens at 9300 / 200 / 500 bps, read back from the token contract.
    for expected in (
        "provider            23.2500",
        "gas subsidy          0.5000",
        "treasury             1.2500",
        "escrow (left)        0.0000",
    ):
        assert expected in text
