"""``POST /tasks/quote``: what creating a task would take, computed from the index alone.

It packs the payload exactly as ``smainer task create`` does (``smainer.payload``), splits the
amount by the escrow's current fee configuration with the contract's own arithmetic
(docs/protocol.md "Fee arithmetic"), lists the nodes that meet the requirements now, and writes
the two unsigned calls (``approve``, ``create_task``) a wallet signs as one multicall. It sends
nothing and holds no key.

The call building repeats four lines of ``provider/escrow.py`` (``u256``, short strings,
selectors): services may not import each other, so those belong in ``smainer/`` (see the report
of issue 15).
"""

from __future__ import annotations

from starknet_py.hash.selector import get_selector_from_name

from api import schemas
from api.errors import BadParameterError, UnavailableError
from api.params import U256_MAX, shortstring
from api.queries import IndexReader
from smainer.payload import PayloadError, encode_json, payload_hash

U128 = 2**128
BPS = 10_000
MAX_TIER = 5


def split_amount(amount: int, gas_bps: int, treasury_bps: int) -> schemas.Split:
    """The escrow's split: floor for gas and treasury, the remainder (dust) to the provider."""
    gas = (amount // BPS) * gas_bps + ((amount % BPS) * gas_bps) // BPS
    treasury = (amount // BPS) * treasury_bps + ((amount % BPS) * treasury_bps) // BPS
    return schemas.Split(
        provider=str(amount - gas - treasury), gas=str(gas), treasury=str(treasury)
    )


def _u256(value: int) -> list[int]:
    return [value % U128, value // U128]


def _call(to: str, name: str, calldata: list[int]) -> schemas.CallOut:
    return schemas.CallOut(
        to=to,
        entrypoint=name,
        selector=hex(get_selector_from_name(name)),
        calldata=[hex(v) for v in calldata],
    )


def parse_amount(value: str) -> int:
    text = str(value).strip()
    if not text.isdigit() or len(text) > 80:
        raise BadParameterError(
            "amount must be a positive integer of base units", parameter="amount"
        )
    amount = int(text)
    if not 0 < amount <= U256_MAX:
        raise BadParameterError("amount must be in 1..2**256-1", parameter="amount")
    return amount


def check_requirements(req: schemas.Requirements, bound: int) -> None:
    """The escrow's checks on requirements (docs/protocol.md), each a 400 naming the field."""
    checks = [
        ("min_tier", 0 <= req.min_tier <= MAX_TIER, f"0..{MAX_TIER}"),
        ("cpu_threads", 0 <= req.cpu_threads < 2**16, "0..65535"),
        ("ram_gb", 0 <= req.ram_gb < 2**16, "0..65535"),
        ("max_execution_time", 1 <= req.max_execution_time <= bound, f"1..{bound} s"),
    ]
    for name, ok, allowed in checks:
        if not ok:
            raise BadParameterError(
                f"requirements.{name} must be {allowed} on this escrow",
                parameter=f"requirements.{name}",
            )


def quote(reader: IndexReader, request: schemas.QuoteRequest) -> schemas.Quote:
    amount = parse_amount(request.amount)
    kind = shortstring(request.kind, "kind")
    settings = reader.settings()
    contracts = reader.contracts()
    if settings is None or "Escrow" not in contracts or "Token" not in contracts:
        raise UnavailableError("the index has not seen the escrow's deployment yet")
    bound = int(settings["max_execution_time"])
    req = request.requirements
    check_requirements(req, bound)
    felts: list[int] | None
    try:
        felts = encode_json(request.payload)
        error = None
    except PayloadError as exc:
        felts, error = None, str(exc)
    except (TypeError, ValueError) as exc:
        raise BadParameterError(f"payload is not JSON: {exc}", parameter="payload") from None
    nodes = reader.nodes(
        status=1,
        min_tier=req.min_tier,
        gpu=True if req.gpu_required else None,
        cpu_threads=req.cpu_threads,
        ram_gb=req.ram_gb,
    )
    escrow, token = contracts["Escrow"], contracts["Token"]
    requirement_felts = [
        req.min_tier,
        int(req.gpu_required),
        req.cpu_threads,
        req.ram_gb,
        req.max_execution_time,
    ]
    calls = []
    if felts is not None:
        calls = [
            _call(token, "approve", [int(escrow, 16), *_u256(amount)]),
            _call(
                escrow,
                "create_task",
                [kind, len(felts), *felts, *requirement_felts, *_u256(amount)],
            ),
        ]
    return schemas.Quote(
        eligible_nodes=nodes,
        payload_felts=None if felts is None else [hex(f) for f in felts],
        payload_hash=None if felts is None else hex(payload_hash(felts)),
        payload_error=error,
        fees=schemas.Fees(
            provider_bps=int(settings["provider_bps"]),
            gas_bps=int(settings["gas_bps"]),
            treasury_bps=int(settings["treasury_bps"]),
        ),
        split=split_amount(amount, int(settings["gas_bps"]), int(settings["treasury_bps"])),
        max_execution_time=bound,
        paused=bool(settings["is_paused"]),
        calls=calls,
    )
