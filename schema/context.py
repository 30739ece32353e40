"""The per-request GraphQL context: who is asking, and the tools to answer them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from db.models import Patient
from resolvers.auth import patient_for_token
from resolvers.errors import UnauthenticatedError
from resolvers.loaders import Loaders, RequestDatabase
from resolvers.services import BillingServices

BEARER_PREFIX = "bearer "


def bearer_token(authorization: str | None) -> str | None:
    """Extract the token from an ``Authorization: Bearer <token>`` header value."""
    if not authorization or not authorization.lower().startswith(BEARER_PREFIX):
        return None
    token = authorization[len(BEARER_PREFIX) :].strip()
    return token or None


@dataclass
class GatewayContext:
    """Built by the gateway for each HTTP request or WebSocket connection.

    A WebSocket client sends its token in the ``connection_init`` payload,
    which Strawberry stores in ``connection_params`` after the context is
    built, so the principal is resolved lazily on first use.
    """

    services: BillingServices
    request: Request | WebSocket | None
    header_token: str | None = None
    connection_params: dict[str, Any] | None = None
    database: RequestDatabase = field(init=False)
    loaders: Loaders = field(init=False)
    _patient: Patient | None = field(default=None, init=False)
    _resolved: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.database = RequestDatabase(self.services.session_factory)
        self.loaders = Loaders(self.database)

    @property
    def token(self) -> str | None:
        if self.header_token is not None:
            return self.header_token
        params = self.connection_params or {}
        # Apollo-style clients nest the header: {"headers": {"Authorization": ...}}.
        headers = params.get("headers")
        if isinstance(headers, dict):
            params = {**headers, **params}
        for key in ("Authorization", "authorization"):
            value = params.get(key)
            if isinstance(value, str):
                return bearer_token(value) or value.strip() or None
        value = params.get("token")
        return value if isinstance(value, str) and value else None

    async def current_patient(self) -> Patient | None:
        """Look up the signed-in patient, once per HTTP request.

        A WebSocket connection outlives its token (sign-out, expiry), so there
        the token is checked again for every operation rather than cached.
        """
        if isinstance(self.request, WebSocket):
            self.forget_principal()
        if not self._resolved:
            token = self.token
            if token is not None:
                async with self.services.session_factory() as session:
                    self._patient = await patient_for_token(session, token)
            self._resolved = True
        return self._patient

    async def require_patient(self) -> Patient:
        patient = await self.current_patient()
        if patient is None:
            raise UnauthenticatedError("Sign in to continue: send Authorization: Bearer <token>.")
        return patient

    def forget_principal(self) -> None:
        self._patient = None
        self._resolved = False


Info = StrawberryInfo[GatewayContext, None]
