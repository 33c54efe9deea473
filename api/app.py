"""The app factory: every piece of wiring in one place (routes under ``/api/v1``, the dashboard
at ``/`` with its templates and static files, dependencies, the error mapping, the rate limit,
CORS, access logs, OpenAPI and the lifespan that runs the indexer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.middleware.logging import LoggingMiddlewareConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api.controllers import CONTROLLERS
from api.controllers.dashboard import DashboardController, register_filters
from api.dependencies import provide_api_state, provide_reader
from api.errors import error_response
from api.lifespan import lifespan
from api.ratelimit import rate_limit_config
from api.settings import ApiSettings
from api.state import ApiState

API_PREFIX = "/api/v1"
HERE = Path(__file__).parent
STATIC_CACHE_SECONDS = 300
"""How long browsers may keep the dashboard's script and style before asking again."""


def _with_retry_after(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    response = error_response(request, exc)
    if response.status_code == 429 and "retry-after" not in {k.lower() for k in response.headers}:
        reset = response.headers.get("RateLimit-Reset", "1")
        response.headers["Retry-After"] = str(max(int(reset) if reset.isdigit() else 1, 1))
    return response


def create_app(settings: ApiSettings) -> Litestar:
    """The read API over ``settings.db``; indexing ``settings.target`` unless read-only."""
    api = Router(
        path=API_PREFIX,
        route_handlers=CONTROLLERS,
        dependencies={"reader": Provide(provide_reader)},
    )
    static = create_static_files_router(
        path="/static",
        directories=[HERE / "static"],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=STATIC_CACHE_SECONDS),
    )
    middleware = []
    throttle = rate_limit_config(settings)
    if throttle is not None:
        middleware.append(throttle.middleware)
    middleware.append(
        LoggingMiddlewareConfig(
            request_log_fields=["method", "path", "query", "client"],
            response_log_fields=["status_code"],
        ).middleware
    )
    return Litestar(
        route_handlers=[api, DashboardController, static],
        dependencies={"api_state": Provide(provide_api_state, sync_to_thread=False)},
        template_config=TemplateConfig(
            directory=HERE / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: register_filters(engine.engine),
        ),
        state=State({"api": ApiState(settings)}),
        lifespan=[lifespan],
        exception_handlers={Exception: _with_retry_after},
        middleware=middleware,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins))
        if settings.cors_origins
        else None,
        logging_config=LoggingConfig(
            loggers={"api": {"level": "INFO", "handlers": ["queue_listener"], "propagate": False}},
            log_exceptions="debug",
        ),
        openapi_config=OpenAPIConfig(
            title="Smainer read API",
            version="1",
            description="The marketplace's tasks, nodes and payments, from the index.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin()],
        ),
    )
