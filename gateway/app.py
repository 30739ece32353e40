"""The composition root: builds the Starlette application and wires its parts."""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

# Strawberry raises the HTTP errors of its request parsing from cross-web, its own dependency.
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from db.engine import create_engine, create_session_factory
from gateway.attempt_counter import InMemoryAttemptCounter
from gateway.body_limit import BodySizeLimit
from gateway.config import Settings
from gateway.connection_watch import ConnectionWatch
from gateway.events.memory import InProcessEventBus
from gateway.processors.sandbox import SandboxProcessor
from resolvers.payments import apply_charge_update, recover_in_flight_payments
from resolvers.ports import ChargeUpdate
from resolvers.services import BillingServices
from resolvers.sessions import SessionPolicy
from resolvers.sign_in_limits import SignInGuard
from schema.build import build_schema
from schema.context import GatewayContext, bearer_token

logger = logging.getLogger(__name__)

WEBSOCKET_AUTH_HINT = (
    'Sign in first, then send {"Authorization": "Bearer <token>"} as the connection_init payload.'
)
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's own request id is kept only if it is short and plain, since it is logged.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id_for(request: Request | WebSocket) -> str:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    return supplied if _CLIENT_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex


class GatewayGraphQL(GraphQL[GatewayContext, None]):
    """Strawberry's ASGI view with the gateway's context and WebSocket sign-in."""

    def __init__(
        self, services: BillingServices, watch: ConnectionWatch, settings: Settings
    ) -> None:
        super().__init__(
            build_schema(settings.schema_limits),
            graphql_ide="graphiql" if settings.graphiql else None,
            max_subscriptions_per_connection=settings.schema_limits.max_subscriptions_per_connection,
        )
        self.services = services
        self.watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._serve_http(scope, receive, send)
            return
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        websocket = WebSocket(scope, receive=receive, send=send)
        try:
            await self.run(websocket)
        finally:
            self.watch.unregister(websocket)

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Strawberry rejects a malformed request (bad JSON, too many batched
        # operations) in plain text. Clients get the JSON error shape of
        # every other error instead.
        request = Request(scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = JSONResponse(
                {"errors": [{"message": error.reason, "extensions": {"code": "BAD_REQUEST"}}]},
                status_code=error.status_code,
            )
        await response(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        """Decode a request body, rejecting JSON that is not an operation or a list of them."""
        decoded = super().parse_json(data)
        items = decoded if isinstance(decoded, list) else [decoded]
        if not all(isinstance(item, dict) for item in items):
            raise HTTPException(
                400,
                'Send a JSON object such as {"query": "...", "variables": {...}}, '
                "or a list of them for a batch.",
            )
        return decoded

    async def on_ws_connect(self, context: GatewayContext) -> UnsetType | dict[str, object] | None:
        # Every subscription needs a principal, so a connection without a
        # valid token is closed at connection_init (4403 on
        # graphql-transport-ws) instead of failing each subscribe later.
        principal = await context.principal()
        if principal is None or not isinstance(context.request, WebSocket):
            logger.info("websocket connection rejected: missing or invalid token")
            raise ConnectionRejectionError({"message": WEBSOCKET_AUTH_HINT})
        self.watch.register(context.request, principal)
        logger.info("websocket connection accepted for %s", principal.actor)
        return UnsetType()

    async def get_context(self, request: Request | WebSocket, response: Any) -> GatewayContext:
        request_id = request_id_for(request)
        if isinstance(response, Response):
            response.headers[REQUEST_ID_HEADER] = request_id
        return GatewayContext(
            services=self.services,
            request=request,
            header_token=bearer_token(request.headers.get("authorization")),
            request_id=request_id,
            client_address=request.client.host if request.client else None,
        )


def build_services(settings: Settings, watch_interval: float | None = None) -> BillingServices:
    """Create the engine, event bus, processor and connection watch named by ``settings``."""
    engine = create_engine(settings.database_url)
    session_factory = create_session_factory(engine)
    services: BillingServices | None = None

    async def record_update(update: ChargeUpdate) -> None:
        if services is None:
            raise RuntimeError("processor reported a charge before the gateway finished starting")
        await apply_charge_update(services, update)

    processor = SandboxProcessor(
        record_update,
        card_delay=settings.sandbox_card_delay,
        ach_delay=settings.sandbox_ach_delay,
    )
    watch = ConnectionWatch(
        session_factory,
        settings.ws_auth_recheck_seconds if watch_interval is None else watch_interval,
    )
    services = BillingServices(
        session_factory=session_factory,
        processor=processor,
        events=InProcessEventBus(),
        descriptor_prefix=settings.statement_descriptor,
        confirmation_prefix=settings.confirmation_prefix,
        session_policy=SessionPolicy(
            patient_idle=settings.patient_session_idle,
            patient_max=settings.patient_session_max,
            staff=settings.staff_session,
        ),
        session_events=watch,
        sign_in_guard=SignInGuard(InMemoryAttemptCounter(), settings.sign_in_limits),
    )
    return services


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_environ()
    services = build_services(settings)
    watch = services.session_events
    if not isinstance(watch, ConnectionWatch):
        raise TypeError("build_services must wire a ConnectionWatch as session_events")
    graphql = GatewayGraphQL(services, watch, settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        logger.info(
            "gateway starting with the %s processor on %s",
            services.processor.name,
            services.session_factory.kw["bind"].dialect.name,
        )
        recovered = await recover_in_flight_payments(services)
        if recovered:
            logger.info("picked up %s payments that were in flight at the last stop", recovered)
        watch.start()
        yield
        logger.info("gateway stopping")
        await watch.stop()
        await services.processor.aclose()
        await services.session_factory.kw["bind"].dispose()

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(BodySizeLimit, max_bytes=settings.schema_limits.max_body_bytes),
        ],
    )
