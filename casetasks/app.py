"""The Starlette app: GraphQL at /graphql (GraphiQL, HTTP and graphql-transport-ws), health."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import lru_cache
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import async_base_view
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

import schema
from casetasks import calendar_route, dashboard, faults, graphiql, http_spec, tracing
from casetasks.db import create_engine, create_session_factory, generic_plan_engine
from casetasks.http_guard import HttpGuard, Limits
from casetasks.logs import AccessLog
from casetasks.metrics import CONTENT_TYPE, Metrics
from casetasks.persisted import (
    REFUSAL_CACHE_CONTROL,
    DocumentRefused,
    PersistedDocuments,
    http_document_request,
    names_a_document,
)
from casetasks.scheduler import run_periodically
from casetasks.settings import Settings, get_settings
from casetasks.shutdown import TrackWebSockets, WebSocketRegistry
from casetasks.websocket import (
    LegacyWSHandler,
    LimitedWebSocketAdapter,
    TransportWSHandler,
    WebSocketLimits,
)
from resolvers.context import Context, Services, bearer_token
from resolvers.planner import install_sqlite
from schema.planned import PlannedJson
from services.auth import TokenPolicy, viewer_for_token
from services.clock import Clock, SystemClock
from services.digests import Mailer
from services.login_throttle import LoginThrottle
from services.rate_limit import CostRateLimiter
from services.viewer import Viewer
from subscriptions import streams
from subscriptions.hub import EventHub
from subscriptions.shared_reads import SharedReads


def _planned_as_fragment(value: object) -> orjson.Fragment:
    if isinstance(value, PlannedJson):
        return value.as_fragment()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _planned_parsed(value: object) -> Any:
    if isinstance(value, PlannedJson):
        return value.parsed()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def connection_token(params: dict[str, Any]) -> str | None:
    """The contract's {"Authorization": "Bearer <token>"}; also what common clients send
    instead: the header under "headers" (Apollo, GraphiQL presets) or a bare token."""
    headers = params.get("headers")
    candidates = [params, headers] if isinstance(headers, dict) else [params]
    for place in candidates:
        for key in ("Authorization", "authorization"):
            value = place.get(key)
            if isinstance(value, str):
                return bearer_token(value) or (value.strip() or None)
    for key in ("authToken", "token"):
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


@lru_cache(maxsize=64)
def _content_type(header: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    mime_type, params = parse_content_type(header)
    return mime_type, tuple(params.items())


def _remembered_content_type(header: str) -> tuple[str, dict[str, str]]:
    """Strawberry parses the request's Content-Type with email.message on every request (a
    few percent of a planned page's CPU); the header takes a handful of values."""
    mime_type, params = _content_type(header)
    return mime_type, dict(params)


