"""Typed settings, read once from ``SMAINER_*`` environment variables.

This is the only module that reads ``os.environ``: every other part takes a settings object,
so a test or a caller can build one by hand and nothing depends on hidden global state.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value, 0) if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _env_optional(name: str, convert: Callable[[str], T]) -> T | None:
    value = os.environ.get(name)
    return convert(value) if value else None


def _env_list(name: str) -> tuple[str, ...]:
    """A comma-separated variable as its non-empty items, stripped."""
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def _default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "smainer"


@dataclass(frozen=True)
class ToolchainSettings:
    """Where the pinned Cairo compilers live once fetched, and the corelib they build against."""

    cache_dir: Path = field(default_factory=_default_cache_dir)
    """Downloaded compilers are kept here, outside the repository (``SMAINER_CACHE_DIR``)."""

    pip_index_args: tuple[str, ...] = ()
    """Extra ``pip download`` arguments, e.g. a mirror (``SMAINER_PIP_ARGS``, space separated)."""

    corelib: Path | None = None
    """The Cairo 2.12 corelib that ``smainer build`` compiles against (``SMAINER_CAIRO_CORELIB``):
    the folder holding ``src/lib.cairo`` of the same release as the compiler, e.g.
    ``../shared/cairo-2.12-corelib/corelib`` or Scarb's own. The compiler's sdist lacks parts of
    its corelib. Unset: ``shared/cairo-2.12-corelib/corelib`` beside the checkout is used."""


@dataclass(frozen=True)
class DevnetSettings:
    """The embedded devnet (``smainer devnet``); command-line flags override these."""

    host: str = "127.0.0.1"
    """Interface to listen on (``SMAINER_DEVNET_HOST``); loopback by default."""

    port: int = 5050
    """TCP port (``SMAINER_DEVNET_PORT``), starknet-devnet's default."""

    seed: int = 0
    """Seed of the predeployed accounts' keys (``SMAINER_DEVNET_SEED``): same seed, same keys."""

    accounts: int = 10
    """How many funded accounts to predeploy (``SMAINER_DEVNET_ACCOUNTS``)."""

    initial_balance: int = 10**21
    """Each predeployed account's STRK balance in FRI (``SMAINER_DEVNET_INITIAL_BALANCE``)."""

    block_time: float | None = None
    """Seconds between blocks (``SMAINER_DEVNET_BLOCK_TIME``); ``None``: a block per transaction."""

    dump_path: Path | None = None
    """Where ``devnet_dump`` (and shutdown) writes the state (``SMAINER_DEVNET_DUMP_PATH``)."""

    load_path: Path | None = None
    """State file to load at start (``SMAINER_DEVNET_LOAD_PATH``)."""

    chain_id: str = "SN_SEPOLIA"
    """Chain id short string the devnet reports (``SMAINER_DEVNET_CHAIN_ID``)."""

    allowed_origins: tuple[str, ...] = ()
    """Browser origins, besides loopback pages, that may call the devnet
    (``SMAINER_DEVNET_ALLOWED_ORIGINS``, comma separated; ``*`` for any). A web page must not
    drive a local devnet (dump files, mint, reorg) unless the operator says so."""

    dump_dir: Path | None = None
    """The folder ``devnet_dump``/``devnet_load`` paths must stay in (``SMAINER_DEVNET_DUMP_DIR``);
    ``None``: ``--dump-path``'s folder if given, else ``.smainer/devnet/`` of the current
    directory."""

    allow_any_dump_path: bool = False
    """Let ``devnet_dump``/``devnet_load`` reach any path (``SMAINER_DEVNET_ALLOW_ANY_DUMP_PATH``
    set to ``1``); off, an RPC client cannot write or probe files outside :attr:`dump_dir`."""

    lite_mode: bool = False
    """starknet-devnet's ``--lite-mode`` (``SMAINER_DEVNET_LITE_MODE`` set to ``1``): mined
    blocks get their number as hash, and zero commitments and state roots, which saves the
    Poseidon hashing of each block for clients that never check them."""


