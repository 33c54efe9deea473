"""The ``devnet_*`` methods, with starknet-devnet's parameter and result shapes.

starknet-devnet's documentation (``website/docs``: balance, blocks, starknet-time,
dump-load-restart, predeployed, api, account-impersonation, gas) defines them; starknet-py's
``DevnetClient`` and starknet-devnet-js call them, so names, params and result keys follow it
exactly (e.g. ``new_balance`` as a decimal string, ``timestamp_increased_by``).
``devnet_getStatus`` is this devnet's own (starknet-devnet has none).
"""

from __future__ import annotations

import logging
import math
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from devnet.codec import BlockId, Json, felt, parse_block_id
from devnet.dispatch import Dispatcher
from devnet.errors import DevnetError, InvalidParamsError
from devnet.methods.reads import SPEC_VERSION
from devnet.state import Devnet
from smainer.config import DevnetSettings

__all__ = [
    "GAS_PRICE_PARAMS",
    "dump_folder",
    "parse_amount",
    "parse_gas_price",
    "parse_seconds",
    "register",
]

log = logging.getLogger("devnet.rpc")

U256 = 2**256
U128 = 2**128
U64 = 2**64

GAS_PRICE_PARAMS = {
    "gas_price_wei": "l1_gas_wei",
    "data_gas_price_wei": "l1_data_gas_wei",
    "gas_price_fri": "l1_gas_fri",
    "data_gas_price_fri": "l1_data_gas_fri",
    "l2_gas_price_wei": "l2_gas_wei",
    "l2_gas_price_fri": "l2_gas_fri",
}
"""``devnet_setGasPrice``'s params (starknet-devnet's names) -> :class:`GasPrices` fields."""


_DECIMAL = re.compile(r"[0-9]{1,78}", re.ASCII)
_HEX = re.compile(r"0x[0-9a-fA-F]{1,64}", re.ASCII)


def parse_amount(value: Any, name: str = "amount") -> int:
    """A token amount: a finite, non-negative integer below 2^256, as a JSON number (an
    integral float such as ``1e21`` included, as starknet-devnet takes them) or a decimal or
    ``0x`` string. NaN, infinities, ``1e400`` and fractions are ``-32602``."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            number = int(value)
    elif isinstance(value, str):
        if _DECIMAL.fullmatch(value):
            number = int(value)
        elif _HEX.fullmatch(value):
            number = int(value, 16)
    if number is None or not 0 <= number < U256:
        raise InvalidParamsError(f"{name} must be an integer in [0, 2^256), got {value!r:.80}")
    return number


def parse_seconds(value: Any, name: str = "time") -> int:
    """Seconds as Starknet keeps them: a JSON integer in u64."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < U64:
        raise InvalidParamsError(f"{name} must be an integer of seconds in u64, got {value!r:.80}")
    return value


def parse_gas_price(value: Any, name: str) -> int:
    """A gas price as starknet-devnet takes it (``NonZeroU128``): a JSON integer in
    ``[1, 2^128)``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < U128:
        raise InvalidParamsError(f"{name} must be an integer in [1, 2^128), got {value!r:.80}")
    return value


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidParamsError(f"{name} must be a boolean")
    return value


def _version() -> str:
    try:
        return metadata.version("smainer")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def dump_folder(settings: DevnetSettings) -> Path:
    """The folder ``devnet_dump``/``devnet_load`` paths must stay in: ``--dump-dir``, else the
    ``--dump-path``'s folder, else ``.smainer/devnet/`` of the current directory."""
    if settings.dump_dir is not None:
        return settings.dump_dir.expanduser().resolve()
    if settings.dump_path is not None:
        return settings.dump_path.expanduser().resolve().parent
    return (Path.cwd() / ".smainer" / "devnet").resolve()