async_base_view.parse_content_type = _remembered_content_type  # type: ignore[assignment]


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = LimitedWebSocketAdapter

    def __init__(
        self,
        services: Services,
        limits: WebSocketLimits,
        persisted: PersistedDocuments,
        introspection: bool = True,
        traced: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            schema.build_schema(introspection, traced), **limits.view_options(), **kwargs
        )
        self.services = services
        self.websocket_limits = limits
        self.persisted = persisted

    def encode_json(self, data: object) -> bytes:
        """orjson: the same JSON as Strawberry's json.dumps(separators=(",", ":")), in UTF-8
        rather than with \\u escapes, several times faster. What orjson refuses (an integer
        past 64 bits, a key that is not a string, a lone surrogate) is encoded as before. A
        planned answer's data goes in as the database wrote it."""
        try:
            return orjson.dumps(data, default=_planned_as_fragment)
        except TypeError:
            return json.dumps(data, separators=(",", ":"), default=_planned_parsed).encode()

    def decode_json(self, data: str | bytes) -> object:
        """orjson, several times faster than Strawberry's json.loads; what it refuses (NaN,
        an integer past 64 bits, a lone surrogate) goes to json.loads, which accepts it or
        raises the error it always raised."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return json.loads(data)

    def create_response(
        self, response_data: Any, sub_response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """In the media type the request's Accept chose (get_context), shaped as GraphQL over
        HTTP has it (casetasks/http_spec.py)."""
        media_type = sub_response.headers.get("content-type", http_spec.JSON)
        if "content-type" in sub_response.headers:
            del sub_response.headers["content-type"]
        body, status = http_spec.shaped(response_data, media_type, sub_response.status_code)
        sub_response.status_code = status  # type: ignore[assignment]
        response = super().create_response(body, sub_response, *args, **kwargs)
        if media_type != http_spec.JSON:
            response.headers["content-type"] = f"{media_type}; charset=utf-8"
        return response

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Not for a GET naming a persisted document (it has no query parameter either)."""
        return super().should_render_graphql_ide(request) and not names_a_document(
            request.query_params
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        """Strawberry's GraphiQL with its vendored files, the tour and its own CSP (graphiql.py)."""
        prefix = request.scope.get("root_path", "") + graphiql.ASSETS_ROUTE
        page = graphiql.served_page(self.graphql_ide_html, prefix)
        headers = {"Content-Security-Policy": page.content_security_policy}
        return HTMLResponse(page.html, headers=headers)

    async def viewer(self, token: str | None) -> Viewer | None:
        if token is None:
            return None
        async with self.services.session_factory() as session:
            return await viewer_for_token(session, token, self.services.tokens, self.services.clock)

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        """Over HTTP, queries and mutations; a subscription gets a clear answer, not INTERNAL."""
        try:
            document = await http_document_request(request_adapter, request_data, self.decode_json)
            query = await self.persisted.resolve(document)
        except DocumentRefused as refused:
            sub_response.headers["Cache-Control"] = REFUSAL_CACHE_CONTROL
            return ExecutionResult(data=None, errors=[refused.error])
        try:
            return await self.schema.execute(
                query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=OperationType.from_http(request_adapter.method)
                - {OperationType.SUBSCRIPTION},
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type == OperationType.MUTATION:
                # GraphQL over HTTP: 405, and where to go instead.
                sub_response.status_code = 405
                sub_response.headers["Allow"] = "POST"
                message = "Mutations are only accepted over POST"
                return ExecutionResult(
                    data=None,
                    errors=[GraphQLError(message, extensions={"code": "BAD_REQUEST"})],
                )
            if error.operation_type != OperationType.SUBSCRIPTION:
                reason = error.as_http_error_reason(request_adapter.method)
                raise HTTPException(400, reason) from error
            message = "Subscriptions run over the graphql-transport-ws websocket at /graphql"
            return ExecutionResult(
                data=None,
                errors=[GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})],
            )
        except (CannotGetOperationTypeError, MissingQueryError) as error:
            raise HTTPException(400, "No valid GraphQL operation found in the request") from error

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: the token comes in connection_init's payload."""
        token = connection_token(context.connection_params or {})
        viewer = await self.viewer(token)
        if viewer is None:
            raise ConnectionRejectionError()
        context.viewer = viewer
        context.token = token
        context.timezones[viewer.provider_id] = viewer.provider_timezone
        return UNSET

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        is_websocket = isinstance(request, WebSocket)
        token = None if is_websocket else bearer_token(request.headers.get("authorization"))
        if response is not None and not is_websocket:
            # Carried to create_response on the response being built.
            accept = request.headers.get("accept")
            response.headers["content-type"] = http_spec.response_media_type(accept)
        # The viewer is looked up once the document passed its limits (schema.admission).
        return Context(
            services=self.services,
            cache_loads=not is_websocket,
            token=token,
            request=request,
            response=response,
        )


