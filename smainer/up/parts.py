"""What ``smainer up`` runs: each part of the network as one ``smainer`` command line.

Every part is its own process (JAX, DuckDB and the Cairo VM stay out of each other's way) and
is started through the CLI, so ``smainer up`` imports no service: it only knows the commands a
user would type in separate terminals (docs/up.md), in the order they depend on each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

MAX_PROVIDERS = 8
"""Predeployed accounts: 0 deploys and schedules, 1..N provide, N+1 demands; the devnet has 10."""

DEVNET_ACCOUNTS = 10

ALL_PARTS = ("devnet", "deploy", "api", "scheduler", "provider", "notify", "demo")
"""Every kind of part, in start order (a network other than the devnet runs a subset)."""

HEARTBEAT = '"event":"node.heartbeat"'
"""A provider's log line once its node is registered and has sent its first heartbeat."""

REMOTE_DEFAULT = ("api", "notify")
"""Parts run against another network when ``--parts`` does not say: the ones that only read."""


@dataclass(frozen=True)
class NodeSpec:
    """The capabilities a demo provider registers, distinct per provider so the scheduler's
    choices show on the dashboard."""

    tier: int
    cpu_threads: int
    ram_gb: int

    def flags(self) -> list[str]:
        return [
            "--tier", str(self.tier),
            "--cpu-threads", str(self.cpu_threads),
            "--ram-gb", str(self.ram_gb),
            "--no-gpu",
        ]  # fmt: skip


NODE_SPECS = (
    NodeSpec(tier=3, cpu_threads=8, ram_gb=16),
    NodeSpec(tier=2, cpu_threads=4, ram_gb=8),
    NodeSpec(tier=4, cpu_threads=16, ram_gb=32),
    NodeSpec(tier=1, cpu_threads=2, ram_gb=4),
)
"""No spec reaches tier 5 or has a GPU: the demo's tasks that must be cancelled ask for those."""


@dataclass(frozen=True)
class Part:
    """One process of the network and how to tell it is up."""

    name: str
    argv: tuple[str, ...]
    """The ``smainer`` command's arguments (run as ``python -m smainer ...``)."""

    ready_url: str | None = None
    """A URL that answers 200 once the part is usable."""

    ready_log: str | None = None
    """Text that the part's log shows once it is usable (with neither: started is ready)."""

    oneshot: bool = False
    """Runs to completion (the deployment); ``up`` goes on only if it exits with 0."""

    essential: bool = False
    """Its death ends the network (the devnet: its chain lives in its memory)."""

    shows: str = ""
    """What to print beside the part's name once it is up."""

    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UpOptions:
    """``smainer up``'s flags."""

    network: str = "devnet"
    demo: bool = False
    providers: int = 2
    host: str = "127.0.0.1"
    port: int = 8000
    """The API's and dashboard's port."""
    rpc_port: int = 5050
    """The devnet's port."""
    run_dir: Path = Path(".smainer/up")
    """Logs of every part, the index and the providers' journals."""
    manifest_dir: Path = Path("deployments")
    parts: tuple[str, ...] | None = None
    """Which parts to run against a network other than the devnet (default: REMOTE_DEFAULT)."""
    demo_interval: float | None = None
    """Seconds between demo tasks (``None``: the demo's own default)."""

    @property
    def on_devnet(self) -> bool:
        return self.network == "devnet"

    @property
    def rpc_url(self) -> str | None:
        return f"http://{self.host}:{self.rpc_port}/rpc" if self.on_devnet else None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def notify_store(self) -> Path:
        """The notifier's registrations, deliveries and stream position for this network."""
        return self.run_dir / "notifier.sqlite3"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"


class PlanError(ValueError):
    """Options that cannot make a network (said before anything starts)."""


