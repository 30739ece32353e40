"""The composition root: builds the Starlette application and wires its parts."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from db.engine import create_engine, create_session_factory
from gateway.config import Settings
from gateway.events.memory import InProcessEventBus
from gateway.processors.sandbox import SandboxProcessor
from resolvers.payments import apply_charge_update, recover_in_flight_payments
from resolvers.ports import ChargeUpdate
from resolvers.services import BillingServices
from schema.build import build_schema
from schema.context import GatewayContext, bearer_token

logger = logging.getLogger(__name__)

WEBSOCKET_AUTH_HINT = (
    'Sign in first, then send {"Authorization": "Bearer <token>"} as the connection_init payload.'
)


class GatewayGraphQL(GraphQL[GatewayContext, None]):
    """Strawberry's ASGI view with the gateway's context."""

    def __init__(self, services: BillingServices, *, graphiql: bool) -> None:
        super().__init__(build_schema(), graphql_ide="graphiql" if graphiql else None)
        self.services = services

    async def on_ws_connect(self, context: GatewayContext) -> UnsetType | dict[str, object] | None:
        # Every subscription needs a signed-in patient, so a connection
        # without a valid token is closed at connection_init (4403 on
        # graphql-transport-ws) instead of failing each subscribe later.
        if await context.current_patient() is None:
            logger.info("websocket connection rejected: missing or invalid token")
            raise ConnectionRejectionError({"message": WEBSOCKET_AUTH_HINT})
        return UnsetType()

    async def get_context(self, request: Request | WebSocket, response: Any) -> GatewayContext:
        return GatewayContext(
            services=self.services,
            request=request,
            header_token=bearer_token(request.headers.get("authorization")),
        )


def build_services(settings: Settings) -> BillingServices:
    """Create the engine, event bus and processor named by ``settings``."""
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
    services = BillingServices(
        session_factory=session_factory,
        processor=processor,
        events=InProcessEventBus(),
        descriptor_prefix=settings.statement_descriptor,
        confirmation_prefix=settings.confirmation_prefix,
        patient_token_lifetime=settings.patient_token_lifetime,
    )
    return services


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_environ()
    services = build_services(settings)
    graphql = GatewayGraphQL(services, graphiql=settings.graphiql)

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
        yield
        logger.info("gateway stopping")
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
    )