@dataclass(frozen=True)
class NetworkSettings:
    """RPC endpoints of the named networks ``smainer deploy --network NAME`` understands."""

    devnet_rpc_url: str = "http://127.0.0.1:5050/rpc"
    """The embedded devnet (``SMAINER_DEVNET_RPC_URL``)."""

    sepolia_rpc_url: str | None = None
    """A Sepolia JSON-RPC 0.10 endpoint (``SMAINER_SEPOLIA_RPC_URL``); none is built in."""

    mainnet_rpc_url: str | None = None
    """A mainnet JSON-RPC 0.10 endpoint (``SMAINER_MAINNET_RPC_URL``); none is built in."""


@dataclass(frozen=True)
class AccountSettings:
    """The account that signs deployments on a real network. Secrets never appear in ``repr``."""

    address: str | None = None
    """Account contract address (``SMAINER_ACCOUNT_ADDRESS``)."""

    private_key: str | None = field(default=None, repr=False)
    """Private key (``SMAINER_PRIVATE_KEY``); prefer a keystore. Never pass it as a flag."""

    keystore: Path | None = None
    """Encrypted JSON keystore, as starkli and eth-keyfile write them (``SMAINER_KEYSTORE``)."""

    keystore_password: str | None = field(default=None, repr=False)
    """Keystore password (``SMAINER_KEYSTORE_PASSWORD``); asked for on the terminal if unset."""


@dataclass(frozen=True)
class ApiSettings:
    """How ``smainer api`` serves the index; its flags override these."""

    rate_limit: int = 600
    """Requests per minute per client address (``SMAINER_API_RATE_LIMIT``); 0 turns it off."""

    api_key_hashes: tuple[str, ...] = ()
    """SHA-256 hex digests of the API keys that lift the rate limit (``SMAINER_API_KEY_HASHES``,
    comma separated). Only hashes are configured, so no key sits in an environment file."""

    cors_origins: tuple[str, ...] = ()
    """Origins allowed by CORS (``SMAINER_API_CORS_ORIGINS``, comma separated; ``*`` for any)."""

    online_window: int = 600
    """Seconds of chain time since a node's last heartbeat or task event for it to count as
    online (``SMAINER_API_ONLINE_WINDOW``)."""


@dataclass(frozen=True)
class NotifierSettings:
    """How ``smainer notify`` follows the API and delivers task callbacks; its flags override
    these. Retries back off exponentially: ``backoff * 2 ** (attempt - 1)`` seconds, at most
    ``backoff_cap`` (:func:`smainer.backoff.backoff_delay`), until ``max_attempts`` attempts
    were made."""

    api_url: str = "http://127.0.0.1:8000"
    """The read API whose event stream is followed (``SMAINER_NOTIFY_API_URL``)."""

    store: Path = Path(".smainer/notifier.sqlite3")
    """The notifier's own SQLite file: registrations with their secrets, the delivery log and
    the stream position (``SMAINER_NOTIFY_STORE``); created readable by its owner only."""

    config_file: Path | None = None
    """A TOML file of callback registrations (``SMAINER_NOTIFY_CONFIG``), each naming the
    environment variable that holds its secret, so no secret sits in the file."""

    api_key: str | None = field(default=None, repr=False)
    """A key of the API's (``SMAINER_NOTIFY_API_KEY``), sent as a bearer token to lift its
    rate limit; never logged."""

    max_attempts: int = 12
    """Attempts per delivery before it is recorded as failed (``SMAINER_NOTIFY_MAX_ATTEMPTS``)."""

    backoff: float = 2.0
    """Seconds before the first retry, doubled for each next one (``SMAINER_NOTIFY_BACKOFF``)."""

    backoff_cap: float = 3600.0
    """Longest wait between two attempts, in seconds (``SMAINER_NOTIFY_BACKOFF_CAP``); with the
    defaults the twelfth and last attempt comes about 68 minutes after the first."""

    timeout: float = 10.0
    """Seconds a receiver has to answer one attempt (``SMAINER_NOTIFY_TIMEOUT``)."""


def read_secret_variable(name: str) -> str | None:
    """The value of the environment variable ``name``, for a notifier registration whose
    secret a config file names by variable (this module is the one that reads the
    environment)."""
    return os.environ.get(name) or None


