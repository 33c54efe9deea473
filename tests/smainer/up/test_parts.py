"""What ``smainer up`` would run for given flags, and the flags it refuses before starting."""

from __future__ import annotations

from pathlib import Path

import pytest

from smainer.up import PlanError, UpOptions, plan


def argv(parts, name):
    return next(p.argv for p in parts if p.name == name)


def flag(args, name):
    return args[args.index(name) + 1]


def test_devnet_demo_runs_every_part_in_dependency_order():
    parts = plan(UpOptions(demo=True, providers=3, rpc_port=5999, port=8999))
    names = [p.name for p in parts]
    assert names == [
        "devnet", "deploy", "api", "scheduler",
        "provider-1", "provider-2", "provider-3", "notify", "demo",
    ]  # fmt: skip
    assert [p.name for p in parts if p.essential] == ["devnet"]
    assert [p.name for p in parts if p.oneshot] == ["deploy"]
    assert parts[0].ready_url == "http://127.0.0.1:5999/is_alive"
    assert argv(parts, "api")[argv(parts, "api").index("--port") + 1] == "8999"
    for part in parts[1:]:
        if part.name != "notify":
            assert part.env["SMAINER_DEVNET_RPC_URL"] == "http://127.0.0.1:5999/rpc"
    assert flag(argv(parts, "notify"), "--api") == "http://127.0.0.1:8999"


def test_providers_sign_with_their_own_accounts_as_distinct_nodes():
    parts = plan(UpOptions(demo=True, providers=4))
    providers = [argv(parts, f"provider-{i}") for i in range(1, 5)]
    accounts = [flag(a, "--devnet-account") for a in providers]
    assert accounts == ["1", "2", "3", "4"]
    specs = {(flag(a, "--tier"), flag(a, "--cpu-threads"), flag(a, "--ram-gb")) for a in providers}
    assert len(specs) == 4
    assert all("--no-gpu" in a for a in providers)
    assert max(int(flag(a, "--tier")) for a in providers) < 5  # the demo's unmet tier
    assert flag(argv(parts, "demo"), "--devnet-account") == "5"
    assert flag(argv(parts, "scheduler"), "--devnet-account") == "0"
    journals = {flag(a, "--journal") for a in providers}
    assert len(journals) == 4


def test_without_demo_no_demo_part():
    assert "demo" not in [p.name for p in plan(UpOptions())]


def test_another_network_runs_the_reading_parts_by_default():
    parts = plan(UpOptions(network="sepolia", run_dir=Path("/tmp/x")))
    assert [p.name for p in parts] == ["api", "notify"]
    assert flag(argv(parts, "api"), "--network") == "sepolia"
    assert all(not p.env for p in parts)


def test_another_network_runs_one_provider_signed_by_the_environment():
    parts = plan(UpOptions(network="https://rpc.example", parts=("provider", "api"), providers=1))
    assert [p.name for p in parts] == ["api", "provider"]
    assert "--devnet-account" not in argv(parts, "provider")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (UpOptions(providers=0), "--providers must be 1..8"),
        (UpOptions(providers=9), "--providers must be 1..8"),
        (UpOptions(parts=("api",)), "--parts is for other networks"),
        (UpOptions(network="sepolia", demo=True), "--demo runs on the devnet only"),
        (UpOptions(network="sepolia", parts=("apii",)), "unknown part 'apii'"),
        (UpOptions(network="sepolia", parts=("deploy",)), "deploy runs on the devnet only"),
        (UpOptions(network="sepolia", parts=("provider",), providers=2), "its own account"),
    ],
)
def test_options_that_cannot_make_a_network_are_refused(options, message):
    with pytest.raises(PlanError, match=message):
        plan(options)


def test_the_summary_line_lists_statuses_in_lifecycle_order():
    from smainer.up.service import summary

    stats = {
        "tasks_by_status": {"cancelled": 1, "completed": 8, "open": 2, "expired": 0},
        "nodes_active": 2,
        "nodes_total": 3,
        "indexed_block": 40,
    }
    assert summary(stats) == "tasks: 2 open, 8 completed, 1 cancelled · nodes active 2/3 · block 40"
