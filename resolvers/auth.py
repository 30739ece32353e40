"""Patient sign-up and sign-in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import write_transaction
from db.models import Patient
from resolvers.errors import (
    EmailTakenError,
    InvalidCredentialsError,
    InvalidEmailError,
    InvalidInputError,
    WeakPasswordError,
)
from resolvers.passwords import hash_password, verify_password
from resolvers.sessions import SessionPolicy, issue_session
from resolvers.sign_in_limits import SignInGuard

logger = logging.getLogger(__name__)

AccountT = TypeVar("AccountT")

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is
# proven by the mail the practice sends, not by a pattern.
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SignedIn:
    token: str
    patient: Patient


def normalize_email(email: str) -> str:
    """Fold an email to one spelling, so look-alike forms cannot open a second account.

    NFKC maps fullwidth and other compatibility characters to their plain
    forms (fullwidth "demo" to ASCII "demo") before lower-casing.
    """
    return unicodedata.normalize("NFKC", email).strip().lower()


def _has_hidden_characters(text: str) -> bool:
    """Tell whether text contains control or format characters such as NUL or U+202E."""
    return any(unicodedata.category(char).startswith("C") for char in text)


def check_new_name(name: str) -> None:
    if not name.strip():
        raise InvalidInputError("Enter your name.", field="name")
    if _has_hidden_characters(name):
        raise InvalidInputError(
            "Name contains control or formatting characters; type it in plain text.", field="name"
        )
    if len(name) > 200:
        raise InvalidInputError("Name is longer than 200 characters; shorten it.", field="name")


def check_new_email(email: str) -> None:
    """Reject a malformed email; pass it already normalised."""
    if len(email) > 320 or not _EMAIL_PATTERN.fullmatch(email) or _has_hidden_characters(email):
        raise InvalidEmailError(
            f"{email!r} is not a valid email address; use the form name@example.com.",
            field="email",
        )


def check_new_password(password: str, email: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"Password has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH}.",
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"Password is longer than {MAX_PASSWORD_LENGTH} characters; use a shorter one.",
            field="password",
        )
    if len(set(password)) < 4 or email.split("@")[0] in password.lower():
        raise WeakPasswordError(
            "Password is too easy to guess; avoid repeated characters and your email name.",
            field="password",
        )


async def sign_up(
    factory: async_sessionmaker[AsyncSession],
    *,
    name: str,
    email: str,
    password: str,
    policy: SessionPolicy,
) -> SignedIn:
    """Create a patient account and sign it in."""
    email = normalize_email(email)
    check_new_name(name)
    check_new_email(email)
    check_new_password(password, email)
    password_hash = await asyncio.to_thread(hash_password, password)

    try:
        async with write_transaction(factory) as session:
            taken = await session.scalar(select(Patient.id).where(Patient.email == email))
            if taken is not None:
                raise EmailTakenError(
                    "An account already uses this email; sign in with it instead.",
                    field="email",
                )
            patient = Patient(name=name.strip(), email=email, password_hash=password_hash)
            session.add(patient)
            await session.flush()
            token = await issue_session(session, policy, patient_id=patient.id)
    except IntegrityError as error:
        # Two sign-ups for one email raced past the check above.
        raise EmailTakenError(
            "An account already uses this email; sign in with it instead.", field="email"
        ) from error

    logger.info("patient %s signed up", patient.id)
    return SignedIn(token=token, patient=patient)


async def check_credentials(
    load_password_hash: Callable[[], Awaitable[tuple[AccountT, str] | None]],
    password: str,
    *,
    guard: SignInGuard | None,
    guard_key: str,
    client_address: str | None,
) -> AccountT:
    """Return the account whose password matches, or raise INVALID_CREDENTIALS.

    ``load_password_hash`` returns the account and its hash, or None for an
    unknown or disabled account. Attempts for one ``guard_key`` run in turn
    and count against the sign-in limits.
    """
    attempt = guard.attempt(guard_key, client_address) if guard else contextlib.nullcontext()
    async with attempt:
        found = await load_password_hash()

        # Verify even for an unknown email, so timing does not reveal accounts.
        # Argon2 takes tens of milliseconds of CPU, so it runs off the event loop.
        stored_hash = found[1] if found is not None else None
        matches = await asyncio.to_thread(verify_password, stored_hash, password)
        if not matches or found is None:
            logger.info("sign-in rejected: wrong email or password, or account disabled")
            if guard is not None:
                await guard.record_failure(guard_key)
            raise InvalidCredentialsError(
                "Email or password is incorrect. Check both and try again."
            )
    return found[0]


async def log_in(
    factory: async_sessionmaker[AsyncSession],
    *,
    email: str,
    password: str,
    policy: SessionPolicy,
    guard: SignInGuard | None = None,
    client_address: str | None = None,
) -> SignedIn:
    """Check an email and password and issue a new session token."""
    email = normalize_email(email)

    async def load() -> tuple[Patient, str] | None:
        async with factory() as session:
            patient = await session.scalar(select(Patient).where(Patient.email == email))
        return (patient, patient.password_hash) if patient is not None else None

    patient = await check_credentials(
        load, password, guard=guard, guard_key=email, client_address=client_address
    )

    async with write_transaction(factory) as session:
        token = await issue_session(session, policy, patient_id=patient.id)
    logger.info("patient %s signed in", patient.id)
    return SignedIn(token=token, patient=patient)