@dataclass(frozen=True)
class Settings:
    """All of Smainer's settings, grouped by the part that uses them."""

    toolchain: ToolchainSettings = field(default_factory=ToolchainSettings)
    devnet: DevnetSettings = field(default_factory=DevnetSettings)
    networks: NetworkSettings = field(default_factory=NetworkSettings)
    account: AccountSettings = field(default_factory=AccountSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    notify: NotifierSettings = field(default_factory=NotifierSettings)


@cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings(
        toolchain=ToolchainSettings(
            cache_dir=_env_path("SMAINER_CACHE_DIR", _default_cache_dir()),
            pip_index_args=tuple(os.environ.get("SMAINER_PIP_ARGS", "").split()),
            corelib=_env_optional("SMAINER_CAIRO_CORELIB", lambda v: Path(v).expanduser()),
        ),
        devnet=DevnetSettings(
            host=os.environ.get("SMAINER_DEVNET_HOST", DevnetSettings.host),
            port=_env_int("SMAINER_DEVNET_PORT", DevnetSettings.port),
            seed=_env_int("SMAINER_DEVNET_SEED", DevnetSettings.seed),
            accounts=_env_int("SMAINER_DEVNET_ACCOUNTS", DevnetSettings.accounts),
            initial_balance=_env_int(
                "SMAINER_DEVNET_INITIAL_BALANCE", DevnetSettings.initial_balance
            ),
            block_time=_env_optional("SMAINER_DEVNET_BLOCK_TIME", float),
            dump_path=_env_optional("SMAINER_DEVNET_DUMP_PATH", Path),
            load_path=_env_optional("SMAINER_DEVNET_LOAD_PATH", Path),
            chain_id=os.environ.get("SMAINER_DEVNET_CHAIN_ID", DevnetSettings.chain_id),
            allowed_origins=_env_list("SMAINER_DEVNET_ALLOWED_ORIGINS"),
            dump_dir=_env_optional("SMAINER_DEVNET_DUMP_DIR", lambda v: Path(v).expanduser()),
            allow_any_dump_path=os.environ.get("SMAINER_DEVNET_ALLOW_ANY_DUMP_PATH", "")
            in ("1", "true", "yes"),
            lite_mode=os.environ.get("SMAINER_DEVNET_LITE_MODE", "") in ("1", "true", "yes"),
        ),
        networks=NetworkSettings(
            devnet_rpc_url=os.environ.get("SMAINER_DEVNET_RPC_URL", NetworkSettings.devnet_rpc_url),
            sepolia_rpc_url=os.environ.get("SMAINER_SEPOLIA_RPC_URL"),
            mainnet_rpc_url=os.environ.get("SMAINER_MAINNET_RPC_URL"),
        ),
        account=AccountSettings(
            address=os.environ.get("SMAINER_ACCOUNT_ADDRESS"),
            private_key=os.environ.get("SMAINER_PRIVATE_KEY"),
            keystore=_env_optional("SMAINER_KEYSTORE", Path),
            keystore_password=os.environ.get("SMAINER_KEYSTORE_PASSWORD"),
        ),
        api=ApiSettings(
            rate_limit=_env_int("SMAINER_API_RATE_LIMIT", ApiSettings.rate_limit),
            api_key_hashes=tuple(h.lower() for h in _env_list("SMAINER_API_KEY_HASHES")),
            cors_origins=_env_list("SMAINER_API_CORS_ORIGINS"),
            online_window=_env_int("SMAINER_API_ONLINE_WINDOW", ApiSettings.online_window),
        ),
        notify=NotifierSettings(
            api_url=os.environ.get("SMAINER_NOTIFY_API_URL", NotifierSettings.api_url),
            store=_env_path("SMAINER_NOTIFY_STORE", NotifierSettings.store),
            config_file=_env_optional("SMAINER_NOTIFY_CONFIG", lambda v: Path(v).expanduser()),
            api_key=os.environ.get("SMAINER_NOTIFY_API_KEY") or None,
            max_attempts=_env_int("SMAINER_NOTIFY_MAX_ATTEMPTS", NotifierSettings.max_attempts),
            backoff=_env_float("SMAINER_NOTIFY_BACKOFF", NotifierSettings.backoff),
            backoff_cap=_env_float("SMAINER_NOTIFY_BACKOFF_CAP", NotifierSettings.backoff_cap),
            timeout=_env_float("SMAINER_NOTIFY_TIMEOUT", NotifierSettings.timeout),
        ),
    )