def _rpc_path(value: Any, settings: DevnetSettings) -> Path:
    """A client's path, relative ones inside :func:`dump_folder`; outside it only with
    ``--allow-any-dump-path``. Never tells whether a refused path exists."""
    if not isinstance(value, str) or not value or "\x00" in value or len(value) > 4096:
        raise InvalidParamsError("path must be a file path")
    folder = dump_folder(settings)
    path = (folder / Path(value).expanduser()).resolve()
    if not settings.allow_any_dump_path and not path.is_relative_to(folder):
        raise DevnetError(f"path must be inside {folder} (see --allow-any-dump-path)")
    return path


def _unit(value: Any) -> str:
    if value not in ("FRI", "WEI"):
        raise InvalidParamsError(f"unit must be 'FRI' or 'WEI', got {value!r}")
    return str(value)


def register(dispatcher: Dispatcher, devnet: Devnet) -> None:
    """Add every ``devnet_*`` method served by ``devnet`` to ``dispatcher``."""
    method = dispatcher.method

    @method("devnet_mint")
    def mint(address: Any, amount: Any, unit: Any = "FRI") -> Json:
        target, value, currency = felt(address, "address"), parse_amount(amount), _unit(unit)
        token = "STRK" if currency == "FRI" else "ETH"
        if devnet.balance(target, currency) + value >= U256:
            raise InvalidParamsError(f"the {token} balance would overflow u256")
        new_balance, located = devnet.mint(target, value, currency)
        return {
            "new_balance": str(new_balance),
            "unit": unit,
            "tx_hash": hex(located.transaction.transaction_hash),
        }

    @method("devnet_getAccountBalance")
    def get_account_balance(
        address: Any, unit: Any = "FRI", block_id: Any = None, block_tag: Any = None
    ) -> Json:
        # starknet-devnet names it block_id; starknet-py 0.30's DevnetClient sends block_tag.
        raw = block_id if block_id is not None else block_tag
        parsed = BlockId(tag="latest") if raw is None else parse_block_id(raw)
        amount = devnet.balance(felt(address, "address"), _unit(unit), parsed)
        return {"amount": str(amount), "unit": unit}

    @method("devnet_createBlock")
    def create_block() -> Json:
        return {"block_hash": hex(devnet.create_block().block_hash or 0)}

    @method("devnet_abortBlocks")
    def abort_blocks(starting_block_id: Any) -> Json:
        aborted = devnet.abort_blocks(parse_block_id(starting_block_id, "starting_block_id"))
        return {"aborted": [hex(block.block_hash or 0) for block in aborted]}

    @method("devnet_setTime")
    def set_time(time: Any, generate_block: Any = True) -> Json:
        if not isinstance(generate_block, bool):
            raise InvalidParamsError("generate_block must be a boolean")
        timestamp = parse_seconds(time)
        block = devnet.set_time(timestamp, generate_block=generate_block)
        out: Json = {"block_timestamp": timestamp}
        if block is not None:
            out["block_hash"] = hex(block.block_hash or 0)
        return out

    @method("devnet_increaseTime")
    def increase_time(time: Any) -> Json:
        seconds = parse_seconds(time)
        now = devnet.get_block(BlockId(tag="pre_confirmed")).timestamp
        if now + seconds >= U64:
            raise InvalidParamsError(f"time: {now} + {seconds} s leaves u64")
        block = devnet.increase_time(seconds)
        return {"timestamp_increased_by": seconds, "block_hash": hex(block.block_hash or 0)}

    @method("devnet_dump")
    def dump(path: Any = None) -> Any:
        settings = devnet.settings
        target = _rpc_path(path, settings) if path is not None else settings.dump_path
        if target is None:  # without a path, the dump is the answer (as starknet-devnet does)
            return devnet.dump(None)
        if settings.dump_dir is None and settings.dump_path is None:
            folder = dump_folder(settings)  # the default folder is made on first use
            if target.is_relative_to(folder):
                folder.mkdir(parents=True, exist_ok=True)
        try:
            devnet.dump(target)
        except InvalidParamsError as exc:  # the dump writer's own refusal
            raise DevnetError(f"cannot write {target}: {exc.data}") from None
        except OSError as exc:
            log.info("devnet_dump to %s failed: %s", target, exc.strerror or exc)
            raise DevnetError(f"cannot write {target}: {exc.strerror or exc}") from None
        return None

    @method("devnet_load")
    def load(path: Any) -> None:
        try:
            target = _rpc_path(path, devnet.settings)
        except DevnetError:
            target = None  # refused: answered exactly as a missing file, revealing nothing
        if target is None or not target.is_file():
            raise DevnetError(f"no devnet dump to load at {path!r:.200}")
        try:
            devnet.load(target)
        except InvalidParamsError as exc:  # the dump reader's own account of what is wrong
            raise DevnetError(f"{target} is not a devnet dump: {exc.data}") from None
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            log.info("devnet_load of %s failed: %s: %s", target, type(exc).__name__, exc)
            raise DevnetError(f"{target} is not a devnet dump") from None

    @method("devnet_restart")
    def restart(restart_l1_to_l2_messaging: Any = False) -> None:
        devnet.restart()

    @method("devnet_getPredeployedAccounts")
    def get_predeployed_accounts(with_balance: Any = False) -> list[Json]:
        accounts = []
        for account in devnet.predeployed_accounts:
            entry: Json = {
                "initial_balance": str(account.initial_balance),
                "address": hex(account.address),
                "public_key": hex(account.public_key),
                "private_key": hex(account.private_key),
            }
            if with_balance:
                entry["balance"] = {
                    "eth": {"amount": str(devnet.balance(account.address, "WEI")), "unit": "WEI"},
                    "strk": {
                        "amount": str(devnet.balance(account.address, "FRI")),
                        "unit": "FRI",
                    },
                }
            accounts.append(entry)
        return accounts

    @method("devnet_impersonateAccount")
    def impersonate_account(account_address: Any) -> None:
        devnet.impersonate_account(felt(account_address, "account_address"))

    @method("devnet_stopImpersonateAccount")
    def stop_impersonate_account(account_address: Any) -> None:
        devnet.stop_impersonating_account(felt(account_address, "account_address"))

    @method("devnet_autoImpersonate")
    def auto_impersonate() -> None:
        devnet.set_auto_impersonate(True)

    @method("devnet_stopAutoImpersonate")
    def stop_auto_impersonate() -> None:
        devnet.set_auto_impersonate(False)

    @method("devnet_setGasPrice")
    def set_gas_price(
        gas_price_wei: Any = None,
        data_gas_price_wei: Any = None,
        gas_price_fri: Any = None,
        data_gas_price_fri: Any = None,
        l2_gas_price_wei: Any = None,
        l2_gas_price_fri: Any = None,
        generate_block: Any = None,
    ) -> Json:
        given = {
            "gas_price_wei": gas_price_wei,
            "data_gas_price_wei": data_gas_price_wei,
            "gas_price_fri": gas_price_fri,
            "data_gas_price_fri": data_gas_price_fri,
            "l2_gas_price_wei": l2_gas_price_wei,
            "l2_gas_price_fri": l2_gas_price_fri,
        }
        changes = {
            GAS_PRICE_PARAMS[name]: parse_gas_price(value, name)
            for name, value in given.items()
            if value is not None
        }
        mine = generate_block is not None and _flag(generate_block, "generate_block")
        prices = devnet.set_gas_price(changes, generate_block=mine)
        return {name: getattr(prices, field) for name, field in GAS_PRICE_PARAMS.items()}

    @method("devnet_getStatus")
    def get_status() -> Json:
        """This devnet's own: versions, chain, block production, lite mode, impersonation."""
        return {"version": _version(), "rpc_version": SPEC_VERSION, **devnet.status()}

    @method("devnet_getConfig")
    def get_config() -> Json:
        """starknet-devnet's config, with the limits this server really applies."""
        config = devnet.config()
        limits = dispatcher.limits
        server = config.setdefault("server_config", {})
        server["request_body_size_limit"] = limits.max_body_bytes
        server["batch_size_limit"] = limits.max_batch
        server["transactions_per_request_limit"] = limits.max_transactions
        server["json_depth_limit"] = limits.max_depth
        return config