def check(options: UpOptions) -> tuple[str, ...]:
    """The parts to run; :class:`PlanError` for options that do not fit together."""
    if options.on_devnet:
        if options.parts is not None:
            raise PlanError("--parts is for other networks: on the devnet every part runs")
        if not 1 <= options.providers <= MAX_PROVIDERS:
            raise PlanError(
                f"--providers must be 1..{MAX_PROVIDERS} on the devnet (one predeployed account "
                "each, beside the deployer's and the demo's)"
            )
        return ALL_PARTS if options.demo else tuple(p for p in ALL_PARTS if p != "demo")
    if options.demo:
        raise PlanError("--demo runs on the devnet only: it spends from predeployed accounts")
    chosen = options.parts if options.parts is not None else REMOTE_DEFAULT
    unknown = [p for p in chosen if p not in ALL_PARTS]
    if unknown:
        raise PlanError(
            f"unknown part {unknown[0]!r}: choose from api, notify, scheduler, provider"
        )
    local_only = [p for p in chosen if p in ("devnet", "deploy", "demo")]
    if local_only:
        raise PlanError(f"{local_only[0]} runs on the devnet only (deploy with `smainer deploy`)")
    if "provider" in chosen and options.providers != 1:
        raise PlanError(
            "on another network each provider needs its own account: run one (--providers 1), "
            "signed by SMAINER_ACCOUNT_*, per `smainer up`"
        )
    return tuple(p for p in ALL_PARTS if p in chosen)


def plan(options: UpOptions) -> list[Part]:
    """The parts of the network in start order (see :func:`check` for what may be refused)."""
    kinds = check(options)
    network = ["--network", options.network, "--manifest-dir", str(options.manifest_dir)]
    env = {"SMAINER_DEVNET_RPC_URL": options.rpc_url} if options.rpc_url else {}
    api = options.api_url
    parts: list[Part] = []
    for kind in kinds:
        if kind == "devnet":
            parts.append(
                Part(
                    "devnet",
                    ("devnet", "--host", options.host, "--port", str(options.rpc_port),
                     "--accounts", str(DEVNET_ACCOUNTS)),
                    ready_url=f"http://{options.host}:{options.rpc_port}/is_alive",
                    essential=True,
                    shows=f"JSON-RPC on {options.rpc_url}",
                )
            )  # fmt: skip
        elif kind == "deploy":
            parts.append(Part("deploy", ("deploy", *network), oneshot=True, env=env))
        elif kind == "api":
            parts.append(
                Part(
                    "api",
                    ("api", *network, "--host", options.host, "--port", str(options.port),
                     "--db", str(options.run_dir / "index.duckdb")),
                    ready_url=f"{api}/api/v1/health",
                    shows=f"indexing; dashboard on {api}/",
                    env=env,
                )
            )  # fmt: skip
        elif kind == "scheduler":
            signer = ["--devnet-account", "0"] if options.on_devnet else []
            parts.append(
                Part(
                    "scheduler",
                    ("scheduler", *network, *signer, "--interval", "2"),
                    ready_log="signing as",
                    shows="assigns open tasks as blocks arrive (every 2 s at the latest)",
                    env=env,
                )
            )
        elif kind == "provider":
            parts.extend(_providers(options, network, env))
        elif kind == "notify":
            parts.append(
                Part(
                    "notify",
                    ("notify", "--api", api, "--store", str(options.notify_store)),
                    shows=f"signed callbacks (smainer notify --store {options.notify_store} "
                    "add URL --creator ADDRESS)",
                )
            )
        elif kind == "demo":
            interval = (
                [] if options.demo_interval is None else ["--interval", str(options.demo_interval)]
            )
            account = str(options.providers + 1)
            parts.append(
                Part(
                    "demo",
                    ("task", "demo", *network, "--devnet-account", account, *interval),
                    shows=f"sample tasks from devnet account {account}",
                    env=env,
                )
            )
    return parts


def _providers(options: UpOptions, network: Sequence[str], env: dict[str, str]) -> list[Part]:
    common = [*network, "--heartbeat-interval", "60", "--poll-interval", "2"]
    if not options.on_devnet:
        return [
            Part(
                "provider",
                ("provider", *common),
                ready_log=HEARTBEAT,
                shows="signed by SMAINER_ACCOUNT_*",
            )
        ]
    parts = []
    for i in range(1, options.providers + 1):
        spec = NODE_SPECS[(i - 1) % len(NODE_SPECS)]
        journal = options.run_dir / f"provider-{i}.journal"
        parts.append(
            Part(
                f"provider-{i}",
                ("provider", *common, "--devnet-account", str(i), *spec.flags(),
                 "--journal", str(journal)),
                ready_log=HEARTBEAT,
                shows=f"devnet account {i}, tier {spec.tier}, {spec.cpu_threads} threads, "
                f"{spec.ram_gb} GB",
                env=env,
            )
        )  # fmt: skip
    return parts
