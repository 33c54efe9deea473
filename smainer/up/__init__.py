"""``smainer up``: the devnet, the marketplace, the scheduler, providers, the API with its
indexer and dashboard, the notifier and (``--demo``) sample traffic, as supervised processes."""

from smainer.up.parts import Part, PlanError, UpOptions, plan
from smainer.up.service import run_up, serve
from smainer.up.supervisor import RUN_MARKER, StartError, Supervisor, Timing

__all__ = [
    "RUN_MARKER",
    "Part",
    "PlanError",
    "StartError",
    "Supervisor",
    "Timing",
    "UpOptions",
    "plan",
    "run_up",
    "serve",
]
