"""One thin controller per domain; each handler parses its parameters and asks the reader."""

from api.controllers.accounts import AccountController
from api.controllers.events import EventController
from api.controllers.health import HealthController
from api.controllers.nodes import NodeController
from api.controllers.stats import StatsController
from api.controllers.tasks import TaskController

CONTROLLERS = [
    HealthController,
    StatsController,
    TaskController,
    NodeController,
    AccountController,
    EventController,
]

__all__ = ["CONTROLLERS"]
