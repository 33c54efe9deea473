"""Engine tests against the real compiled probe contract (fixtures/probe.cairo).

Nothing here mocks the VM: every call runs the probe's CASM in cairo-lang. How to regenerate
the compiled probe is in conftest.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from starknet_py.cairo.felt import decode_shortstring, encode_shortstring
from starknet_py.hash.address import compute_address
from starknet_py.hash.selector import get_selector_from_name

from smainer.engine import (
    BlockContext,
    Chain,
    ClassNotDeclaredError,
    ContractNotFoundError,
    EntryPointNotFoundError,
    Event,
    ExecutionRevertedError,
    TxContext,
    decode_reason,
    speedups,
)

VALUE_SET = get_selector_from_name("ValueSet")
MARKER = get_selector_from_name("Marker")


def s(text: str) -> int:
    return encode_shortstring(text)


# compat


def test_cairo_lang_import_needs_compat_and_works_with_it() -> None:
    stock = subprocess.run(
        [sys.executable, "-c", "import starkware.cairo.lang.instances"],
        capture_output=True,
        text=True,
    )
    assert stock.returncode != 0
    assert "mutable default" in stock.stderr
    fixed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import smainer.engine, starkware.cairo.lang.instances as i;"
            "print(i.CairoLayout().cpu_instance_def)",
        ],
        capture_output=True,
        text=True,
    )
    assert fixed.returncode == 0, fixed.stderr
    assert "CpuInstanceDef" in fixed.stdout


# deploy and constructor


def test_deploy_runs_constructor_at_starknet_address(chain: Chain, probe) -> None:
    deployed = chain.deploy(probe.class_hash, [probe.owner, 11], salt=5, deployer_address=0x99)
    expected = compute_address(
        class_hash=probe.class_hash,
        constructor_calldata=[probe.owner, 11],
        salt=5,
        deployer_address=0x99,
    )
    assert deployed.address == expected
    assert chain.get_class_hash_at(expected) == probe.class_hash
    assert chain.call(expected, "get_value").retdata == [11]
    assert chain.call(expected, "get_owner").retdata == [probe.owner]
    assert deployed.result.events == [Event(expected, [VALUE_SET, 0x99], [11])]
    assert deployed.result.steps > 0


def test_reverting_constructor_leaves_nothing(chain: Chain, probe) -> None:
    calldata = [probe.owner, s("BAD_INIT")]
    with pytest.raises(ExecutionRevertedError) as info:
        chain.deploy(probe.class_hash, calldata)
    assert info.value.reason == "PROBE_BAD_INIT"
    address = compute_address(class_hash=probe.class_hash, constructor_calldata=calldata, salt=0)
    assert not chain.is_deployed(address)


def test_deploy_twice_at_same_address_fails(chain: Chain, probe) -> None:
    with pytest.raises(ExecutionRevertedError, match="UNAVAILABLE"):
        chain.deploy(probe.class_hash, [probe.owner, probe.initial_value])


def test_deploy_syscall_uses_caller_as_deployer(chain: Chain, probe) -> None:
    result = chain.invoke(probe.first, "deploy", [probe.class_hash, 42, 9])
    child = result.retdata[0]
    assert child == compute_address(
        class_hash=probe.class_hash,
        constructor_calldata=[probe.first, 9],
        salt=42,
        deployer_address=probe.first,
    )
    assert chain.call(child, "get_owner").retdata == [probe.first]
    assert result.events == [Event(child, [VALUE_SET, probe.first], [9])]


# storage


def test_storage_round_trip(chain: Chain, probe) -> None:
    chain.invoke(probe.first, "set_value", [123])
    assert chain.call(probe.first, "get_value").retdata == [123]
    slot = chain.storage_address("value")
    assert chain.get_storage(probe.first, slot) == 123
    chain.set_storage(probe.first, slot, 77)
    assert chain.call(probe.first, "get_value").retdata == [77]
    assert chain.call(probe.second, "get_value").retdata == [probe.initial_value]


def test_u256_map_storage_layout(chain: Chain, probe) -> None:
    amount = 2**130 + 5
    chain.invoke(probe.first, "set_balance", [0xB0B, amount % 2**128, amount >> 128])
    slot = chain.storage_address("balances", 0xB0B)
    assert chain.get_storage(probe.first, slot) == amount % 2**128
    assert chain.get_storage(probe.first, slot + 1) == amount >> 128
    assert chain.call(probe.first, "get_balance", [0xB0B]).retdata == [5, 4]


def test_call_does_not_persist(chain: Chain, probe) -> None:
    result = chain.call(probe.first, "set_value", [555])
    assert result.events == [Event(probe.first, [VALUE_SET, 0], [555])]
    assert chain.call(probe.first, "get_value").retdata == [probe.initial_value]


def test_array_calldata(chain: Chain, probe) -> None:
    assert chain.call(probe.first, "sum", [3, 1, 2, 3]).retdata == [6]


# events


def test_events_in_emission_order_across_nested_calls(chain: Chain, probe) -> None:
    result = chain.invoke(probe.first, "call_set", [probe.second, 42], caller=0x5)
    assert result.events == [
        Event(probe.first, [MARKER, s("BEFORE")], []),
        Event(probe.second, [VALUE_SET, probe.first], [42]),
        Event(probe.first, [MARKER, s("AFTER")], []),
    ]
    assert chain.call(probe.second, "get_value").retdata == [42]
    assert chain.call(probe.first, "call_get", [probe.second]).retdata == [42]


# reverts


def test_panic_reason_and_rollback(chain: Chain, probe) -> None:
    with pytest.raises(ExecutionRevertedError) as info:
        chain.invoke(probe.first, "fail", [s("TASK_NOT_OPEN")])
    error = info.value
    assert error.reason == "TASK_NOT_OPEN"
    assert error.panic_data == [s("TASK_NOT_OPEN")]
    assert error.failed_address == probe.first
    assert error.steps > 0
    # fail() wrote 'DIRTY' and emitted an event before panicking: none of it is kept.
    assert chain.call(probe.first, "get_value").retdata == [probe.initial_value]


def test_failing_inner_call_reverts_outer(chain: Chain, probe) -> None:
    with pytest.raises(ExecutionRevertedError) as info:
        chain.invoke(probe.first, "call_fail", [probe.second, s("ESCROW_NOT_OPEN")])
    error = info.value
    assert error.reason == "ESCROW_NOT_OPEN"
    assert error.failed_address == probe.second
    assert hex(probe.second) in error.trace
    assert chain.call(probe.first, "get_value").retdata == [probe.initial_value]
    assert chain.call(probe.second, "get_value").retdata == [probe.initial_value]


def test_out_of_steps(probe_files, probe) -> None:
    sierra, casm = probe_files
    chain = Chain(max_steps=40)
    chain.declare(probe.class_hash, casm, sierra)
    with pytest.raises(ExecutionRevertedError) as info:
        chain.deploy(probe.class_hash, [probe.owner, 1])
    assert "steps" in info.value.reason.lower()


def test_decode_reason_handles_text_hex_and_byte_arrays() -> None:
    assert decode_reason([s("A"), s("B")]) == "A, B"
    assert decode_reason([0]) == ""
    assert decode_reason([s("X"), 0]) == "X, 0x0"
    text = "Escrow: task is not open for bids"  # 33 bytes: one full word and 2 pending
    raw = text.encode()
    magic = 0x46A6158A16A947E5916B2A2CA68501A45E93D7110E81AA2D6438B1C57C879A3
    data = [magic, 1, int.from_bytes(raw[:31], "big"), int.from_bytes(raw[31:], "big"), 2]
    assert decode_reason(data) == text


# context


def test_tx_info_and_block_are_visible(chain: Chain, probe) -> None:
    chain.set_block(number=12, timestamp=1_700_000_000, sequencer_address=0x5EC)
    chain.advance_time(60)
    tx = TxContext(
        account_address=0xACC, transaction_hash=0xF00, signature=[1, 2], nonce=4, max_fee=10
    )
    out = chain.call(probe.first, "context", caller=0xCA11, tx=tx).retdata
    assert out[0] == len(out) - 1
    tx_hash, account, nonce, version, chain_id, max_fee, timestamp, number, sequencer, caller = out[
        1:11
    ]
    assert (tx_hash, account, nonce, version, max_fee) == (0xF00, 0xACC, 4, 3, 10)
    assert decode_shortstring(chain_id) == "SN_SEPOLIA"
    assert (timestamp, number, sequencer, caller) == (1_700_000_060, 12, 0x5EC, 0xCA11)
    assert out[11:] == [2, 1, 2]


def test_chain_id_and_validate_mode_rounding(
    probe, probe_files: tuple[dict[str, object], dict[str, object]]
) -> None:
    sierra, casm = probe_files
    chain = Chain(BlockContext(number=1234, timestamp=1_700_001_234, chain_id=s("SN_MAIN")))
    chain.declare(probe.class_hash, casm, sierra)
    address = chain.deploy(probe.class_hash, [probe.owner, 1]).address
    out = chain.invoke(address, "context", validate=True).retdata
    assert decode_shortstring(out[5]) == "SN_MAIN"
    assert (out[7], out[8], out[9]) == (1_700_001_234 // 3600 * 3600, 1200, 0)
    tx = TxContext(chain_id=s("SN_OTHER"))
    assert chain.call(address, "context", tx=tx).retdata[5] == s("SN_OTHER")


# snapshots, upgrades, errors


def test_snapshot_restore(chain: Chain, probe) -> None:
    before = chain.snapshot()
    chain.invoke(probe.first, "set_value", [1])
    deployed = chain.deploy(probe.class_hash, [probe.owner, 2], salt=77).address
    chain.set_nonce(0xACC, 3)
    chain.advance_time(100)
    after = chain.snapshot()
    chain.restore(before)
    assert chain.call(probe.first, "get_value").retdata == [probe.initial_value]
    assert not chain.is_deployed(deployed)
    assert chain.get_nonce(0xACC) == 0
    assert chain.block == before.block
    chain.restore(after)
    assert chain.call(probe.first, "get_value").retdata == [1]
    assert chain.call(deployed, "get_value").retdata == [2]
    chain.invoke(probe.first, "set_value", [5])
    chain.restore(after)  # restoring does not let later writes leak into the snapshot
    assert chain.call(probe.first, "get_value").retdata == [1]


def test_replace_class_through_syscall(chain: Chain, probe) -> None:
    other_hash = probe.class_hash ^ 1  # the same code declared under another hash
    chain.declare(other_hash, probe.casm, compiled_class_hash=0xC0DE)
    chain.invoke(probe.first, "upgrade", [other_hash])
    assert chain.get_class_hash_at(probe.first) == other_hash
    assert chain.call(probe.first, "get_value").retdata == [probe.initial_value]
    with pytest.raises(ExecutionRevertedError, match="not declared"):
        chain.invoke(probe.first, "upgrade", [0xDEAD])
    assert chain.get_class_hash_at(probe.first) == other_hash


def test_not_declared_not_found_errors(chain: Chain, probe) -> None:
    with pytest.raises(ClassNotDeclaredError):
        chain.deploy(0x1234, [])
    with pytest.raises(ContractNotFoundError):
        chain.call(0x999, "get_value")
    with pytest.raises(ContractNotFoundError):
        chain.get_class_hash_at(0x999)
    with pytest.raises(EntryPointNotFoundError):
        chain.invoke(probe.first, "no_such_function")


def test_declare_is_idempotent_and_requires_python_hints(chain: Chain, probe) -> None:
    assert chain.declare(probe.class_hash, {}) is chain.get_class(probe.class_hash)
    casm = {k: v for k, v in probe.casm.items() if k != "pythonic_hints"}
    with pytest.raises(ValueError, match="pythonic"):
        chain.declare(0x77, casm)


# speedups


def test_speedups_give_identical_results(chain: Chain, probe) -> None:
    def scenario() -> list[object]:
        start = chain.snapshot()
        results: list[object] = [
            chain.invoke(probe.first, "call_set", [probe.second, 9]),
            chain.invoke(probe.first, "set_balance", [0xB0B, 5, 1]),
            chain.call(probe.first, "get_info"),
            chain.call(probe.first, "context", tx=TxContext(signature=[7], nonce=1)),
            chain.deploy(probe.class_hash, [probe.owner, 3], salt=9),
        ]
        try:
            chain.invoke(probe.first, "call_fail", [probe.second, s("NO")])
        except ExecutionRevertedError as error:
            results.append((error.reason, error.panic_data, error.steps))
        chain.restore(start)
        return results

    with speedups.disabled():
        stock = scenario()
    assert speedups.is_enabled()
    assert scenario() == stock
