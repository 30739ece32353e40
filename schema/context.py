"""The per-request GraphQL context: the principal, and the services that serve the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from resolvers.audit import RequestInfo
from resolvers.errors import UnauthenticatedError
from resolvers.loaders import Loaders, RequestDatabase
from resolvers.principals import Principal, Role
from resolvers.services import BillingServices
from resolvers.sessions import resolve_principal

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
    request_id: str | None = None
    client_address: str | None = None
    database: RequestDatabase = field(init=False)
    loaders: Loaders = field(init=False)
    # Patients whose records staff or a partner read in this request, for the audit log.
    read_patient_ids: set[int] = field(default_factory=set, init=False)
    # Operations running on this context: a batched HTTP request or a WebSocket
    # connection runs several at once, and they share the database session.
    active_operations: int = field(default=0, init=False)
    _principal: Principal | None = field(default=None, init=False)
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

    @property
    def is_websocket(self) -> bool:
        return isinstance(self.request, WebSocket)

    async def principal(self) -> Principal | None:
        """Look up who the token signs in, once per HTTP request.

        A WebSocket connection outlives its token (sign-out, expiry), so there
        the token is checked again for every operation rather than cached.
        """
        if self.is_websocket:
            self.forget_principal()
        if not self._resolved:
            token = self.token
            if token is not None:
                self._principal = await resolve_principal(
                    self.services.session_factory, token, self.services.session_policy
                )
            self._resolved = True
        return self._principal

    async def require_principal(self) -> Principal:
        principal = await self.principal()
        if principal is None and self.token is not None:
            raise UnauthenticatedError(
                "The token sent is unknown, expired or revoked. Sign in again, or for an "
                "API key ask the practice for a new one."
            )
        if principal is None:
            raise UnauthenticatedError("Sign in to continue: send Authorization: Bearer <token>.")
        return principal

    async def require_patient_id(self) -> int:
        """Return the signed-in patient's id; staff and partners get FORBIDDEN."""
        principal = await self.require_principal()
        principal.require_role(Role.PATIENT, action="do this; it acts on the patient's own account")
        return principal.actor_id

    async def request_info(self, operation: str) -> RequestInfo:
        """Describe this request for the audit log; raises UNAUTHENTICATED without a principal."""
        return RequestInfo(
            principal=await self.require_principal(),
            operation=operation,
            request_id=self.request_id,
            client_address=self.client_address,
        )

    def start_operation(self) -> None:
        # A WebSocket connection lives for hours: data loaded by an earlier
        # operation must not be served to a later one.
        if self.is_websocket and self.active_operations == 0:
            self.loaders = Loaders(self.database)
        self.active_operations += 1

    async def finish_operation(self) -> None:
        """Close the shared database session once the last running operation ends."""
        self.active_operations -= 1
        if self.active_operations == 0:
            await self.database.close()

    def take_patient_reads(self) -> set[int]:
        """Return and forget the patients read so far, before any await can add more."""
        taken = set(self.read_patient_ids)
        self.read_patient_ids.clear()
        return taken

    def note_patient_read(self, patient_id: int) -> None:
        """Remember that this request read one patient's records, for the audit log."""
        self.read_patient_ids.add(patient_id)

    def forget_principal(self) -> None:
        self._principal = None
        self._resolved = False


Info = StrawberryInfo[GatewayContext, None]
