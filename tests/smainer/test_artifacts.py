"""The committed artifacts are ones Starknet still accepts in a declare."""

import pytest

from smainer.artifacts import CONTRACT_PATHS, load_contract

OLDEST_DECLARABLE_SIERRA = (1, 5, 0)
"""Starknet is retiring declares of Sierra older than 1.5 (Cairo 2.6)."""


@pytest.mark.parametrize("name", sorted(CONTRACT_PATHS))
def test_committed_sierra_is_declarable(name):
    header = load_contract(name).sierra["sierra_program"][:3]
    version = tuple(int(felt, 16) for felt in header)
    assert version >= OLDEST_DECLARABLE_SIERRA, (
        f"{name} is Sierra {'.'.join(map(str, version))}: rebuild with `smainer build`"
    )
