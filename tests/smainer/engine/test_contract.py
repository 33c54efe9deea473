"""ABI-level calls through DeployedContract, against the real probe contract."""

from __future__ import annotations

import pytest

from smainer.engine import Chain, ExecutionRevertedError
from smainer.engine.contract import DeployedContract


def test_abi_calls_round_trip(chain: Chain, probe) -> None:
    contract, _deployed = DeployedContract.deploy(
        chain, probe.class_hash, probe.sierra, salt=3, owner=probe.owner, value=21
    )
    assert contract.call("get_value") == 21
    contract.invoke("set_balance", account=0xB0B, amount=2**200 + 1)
    assert contract.call("get_balance", account=0xB0B) == 2**200 + 1
    assert contract.call("get_info") == {"owner": probe.owner, "value": 21, "total": 2**200 + 1}
    assert contract.call("sum", values=[1, 2, 3]) == 6
    with pytest.raises(ExecutionRevertedError, match="NOPE"):
        contract.invoke("fail", message=int.from_bytes(b"NOPE", "big"))
    with pytest.raises(AttributeError):
        contract.call("missing")