def build_services(settings: Settings, clock: Clock) -> tuple[Services, AsyncEngine]:
    limits = faults.database_limits(settings)
    engine = create_engine(settings.database_url, limits)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", lambda dbapi, _record: install_sqlite(dbapi))
    services = Services(
        session_factory=create_session_factory(engine),
        clock=clock,
        tokens=TokenPolicy(settings.secret_key, timedelta(hours=settings.token_ttl_hours)),
        hub=EventHub(settings.broadcast_backend_url, faults.hub_options(settings)),
        series_lead_days=settings.series_lead_days,
        planner=settings.casetasks_planner,
        rate_limiter=(
            CostRateLimiter(settings.rate_limit_points_per_second, settings.rate_limit_burst, clock)
            if settings.rate_limit_points_per_second
            else None
        ),
        public_url=settings.public_url,
        mailer=Mailer.from_url(settings.smtp_url, settings.smtp_from)
        if settings.smtp_url
        else None,
        login_throttle=LoginThrottle(
            settings.login_max_failures_per_email,
            settings.login_max_failures_per_address,
            timedelta(seconds=settings.login_failure_window_seconds),
            clock,
        ),
    )
    services.shared_reads = SharedReads(services.session_factory, streams.BATCH)
    assert services.hub is not None
    services.hub.prefetch = services.shared_reads.prefetch
    services.sql_traced = tracing.enabled()
    services.metrics = Metrics()
    services.generic_read_engine = generic_plan_engine(
        engine, settings.database_url, limits, settings.database_generic_plan_pool_size
    )
    return services, engine


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Starlette:
    settings = settings or get_settings()
    services, engine = build_services(settings, clock or SystemClock())
    hub = services.hub
    assert hub is not None
    persisted = PersistedDocuments.from_settings(
        settings,
        services.session_factory,
        services.clock,
        schema.build_schema(settings.introspection_enabled)._schema,
    )
    graphql = GraphQLApp(
        services,
        WebSocketLimits.from_settings(settings),
        persisted,
        introspection=settings.introspection_enabled,
        traced=tracing.enabled(),
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
    )

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    metrics = services.metrics
    assert metrics is not None

    async def metrics_page(request: Request) -> Response:
        """Prometheus' text format; behind METRICS_TOKEN (a bearer token) when one is set."""
        if settings.metrics_token is not None:
            given = bearer_token(request.headers.get("authorization")) or ""
            if not hmac.compare_digest(given.encode(), settings.metrics_token.encode()):
                return Response("Unauthorized\n", 401, {"WWW-Authenticate": "Bearer"})
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    async def readyz(_request: Request) -> Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "reachable"})

    async def internal_error(_request: Request, _error: Exception) -> Response:
        """What escapes GraphQL execution (the database failing during the token check) still
        answers in the contract's shape: INTERNAL, no internals. The server logs the traceback."""
        body = {
            "data": None,
            "errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL"}}],
        }
        return JSONResponse(body, status_code=500)

    stop_tracing: Callable[[], None] | None = None  # set below, once the app exists

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        scheduler = (
            asyncio.create_task(
                run_periodically(services, settings.materialize_interval_seconds),
                name="casetasks-scheduler",
            )
            if settings.scheduler_enabled
            else None
        )
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scheduler
            await hub.stop()
            await engine.dispose()
            if services.generic_read_engine is not None:
                await services.generic_read_engine.dispose()
            if stop_tracing is not None:
                stop_tracing()  # flushes the spans still batched

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_page),
            Mount(
                graphiql.ASSETS_ROUTE,
                StaticFiles(directory=graphiql.ASSETS_DIR),
                name="graphiql-assets",
            ),
            *dashboard.routes(),
            *calendar_route.routes(services),
        ],
        lifespan=lifespan,
        exception_handlers={Exception: internal_error, **faults.EXCEPTION_HANDLERS},
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    websockets = WebSocketRegistry()
    app.add_middleware(TrackWebSockets, registry=websockets)
    limits = Limits(settings.max_body_bytes, settings.request_timeout_seconds)
    app.add_middleware(HttpGuard, limits=limits)
    app.add_middleware(AccessLog)
    if tracing.enabled():  # outermost: the HTTP span holds everything else
        stop_tracing = tracing.install(app, engine)
    app.state.websockets = websockets
    app.state.services = services
    app.state.engine = engine
    app.state.hub = hub
    metrics.watch(app.state)
    return app
