"""Class hashes of compiled contracts, computed the way Starknet and starknet-py compute them.

Starknet 0.14.1+ (and starknet-py 0.30) hash CASM with Blake2s; older nodes and cairo-lang 0.14.0.1
use Poseidon. Both are kept so that an artifact can be declared on either kind of node.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starknet_py.common import create_casm_class, create_sierra_compiled_contract
from starknet_py.hash.casm_class_hash import compute_casm_class_hash
from starknet_py.hash.hash_method import HashMethod
from starknet_py.hash.sierra_class_hash import compute_sierra_class_hash


def _text(contract: Mapping[str, Any] | str) -> str:
    return contract if isinstance(contract, str) else json.dumps(contract)


def sierra_class_hash(sierra: Mapping[str, Any] | str) -> int:
    """The class hash: what a contract's address and ``replace_class`` refer to."""
    return int(compute_sierra_class_hash(create_sierra_compiled_contract(_text(sierra))))


def compiled_class_hash(casm: Mapping[str, Any] | str, *, blake2s: bool = True) -> int:
    """The compiled class hash a declare commits to (Blake2s, or the pre-0.14.1 Poseidon)."""
    method = HashMethod.BLAKE2S if blake2s else HashMethod.POSEIDON
    return int(compute_casm_class_hash(create_casm_class(_text(casm)), hash_method=method))
