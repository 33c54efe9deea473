"""The ``devnet_*`` methods, with starknet-devnet's parameter and result shapes.

starknet-devnet's documentation (``website/docs``: balance, blocks, starknet-time,
dump-load-restart, predeployed, api) defines them; starknet-py's ``DevnetClient`` and
starknet-devnet-js call them, so names, params and result keys follow it exactly (e.g.
``new_balance`` as a decimal string, ``timestamp_increased_by``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devnet.codec import BlockId, Json, felt, parse_block_id
from devnet.dispatch import Dispatcher
from devnet.errors import InvalidParamsError
from devnet.state import Devnet

__all__ = ["register"]


def _amount(value: Any) -> int:
    """A mint amount: an integer, a float (truncated, as starknet-devnet does) or a string."""
    if isinstance(value, bool):
        raise InvalidParamsError("amount must be a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value, 0) if value.lower().startswith("0x") else int(float(value))
        except ValueError:
            raise InvalidParamsError(f"amount is not a number: {value!r}") from None
    raise InvalidParamsError("amount must be a number")


def _unit(value: Any) -> str:
    if value not in ("FRI", "WEI"):
        raise InvalidParamsError(f"unit must be 'FRI' or 'WEI', got {value!r}")
    return str(value)


def _time(value: Any, name: str = "time") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParamsError(f"{name} must be a non-negative integer of seconds")
    return value


def _path(value: Any, name: str = "path") -> Path:
    if not isinstance(value, str) or not value:
        raise InvalidParamsError(f"{name} must be a file path")
    return Path(value).expanduser()


def register(dispatcher: Dispatcher, devnet: Devnet) -> None:
    """Add every ``devnet_*`` method served by ``devnet`` to ``dispatcher``."""
    method = dispatcher.method

    @method("devnet_mint")
    def mint(address: Any, amount: Any, unit: Any = "FRI") -> Json:
        new_balance, located = devnet.mint(felt(address, "address"), _amount(amount), _unit(unit))
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
        timestamp = _time(time)
        block = devnet.set_time(timestamp, generate_block=generate_block)
        out: Json = {"block_timestamp": timestamp}
        if block is not None:
            out["block_hash"] = hex(block.block_hash or 0)
        return out

    @method("devnet_increaseTime")
    def increase_time(time: Any) -> Json:
        seconds = _time(time)
        block = devnet.increase_time(seconds)
        return {"timestamp_increased_by": seconds, "block_hash": hex(block.block_hash or 0)}

    @method("devnet_dump")
    def dump(path: Any = None) -> Any:
        target = _path(path) if path is not None else devnet.settings.dump_path
        data = devnet.dump(target)
        # Without a path, the dump is the answer (as starknet-devnet does).
        return None if target is not None else data

    @method("devnet_load")
    def load(path: Any) -> None:
        target = _path(path)
        if not target.exists():
            raise InvalidParamsError(f"no dump file at {target}")
        devnet.load(target)

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

    @method("devnet_getConfig")
    def get_config() -> Json:
        return devnet.config()
