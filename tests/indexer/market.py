"""A marketplace on a real devnet, driven with starknet-py, and read back through its views.

Transactions are sent as raw calls (selector + calldata) with fixed resource bounds: parsing the
Escrow's ABI with starknet-py's ``Contract`` costs ~10 s of CPU, and estimating each fee a round
trip. Several calls share one transaction where the story allows, which also puts several
events in one transaction, as a real multicall does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from poseidon_py.poseidon_hash import poseidon_hash_many
from starknet_py.hash.selector import get_selector_from_name
from starknet_py.net.account.account import Account
from starknet_py.net.client_models import Call, ResourceBounds, ResourceBoundsMapping
from starknet_py.net.full_node_client import FullNodeClient
from starknet_py.net.models import StarknetChainId
from starknet_py.net.signer.key_pair import KeyPair

from smainer.payload import encode_json

ONE = 10**18
POLL = 0.05
GENEROUS = ResourceBoundsMapping(
    l1_gas=ResourceBounds(max_amount=0, max_price_per_unit=10**10),
    l1_data_gas=ResourceBounds(max_amount=10**5, max_price_per_unit=10**10),
    l2_gas=ResourceBounds(max_amount=10**9, max_price_per_unit=10**10),
)


async def devnet_call(url: str, method: str, params: Any = None) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        answer = await response.json()
    assert "result" in answer, answer
    return answer["result"]


def u256(value: int) -> list[int]:
    return [value % 2**128, value >> 128]


def call(to: int, name: str, *calldata: int) -> Call:
    return Call(to_addr=to, selector=get_selector_from_name(name), calldata=list(calldata))


def create_task(escrow: int, amount: int, *, seconds: int = 600, tier: int = 1) -> Call:
    payload = encode_json({"algorithm": "matrix_multiplication", "n": amount % 97})
    requirements = [tier, 0, 2, 4, seconds]  # min_tier, gpu_required, cpu, ram, max time
    return call(
        escrow,
        "create_task",
        int.from_bytes(b"matmul", "big"),
        len(payload),
        *payload,
        *requirements,
        *u256(amount),
    )


def claim(escrow: int, task_id: int, result: list[int]) -> Call:
    return call(
        escrow,
        "submit_proof_and_claim",
        task_id,
        poseidon_hash_many(result),
        len(result),
        *result,
    )


@dataclass
class Market:
    """The devnet's URL, the deployed addresses and the predeployed accounts (address, key)."""

    rpc_url: str
    escrow: int
    token: int
    deploy_block: int
    accounts: list[tuple[int, int]]
    manifest: Path
    """The ``deployments/devnet.json`` the deployment wrote."""
    users: set[int] = field(default_factory=set)
    nodes: set[int] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return self.rpc_url.removesuffix("/rpc")

    def client(self) -> FullNodeClient:
        return FullNodeClient(node_url=self.rpc_url)

    def account(self, index: int) -> Account:
        address, key = self.accounts[index]
        return Account(
            address=address,
            client=self.client(),
            key_pair=KeyPair.from_private_key(key),
            chain=StarknetChainId.SEPOLIA,
        )

    async def send(self, index: int, *calls: Call) -> int:
        """Send ``calls`` from account ``index`` in one transaction; returns its block."""
        sent = await self.account(index).execute_v3(calls=list(calls), resource_bounds=GENEROUS)
        receipt = await self.client().wait_for_tx(
            sent.transaction_hash, check_interval=POLL, retries=4000
        )
        return int(receipt.block_number or 0)

    async def view(self, name: str, *calldata: int) -> list[int]:
        return await self.client().call_contract(call(self.escrow, name, *calldata))

    async def head(self) -> int:
        return await self.client().get_block_number()


# -- the contract's views, in the index's view shapes ---------------------------------------


def _task(felts: list[int]) -> dict[str, Any]:
    (
        task_id, creator, kind, payload_hash, min_tier, gpu_required, cpu_threads, ram_gb,
        max_execution_time, amount_low, amount_high, provider_bps, gas_bps, treasury_bps,
        status, node, created_at, assigned_at, deadline, completed_at, result_hash,
    ) = felts  # fmt: skip
    return {
        "id": task_id,
        "creator": hex(creator),
        "kind": hex(kind),
        "payload_hash": hex(payload_hash),
        "min_tier": min_tier,
        "gpu_required": bool(gpu_required),
        "cpu_threads": cpu_threads,
        "ram_gb": ram_gb,
        "max_execution_time": max_execution_time,
        "amount": amount_low + (amount_high << 128),
        "provider_bps": provider_bps,
        "gas_bps": gas_bps,
        "treasury_bps": treasury_bps,
        "status": status,
        "node": hex(node),
        "created_at": created_at,
        "assigned_at": assigned_at,
        "deadline": deadline,
        "completed_at": completed_at,
        "result_hash": hex(result_hash),
    }


def _node(felts: list[int]) -> dict[str, Any]:
    (
        tier, gpu, cpu_threads, ram_gb, status, registered_at, last_heartbeat, completed,
        failed, earnings_low, earnings_high,
    ) = felts  # fmt: skip
    return {
        "tier": tier,
        "gpu": bool(gpu),
        "cpu_threads": cpu_threads,
        "ram_gb": ram_gb,
        "status": status,
        "registered_at": registered_at,
        "last_heartbeat": last_heartbeat,
        "completed_tasks": completed,
        "failed_tasks": failed,
        "earnings": earnings_low + (earnings_high << 128),
    }


async def chain_state(market: Market) -> dict[str, Any]:
    """Every view of the escrow for the market's users and nodes, in the index's shapes."""
    (count,) = await market.view("get_task_count")
    tasks = {i: _task(await market.view("get_task", i)) for i in range(1, count + 1)}
    nodes = {}
    for node in sorted(market.nodes):
        felts = await market.view("get_node", node)
        nodes[hex(node)] = _node(felts)
        earnings = await market.view("get_user_earnings", node)
        assert earnings[0] + (earnings[1] << 128) == nodes[hex(node)]["earnings"]
    user_tasks = {}
    for user in sorted(market.users | market.nodes):
        (n,) = await market.view("get_user_task_count", user)
        ids = (await market.view("get_user_tasks", user, 0, 100))[1:]
        assert len(ids) == n
        user_tasks[hex(user)] = ids
    fees = await market.view("get_fee_config")
    escrowed = await market.view("escrowed_amount")
    settings = {
        "owner": hex((await market.view("owner"))[0]),
        "pending_owner": hex((await market.view("pending_owner"))[0]),
        "payment_token": hex((await market.view("payment_token"))[0]),
        "scheduler": hex((await market.view("scheduler"))[0]),
        "treasury": hex((await market.view("treasury"))[0]),
        "gas_recipient": hex((await market.view("gas_recipient"))[0]),
        "provider_bps": fees[0],
        "gas_bps": fees[1],
        "treasury_bps": fees[2],
        "max_execution_time": (await market.view("max_execution_time"))[0],
        "is_paused": bool((await market.view("is_paused"))[0]),
        "escrowed_amount": escrowed[0] + (escrowed[1] << 128),
        "task_count": count,
    }
    return {"tasks": tasks, "nodes": nodes, "user_tasks": user_tasks, "settings": settings}
