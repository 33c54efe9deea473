"""Which events to ask the node for: ``starknet_getEvents`` filters for the marketplace.

A deployment's own Token (a devnet's) is read whole: every one of its events is the
marketplace's. A payment token it did not deploy (STRK on Sepolia or mainnet) is shared with the
whole network, so only its ``Transfer`` events into or out of the escrow are asked for: two
filters, since a filter's key positions are ANDed (``[Transfer], [escrow]`` is "from the
escrow", ``[Transfer], [], [escrow]`` "to the escrow"). The escrow's own events are always read
whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from starknet_py.hash.selector import get_selector_from_name

TRANSFER = get_selector_from_name("Transfer")


@dataclass(frozen=True)
class EventQuery:
    """One ``starknet_getEvents`` filter: events of ``addresses`` whose keys match ``keys``
    position by position (each position a set of accepted values; an empty one accepts any)."""

    addresses: tuple[int, ...]
    keys: tuple[tuple[int, ...], ...] = ()

    def params(self) -> dict[str, object]:
        return {
            "address": [hex(a) for a in self.addresses],
            "keys": [[hex(k) for k in position] for position in self.keys],
        }


def marketplace_queries(escrow: int, token: int, *, whole_token: bool) -> list[EventQuery]:
    """The filters for an escrow and its payment token (see the module docstring)."""
    if whole_token:
        return [EventQuery((escrow, token))]
    return [
        EventQuery((escrow,)),
        EventQuery((token,), ((TRANSFER,), (escrow,))),
        EventQuery((token,), ((TRANSFER,), (), (escrow,))),
    ]
