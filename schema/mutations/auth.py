"""Mutations that sign patients up, in and out."""

from __future__ import annotations

import strawberry

from db import models
from resolvers import auth
from resolvers.errors import BillingError, InvalidInputError, UnauthenticatedError
from resolvers.sessions import API_KEY_PREFIX, revoke_session
from resolvers.staff import staff_log_in
from schema.context import Info
from schema.errors import UserError, user_errors
from schema.types.patient import Patient


@strawberry.input
class SignUpInput:
    name: str
    email: str
    password: str = strawberry.field(description="At least 10 characters.")


@strawberry.input
class LogInInput:
    email: str
    password: str


@strawberry.type
class AuthPayload:
    token: str | None = strawberry.field(
        default=None,
        description="Send as Authorization: Bearer <token>. Shown once; store it securely.",
    )
    patient: Patient | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A billing clerk or support agent.")
class StaffMember:
    name: str
    email: str
    is_auditor: bool

    @classmethod
    def from_row(cls, row: models.StaffMember) -> StaffMember:
        return cls(name=row.name, email=row.email, is_auditor=row.is_auditor)


@strawberry.type
class StaffAuthPayload:
    token: str | None = strawberry.field(
        default=None,
        description="Send as Authorization: Bearer <token>; valid for one working day.",
    )
    staff: StaffMember | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogOutPayload:
    logged_out: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Create a patient account and sign it in.")
    async def sign_up(self, info: Info, input: SignUpInput) -> AuthPayload:
        services = info.context.services
        try:
            # Sign-ups count against the address's limit, so one client cannot
            # test thousands of emails for EMAIL_TAKEN.
            await services.sign_in_guard.check_address(info.context.client_address)
            signed_in = await auth.sign_up(
                services.session_factory,
                name=input.name,
                email=input.email,
                password=input.password,
                policy=services.session_policy,
            )
        except BillingError as error:
            return AuthPayload(user_errors=user_errors(error))
        return AuthPayload(token=signed_in.token, patient=Patient.from_row(signed_in.patient))

    @strawberry.mutation(description="Sign in with email and password and receive a token.")
    async def log_in(self, info: Info, input: LogInInput) -> AuthPayload:
        services = info.context.services
        try:
            signed_in = await auth.log_in(
                services.session_factory,
                email=input.email,
                password=input.password,
                policy=services.session_policy,
                guard=services.sign_in_guard,
                client_address=info.context.client_address,
            )
        except BillingError as error:
            return AuthPayload(user_errors=user_errors(error))
        return AuthPayload(token=signed_in.token, patient=Patient.from_row(signed_in.patient))

    @strawberry.mutation(
        description="Sign in as a staff member (billing clerk or support) and receive a token."
    )
    async def staff_log_in(self, info: Info, input: LogInInput) -> StaffAuthPayload:
        services = info.context.services
        try:
            signed_in = await staff_log_in(
                services.session_factory,
                services.session_policy,
                email=input.email,
                password=input.password,
                guard=services.sign_in_guard,
                client_address=info.context.client_address,
            )
        except BillingError as error:
            return StaffAuthPayload(user_errors=user_errors(error))
        return StaffAuthPayload(token=signed_in.token, staff=StaffMember.from_row(signed_in.staff))

    @strawberry.mutation(
        description="Revoke the token this request was sent with. WebSocket subscriptions "
        "opened with it are closed too."
    )
    async def log_out(self, info: Info) -> LogOutPayload:
        token = info.context.token
        services = info.context.services
        try:
            if token is not None and token.startswith(API_KEY_PREFIX):
                raise InvalidInputError(
                    "An API key cannot sign out; the practice revokes keys with "
                    "billing-gateway revoke-api-key."
                )
            session_id = None
            if token is not None:
                session_id = await revoke_session(services.session_factory, token)
            if session_id is None:
                raise UnauthenticatedError("No active session to sign out of; you are signed out.")
        except BillingError as error:
            return LogOutPayload(user_errors=user_errors(error))
        info.context.forget_principal()
        await services.session_events.publish_revoked(session_id)
        return LogOutPayload(logged_out=True)
