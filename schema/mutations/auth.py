"""Mutations that sign patients up, in and out."""

from __future__ import annotations

import strawberry

from resolvers import auth
from resolvers.errors import BillingError, UnauthenticatedError
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
            signed_in = await auth.sign_up(
                services.session_factory,
                name=input.name,
                email=input.email,
                password=input.password,
                token_lifetime=services.patient_token_lifetime,
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
                token_lifetime=services.patient_token_lifetime,
            )
        except BillingError as error:
            return AuthPayload(user_errors=user_errors(error))
        return AuthPayload(token=signed_in.token, patient=Patient.from_row(signed_in.patient))

    @strawberry.mutation(description="Revoke the token this request was sent with.")
    async def log_out(self, info: Info) -> LogOutPayload:
        token = info.context.token
        try:
            if token is None or not await auth.log_out(
                info.context.services.session_factory, token
            ):
                raise UnauthenticatedError("No active session to sign out of; you are signed out.")
        except BillingError as error:
            return LogOutPayload(user_errors=user_errors(error))
        info.context.forget_principal()
        return LogOutPayload(logged_out=True)
