"""Every endpoint against an index the app built itself from a real devnet history, compared
with the contracts' own views (``chain_state``) read from the same devnet."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import duckdb
import pytest
from litestar.testing import TestClient
from poseidon_py.poseidon_hash import poseidon_hash_many
from starknet_py.net.client_models import Call

from api.app import create_app
from api.lifespan import ApiStartError, open_read_only
from api.ratelimit import hash_key
from api.settings import ApiSettings
from indexer.migrate import available_migrations, migrate
from smainer.payload import decode_json
from smainer.reputation import reputation
from tests.api.conftest import target
from tests.indexer.conftest import GAS_RECIPIENT, TREASURY, index
from tests.indexer.market import Market, chain_state

pytestmark = pytest.mark.slow
STATUS = {1: "open", 2: "assigned", 3: "completed", 4: "cancelled", 5: "expired"}
NODE_STATUS = {1: "active", 2: "inactive", 3: "suspended"}
V1 = "/api/v1"


@pytest.fixture(scope="module")
def chain(market: Market, client: TestClient) -> dict[str, Any]:
    """The contract's views, read after the app has synced (``client`` first)."""
    return asyncio.run(chain_state(market))


def ok(client: TestClient, path: str, **params: Any) -> Any:
    answer = client.get(V1 + path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def bad(client: TestClient, path: str, expect: int = 400, **params: Any) -> dict[str, Any]:
    answer = client.get(V1 + path, params=params)
    assert answer.status_code == expect, answer.text
    return answer.json()


def padded(address: str) -> str:
    """The same felt in another valid form: upper case, zero-padded to 64 digits."""
    return "0x" + address[2:].upper().rjust(64, "0")


def balance(market: Market, address: int) -> int:
    async def read() -> int:
        client = market.client()
        low, high = await client.call_contract(
            Call(market.token, _selector("balance_of"), [address])
        )
        return low + (high << 128)

    return asyncio.run(read())


def _selector(name: str) -> int:
    from starknet_py.hash.selector import get_selector_from_name

    return get_selector_from_name(name)


# -- health and stats ------------------------------------------------------------------------


def test_health_reports_the_synced_index_and_the_chain(client, market: Market):
    body = ok(client, "/health")
    head = asyncio.run(market.head())
    chain_id = asyncio.run(market.client().get_chain_id())
    assert body["status"] == "ok"
    assert body["synced"] is True
    assert body["read_only"] is False
    assert body["indexed_block"] == head
    assert body["lag_blocks"] == 0
    assert body["chain"] == {"reachable": True, "chain_id": str(chain_id), "head": head}


def test_health_is_503_with_the_same_body_until_the_index_is_usable(tmp_path, market: Market):
    unreachable = target(market)
    unreachable = type(unreachable)("http://127.0.0.1:9/rpc", unreachable.addresses, 0)
    app = create_app(ApiSettings(db=tmp_path / "never.duckdb", target=unreachable, rate_limit=0))
    with TestClient(app=app) as client:
        answer = client.get(f"{V1}/health")
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "starting"
        assert body["synced"] is False
        assert body["chain"]["reachable"] is False
        assert body["indexed_block"] is None
        # The data endpoints still answer (an empty index), never a 500.
        assert ok(client, "/tasks")["items"] == []
        assert ok(client, "/stats")["tasks_total"] == 0


def test_stats_match_the_contract(client, chain):
    stats = ok(client, "/stats")
    tasks = chain["tasks"].values()
    for code, name in STATUS.items():
        assert stats["tasks_by_status"][name] == sum(1 for t in tasks if t["status"] == code)
    assert stats["tasks_total"] == chain["settings"]["task_count"]
    assert stats["nodes_total"] == len(chain["nodes"])
    assert stats["nodes_active"] == sum(1 for n in chain["nodes"].values() if n["status"] == 1)
    assert int(stats["escrowed"]) == chain["settings"]["escrowed_amount"]
    completed = [t for t in tasks if t["status"] == 3]
    assert int(stats["settled"]) == sum(t["amount"] for t in completed)
    refunded = sum(t["amount"] for t in tasks if t["status"] in (4, 5))
    assert int(stats["refunded"]) == refunded
    earnings = sum(n["earnings"] for n in chain["nodes"].values())
    assert int(stats["paid_to_providers"]) == earnings
    paid = (
        int(stats["paid_to_providers"]) + int(stats["paid_to_gas"]) + int(stats["paid_to_treasury"])
    )
    assert paid == int(stats["settled"])
    finished = [t for t in tasks if t["status"] in (3, 5)]
    assert stats["success_rate"] == pytest.approx(len(completed) / len(finished))
    assert stats["median_completion_seconds"] == pytest.approx(
        sorted(t["completed_at"] - t["created_at"] for t in completed)[len(completed) // 2]
    )
    hours = stats["completed_per_hour"]
    assert len(hours) == 24
    assert sum(h["completed"] for h in hours) == len(completed)


# -- tasks -------------------------------------------------------------------------------------


def _same_task(item: dict[str, Any], expected: dict[str, Any]) -> None:
    assert item["id"] == expected["id"]
    assert item["status"] == STATUS[expected["status"]]
    assert item["creator"] == expected["creator"]
    assert item["kind"] == expected["kind"]
    assert int(item["amount"]) == expected["amount"]
    assert (item["node"] or "0x0") == expected["node"]
    assert item["created_at"] == expected["created_at"]
    assert (item["assigned_at"] or 0) == expected["assigned_at"]
    assert (item["deadline"] or 0) == expected["deadline"]
    assert (item["completed_at"] or 0) == expected["completed_at"]


def walk(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a task listing, following ``next_cursor``."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = ok(client, path, **params, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("limit", [1, 2, 50])
def test_task_pages_cover_every_task_once_newest_first(client, chain, limit):
    items = walk(client, "/tasks", limit=limit)
    ids = [t["id"] for t in items]
    assert ids == sorted(chain["tasks"], reverse=True)
    for item in items:
        _same_task(item, chain["tasks"][item["id"]])


def test_task_filters(client, chain, market: Market):
    tasks = chain["tasks"]
    for code, name in STATUS.items():
        got = [t["id"] for t in walk(client, "/tasks", status=name, limit=2)]
        assert got == sorted((i for i, t in tasks.items() if t["status"] == code), reverse=True)
    for user, ids in chain["user_tasks"].items():
        got = [t["id"] for t in walk(client, "/tasks", creator=padded(user))]
        assert sorted(got) == sorted(ids)
    for node in chain["nodes"]:
        got = [t["id"] for t in walk(client, "/tasks", provider=padded(node))]
        assert sorted(got) == sorted(i for i, t in tasks.items() if t["node"] == node)
    kind = next(iter(tasks.values()))["kind"]
    assert len(walk(client, "/tasks", kind="matmul")) == len(tasks)
    assert len(walk(client, "/tasks", kind=kind)) == len(tasks)
    assert walk(client, "/tasks", kind="other") == []
    times = sorted({t["created_at"] for t in tasks.values()})
    middle = times[len(times) // 2]
    after = [t["id"] for t in walk(client, "/tasks", created_after=middle)]
    assert sorted(after) == sorted(i for i, t in tasks.items() if t["created_at"] > middle)
    before = [t["id"] for t in walk(client, "/tasks", created_before=middle, status="open")]
    assert sorted(before) == sorted(
        i for i, t in tasks.items() if t["created_at"] < middle and t["status"] == 1
    )


def test_task_detail_matches_the_contract_and_the_chain(client, chain, market: Market):
    receipts = market.client()
    for task_id, expected in chain["tasks"].items():
        detail = ok(client, f"/tasks/{task_id}")
        _same_task(detail["task"], expected)
        assert detail["requirements"] == {
            k: expected[k]
            for k in ("min_tier", "gpu_required", "cpu_threads", "ram_gb", "max_execution_time")
        }
        assert detail["fees"] == {
            k: expected[k] for k in ("provider_bps", "gas_bps", "treasury_bps")
        }
        felts = [int(f, 16) for f in detail["payload_felts"]]
        assert hex(poseidon_hash_many(felts)) == expected["payload_hash"] == detail["payload_hash"]
        assert detail["payload"] == decode_json(felts)
        assert detail["payload"]["n"] == expected["amount"] % 97
        events = [e["event"] for e in detail["timeline"]]
        assert events[0] == "TaskCreated"
        final = {3: "TaskCompleted", 4: "TaskCancelled", 5: "TaskExpired"}.get(expected["status"])
        if expected["status"] >= 2 and expected["status"] != 4:
            assert "TaskAssigned" in events
        if final:
            assert events[-1] == final
        for event in detail["timeline"]:
            receipt = asyncio.run(receipts.get_transaction_receipt(event["transaction_hash"]))
            assert receipt.block_number == event["block_number"]
            assert hex(receipt.block_hash or 0) == event["block_hash"]
        if expected["status"] == 3:
            result = [int(f, 16) for f in detail["result_felts"]]
            assert hex(poseidon_hash_many(result)) == expected["result_hash"]
            settlement = detail["settlement"]
            parts = [
                int(settlement[k]) for k in ("provider_amount", "gas_amount", "treasury_amount")
            ]
            assert sum(parts) == expected["amount"]
            assert settlement["treasury"] == hex(TREASURY)
        else:
            assert detail["settlement"] is None
            assert detail["result_felts"] is None
        if expected["status"] in (4, 5):
            assert int(detail["refund"]) == expected["amount"]


def test_finished_task_pages_are_kept_until_the_indexer_rolls_back(client, chain):
    """Completed, cancelled and expired tasks' pages are served from memory after one read
    (FinishedTasks); open and assigned ones are always read; a rollback (a new generation)
    empties the memory."""
    state = client.app.state.api
    first = {task_id: ok(client, f"/tasks/{task_id}") for task_id in chain["tasks"]}
    finished = {i for i, t in chain["tasks"].items() if t["status"] in (3, 4, 5)}
    assert finished
    assert finished != set(chain["tasks"])
    generation = state.generation()
    kept = {i for i in chain["tasks"] if state.finished_tasks.get(i, generation) is not None}
    assert kept == finished
    assert {i: ok(client, f"/tasks/{i}") for i in chain["tasks"]} == first
    assert state.finished_tasks.get(min(finished), generation + 1) is None
    assert len(state.finished_tasks) == 0
    assert ok(client, f"/tasks/{min(finished)}") == first[min(finished)]


# -- nodes and accounts ------------------------------------------------------------------------


def test_nodes_match_the_contract_sorted_by_reputation(client, chain):
    items = ok(client, "/nodes")["items"]
    assert {n["address"] for n in items} == set(chain["nodes"])
    reputations = [n["reputation"] for n in items]
    assert reputations == sorted(reputations, reverse=True)
    for node in items:
        expected = chain["nodes"][node["address"]]
        assert node["status"] == NODE_STATUS[expected["status"]]
        for key in ("tier", "gpu", "cpu_threads", "ram_gb", "registered_at"):
            assert node[key] == expected[key]
        assert (node["last_heartbeat"] or 0) == expected["last_heartbeat"]
        assert node["completed_tasks"] == expected["completed_tasks"]
        assert node["failed_tasks"] == expected["failed_tasks"]
        assert int(node["earnings"]) == expected["earnings"]
        done, failed = expected["completed_tasks"], expected["failed_tasks"]
        assert node["reputation"] == pytest.approx(reputation(done, failed))


def test_node_filters_and_detail(client, chain):
    nodes = chain["nodes"]
    for code, name in NODE_STATUS.items():
        got = {n["address"] for n in ok(client, "/nodes", status=name)["items"]}
        assert got == {a for a, n in nodes.items() if n["status"] == code}
    got = {n["address"] for n in ok(client, "/nodes", min_tier=2)["items"]}
    assert got == {a for a, n in nodes.items() if n["tier"] >= 2}
    got = {n["address"] for n in ok(client, "/nodes", gpu="true")["items"]}
    assert got == {a for a, n in nodes.items() if n["gpu"]}
    online = {n["address"] for n in ok(client, "/nodes", online="true")["items"]}
    offline = {n["address"] for n in ok(client, "/nodes", online="false")["items"]}
    assert online | offline == set(nodes)
    assert not online & offline
    for address, expected in nodes.items():
        detail = ok(client, f"/nodes/{padded(address)}")
        assert detail["node"]["address"] == address
        stats = detail["stats"]
        assert stats["completed"] == expected["completed_tasks"]
        assert stats["failed"] == expected["failed_tasks"]
        assert int(stats["earnings"]) == expected["earnings"]
        assigned = [t for t in chain["tasks"].values() if t["node"] == address]
        assert stats["total_tasks"] == len(assigned)
        assert stats["assigned_now"] == sum(1 for t in assigned if t["status"] == 2)
        finished = expected["completed_tasks"] + expected["failed_tasks"]
        if finished:
            assert stats["success_rate"] == pytest.approx(expected["completed_tasks"] / finished)
        completed = [t for t in assigned if t["status"] == 3]
        if completed:
            average = sum(t["completed_at"] - t["assigned_at"] for t in completed) / len(completed)
            assert stats["average_completion_seconds"] == pytest.approx(average)


def test_account_tasks_earnings_and_history(client, chain, market: Market):
    tasks = chain["tasks"]
    for user in sorted(chain["user_tasks"]):
        got = sorted(t["id"] for t in walk(client, f"/accounts/{padded(user)}/tasks", limit=1))
        expected = sorted(i for i, t in tasks.items() if user in (t["creator"], t["node"]))
        assert got == expected
        history = ok(client, f"/accounts/{padded(user)}/history")
        assert history["address"] == user
        paid_in = sum(int(m["amount"]) for m in history["movements"] if m["direction"] == "in")
        paid_out = sum(int(m["amount"]) for m in history["movements"] if m["direction"] == "out")
        created = [t for t in tasks.values() if t["creator"] == user]
        assert paid_in == sum(t["amount"] for t in created)
        refunds = sum(t["amount"] for t in created if t["status"] in (4, 5))
        assert paid_out == refunds + chain["nodes"].get(user, {}).get("earnings", 0)
    for node, expected in chain["nodes"].items():
        earnings = ok(client, f"/accounts/{node}/earnings")
        assert int(earnings["as_provider"]) == expected["earnings"]
    for recipient, role in ((TREASURY, "as_treasury"), (GAS_RECIPIENT, "as_gas_recipient")):
        earnings = ok(client, f"/accounts/{hex(recipient)}/earnings")
        assert int(earnings[role]) == balance(market, recipient) > 0
        assert int(earnings["total"]) == int(earnings[role])


# -- errors ------------------------------------------------------------------------------------


def test_bad_parameters_are_400_naming_the_parameter(client):
    cases = [
        ("/tasks", {"status": "running"}, "status"),
        ("/tasks", {"creator": "0xZZ"}, "creator"),
        ("/tasks", {"provider": "12"}, "provider"),
        ("/tasks", {"creator": hex(2**251 + 17 * 2**192 + 1)}, "creator"),
        ("/tasks", {"cursor": "not-a-cursor"}, "cursor"),
        ("/tasks", {"cursor": "dDE6LTE"}, "cursor"),
        ("/tasks", {"limit": "501"}, "limit"),
        ("/tasks", {"limit": "0"}, "limit"),
        ("/tasks", {"limit": "-3"}, "limit"),
        ("/tasks", {"created_after": "yesterday"}, "created_after"),
        ("/tasks", {"kind": "x" * 40}, "kind"),
        ("/tasks/abc", {}, "task_id"),
        ("/tasks/0", {}, "task_id"),
        ("/tasks/" + "9" * 30, {}, "task_id"),
        ("/nodes", {"status": "open"}, "status"),
        ("/nodes", {"min_tier": "x"}, "min_tier"),
        ("/nodes", {"gpu": "maybe"}, "gpu"),
        ("/nodes", {"online": "2"}, "online"),
        ("/nodes/0xnothex", {}, "address"),
        ("/accounts/hello/tasks", {}, "address"),
        ("/accounts/0x1/tasks", {"status": "x"}, "status"),
        ("/accounts/0x/earnings", {}, "address"),
        ("/accounts/0x1" + "0" * 70 + "/history", {}, "address"),
        ("/events/stream", {"from_block": "-1"}, "from_block"),
    ]
    for path, params, parameter in cases:
        answer = client.get(V1 + path, params=params)
        assert answer.status_code == 400, (path, params, answer.text)
        body = answer.json()
        assert body["parameter"] == parameter, (path, params, body)
        assert parameter in body["error"] or parameter == "address", body


def test_unknown_ids_are_404(client, chain):
    missing = max(chain["tasks"]) + 1
    assert "no task" in bad(client, f"/tasks/{missing}", 404)["error"]
    assert "no node" in bad(client, "/nodes/0x123456789", 404)["error"]
    assert bad(client, "/no/such/path", 404)["status_code"] == 404


def test_an_issued_cursor_keeps_its_filters_meaning(client, chain):
    first = ok(client, "/tasks", limit=1)
    second = ok(client, "/tasks", limit=1, cursor=first["next_cursor"])
    assert second["items"][0]["id"] == first["items"][0]["id"] - 1


# -- quote, and the stream ---------------------------------------------------------------------


def quote_body(amount: int, **requirements: Any) -> dict[str, Any]:
    return {
        "payload": {"algorithm": "matrix_multiplication", "n": 5},
        "amount": str(amount),
        "kind": "matmul",
        "requirements": {"max_execution_time": 600, **requirements},
    }


def test_quote_errors(client):
    answer = client.post(f"{V1}/tasks/quote", json=quote_body(0))
    assert answer.status_code == 400
    assert answer.json()["parameter"] == "amount"
    answer = client.post(f"{V1}/tasks/quote", json=quote_body(10, min_tier=9))
    assert answer.status_code == 400
    assert answer.json()["parameter"] == "requirements.min_tier"
    answer = client.post(f"{V1}/tasks/quote", json=quote_body(10, max_execution_time=10**9))
    assert answer.status_code == 400
    assert answer.json()["parameter"] == "requirements.max_execution_time"
    answer = client.post(
        f"{V1}/tasks/quote", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    answer = client.post(f"{V1}/tasks/quote", json={"amount": "5"})
    assert answer.status_code == 400
    big = {**quote_body(10), "payload": "x" * 8000}
    answer = client.post(f"{V1}/tasks", json=big)
    assert answer.status_code == 200
    body = answer.json()
    assert body["payload_error"]
    assert "bytes" in body["payload_error"]
    assert body["calls"] == []
    assert body["payload_felts"] is None


def test_quote_gives_calls_that_create_the_task_on_chain_and_it_streams_live(
    client, chain, market: Market
):
    amount = 12_345_678_901_234_567
    answer = client.post(f"{V1}/tasks/quote", json=quote_body(amount, min_tier=1))
    assert answer.status_code == 200, answer.text
    quote = answer.json()
    fees = asyncio.run(market.view("get_fee_config"))
    assert quote["fees"] == dict(
        zip(("provider_bps", "gas_bps", "treasury_bps"), fees, strict=True)
    )
    assert sum(int(v) for v in quote["split"].values()) == amount
    eligible = {a for a, n in chain["nodes"].items() if n["status"] == 1 and n["tier"] >= 1}
    assert {n["address"] for n in quote["eligible_nodes"]} == eligible
    assert [c["entrypoint"] for c in quote["calls"]] == ["approve", "create_task"]
    assert client.post(f"{V1}/tasks", json=quote_body(amount, min_tier=1)).json() == quote
    stats_before = ok(client, "/stats")  # cached until the next indexed batch

    # Listen for the next indexed events, then sign the quote's calls and send them.
    streamed: list[str] = []

    def listen() -> None:
        with client.stream("GET", f"{V1}/events/stream", params={"limit": "3"}) as response:
            assert response.status_code == 200
            streamed.extend(line for line in response.iter_lines() if line.startswith("data:"))

    listener = threading.Thread(target=listen)
    listener.start()
    try:
        time.sleep(1.0)  # the stream's first poll marks where "new" starts
        calls = [
            Call(int(c["to"], 16), int(c["selector"], 16), [int(v, 16) for v in c["calldata"]])
            for c in quote["calls"]
        ]
        customer = 2
        asyncio.run(market.send(customer, *calls))
    finally:
        listener.join(timeout=30)
    assert not listener.is_alive()
    (count,) = asyncio.run(market.view("get_task_count"))
    events = [json.loads(line.removeprefix("data:").strip()) for line in streamed]
    created = [e for e in events if e["event"] == "TaskCreated"]
    assert len(created) == 1
    assert created[0]["values"]["task_id"] == count
    on_chain = asyncio.run(market.view("get_task", count))
    assert hex(on_chain[3]) == quote["payload_hash"]
    assert on_chain[9] + (on_chain[10] << 128) == amount
    wait = 0
    while client.get(f"{V1}/tasks/{count}").status_code == 404 and wait < 100:
        time.sleep(0.1)
        wait += 1
    detail = ok(client, f"/tasks/{count}")
    assert detail["payload_hash"] == quote["payload_hash"]
    assert detail["payload"] == quote_body(amount)["payload"]
    stats = ok(client, "/stats")
    assert stats["tasks_total"] == count == stats_before["tasks_total"] + 1
    assert stats["tasks_by_status"]["open"] == stats_before["tasks_by_status"]["open"] + 1


def test_stream_replays_from_a_block(client, market: Market):
    with client.stream(
        "GET", f"{V1}/events/stream", params={"from_block": "0", "limit": "4"}
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("event:")]
    names = [line.removeprefix("event:").strip() for line in lines]
    assert len(names) == 4
    assert "EscrowInitialized" in names


def test_openapi_schema_lists_the_endpoints(client):
    schema = client.get("/schema/openapi.json").json()
    for path in (
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}",
        "/api/v1/tasks/quote",
        "/api/v1/nodes/{address}",
        "/api/v1/accounts/{address}/history",
        "/api/v1/events/stream",
        "/api/v1/health",
        "/api/v1/stats",
    ):
        assert path in schema["paths"]
    assert "TaskDetail" in json.dumps(schema["components"])


# -- read-only serving, the rate limit, and no 500s ----------------------------------------------


@pytest.fixture(scope="module")
def finished(market: Market, client: TestClient, tmp_path_factory) -> Any:
    """An index file written by the indexer on its own (``smainer index``'s path), finished."""
    db = tmp_path_factory.mktemp("finished") / "finished.duckdb"
    asyncio.run(index(market, db))
    return db


def test_read_only_serves_a_finished_index_like_the_live_one(finished, client):
    app = create_app(ApiSettings(db=finished, read_only=True, rate_limit=0))
    with TestClient(app=app) as reader:
        health = reader.get(f"{V1}/health")
        assert health.status_code == 200
        body = health.json()
        assert body["read_only"] is True
        assert body["chain"]["reachable"] is None
        assert body["indexed_block"] == ok(client, "/health")["indexed_block"]
        assert ok(reader, "/stats") == ok(client, "/stats")
        assert ok(reader, "/tasks", limit=500) == ok(client, "/tasks", limit=500)
        assert ok(reader, "/nodes") == ok(client, "/nodes")


def test_a_missing_or_foreign_file_is_refused_read_only(tmp_path):
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(ApiStartError, match="not a Smainer index"):
        open_read_only(str(foreign))
    with pytest.raises(ApiStartError, match="cannot open"):
        open_read_only(str(tmp_path / "missing.duckdb"))


def test_an_index_of_an_older_schema_is_refused_read_only(tmp_path):
    """Read-only serving never migrates, and an older schema lacks what the queries read."""
    older = tmp_path / "older.duckdb"
    con = duckdb.connect(str(older))
    migrate(con, available_migrations()[:-1])
    con.close()
    with pytest.raises(ApiStartError, match="older than this Smainer's"):
        open_read_only(str(older))
    con = duckdb.connect(str(older))
    migrate(con)
    con.close()
    open_read_only(str(older)).close()


def test_rate_limit_answers_429_with_retry_after_and_keys_lift_it(finished):
    key = "k3y-for-tests"
    settings = ApiSettings(
        db=finished, read_only=True, rate_limit=3, api_key_hashes=frozenset({hash_key(key)})
    )
    with TestClient(app=create_app(settings)) as limited:
        codes = [limited.get(f"{V1}/stats").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        answer = limited.get(f"{V1}/tasks")
        assert answer.status_code == 429
        assert 1 <= int(answer.headers["retry-after"]) <= 60
        assert answer.json()["status_code"] == 429
        assert limited.get(f"{V1}/health").status_code == 200, "health is never limited"
        wrong = {"Authorization": "Bearer not-the-key"}
        assert limited.get(f"{V1}/stats", headers=wrong).status_code == 429
        right = {"Authorization": f"Bearer {key}"}
        assert all(limited.get(f"{V1}/stats", headers=right).status_code == 200 for _ in range(5))


@pytest.mark.parametrize(
    "value",
    ["", " ", "%00", "0x", "-1", "1e3", "\u00e9", "' OR 1=1 --", "0x" + "f" * 65, "9" * 400, "[]"],
)
def test_odd_inputs_never_give_a_500(client, value):
    paths = [
        "/tasks",
        "/nodes",
        f"/tasks/{value}",
        f"/nodes/{value}",
        f"/accounts/{value}/tasks",
        f"/accounts/{value}/earnings",
        f"/accounts/{value}/history",
    ]
    names = [
        "status",
        "creator",
        "provider",
        "kind",
        "created_after",
        "created_before",
        "limit",
        "cursor",
        "min_tier",
        "gpu",
        "online",
    ]
    for path in paths:
        for name in names:
            answer = client.get(V1 + path, params={name: value})
            assert answer.status_code in (200, 400, 404), (path, name, answer.text)
    answer = client.post(f"{V1}/tasks/quote", json={"payload": value, "amount": value})
    assert answer.status_code in (200, 400), answer.text


def test_smainer_api_serves_the_devnet_and_stops_on_ctrl_c(market: Market, tmp_path, client):
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "smainer.cli", "api", "--network", market.rpc_url]
    command += ["--manifest", str(market.manifest), "--db", str(tmp_path / "cli.duckdb")]
    command += ["--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        head = asyncio.run(market.head())
        deadline = time.monotonic() + 60
        body: dict[str, Any] = {}
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{V1}/health") as answer:
                    body = json.loads(answer.read())
                    if body["indexed_block"] == head:
                        break
            except OSError:
                pass
            time.sleep(0.2)
        assert body.get("indexed_block") == head, body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{V1}/stats") as answer:
            assert json.loads(answer.read())["tasks_total"] == ok(client, "/stats")["tasks_total"]
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "stopped at block" in output
