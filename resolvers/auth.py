"""Patient sign-up, sign-in and bearer-token sessions.

Tokens are 256-bit random strings shown to the client once; the database
keeps only their SHA-256 digest, so a leaked table cannot be replayed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utc_now
from db.engine import write_transaction
from db.models import AuthSession, Patient
from resolvers.errors import (
    EmailTakenError,
    InvalidCredentialsError,
    InvalidEmailError,
    InvalidInputError,
    WeakPasswordError,
)
from resolvers.passwords import hash_password, verify_password

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "bgp_"  # noqa: S105 (a public prefix, not a secret)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is
# proven by the mail the practice sends, not by a pattern.
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SignedIn:
    token: str
    patient: Patient


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    """Fold an email to one spelling, so look-alike forms cannot open a second account.

    NFKC maps fullwidth and other compatibility characters to their plain
    forms (fullwidth "demo" to ASCII "demo") before lower-casing.
    """
    return unicodedata.normalize("NFKC", email).strip().lower()


def _has_hidden_characters(text: str) -> bool:
    """Tell whether text holds control or format characters such as NUL or U+202E."""
    return any(unicodedata.category(char).startswith("C") for char in text)


def _validate_sign_up(name: str, email: str, password: str) -> None:
    if not name.strip():
        raise InvalidInputError("Enter your name.", field="name")
    if _has_hidden_characters(name):
        raise InvalidInputError(
            "Name contains control or formatting characters; type it in plain text.", field="name"
        )
    if len(name) > 200:
        raise InvalidInputError("Name is longer than 200 characters; shorten it.", field="name")
    if len(email) > 320 or not _EMAIL_PATTERN.fullmatch(email) or _has_hidden_characters(email):
        raise InvalidEmailError(
            f"{email!r} is not a valid email address; use the form name@example.com.",
            field="email",
        )
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


async def _issue_token(session: AsyncSession, patient_id: int, lifetime: timedelta) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utc_now()
    session.add(
        AuthSession(
            patient_id=patient_id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    await session.flush()
    return token


async def sign_up(
    factory: async_sessionmaker[AsyncSession],
    *,
    name: str,
    email: str,
    password: str,
    token_lifetime: timedelta,
) -> SignedIn:
    """Create a patient account and sign it in."""
    email = normalize_email(email)
    _validate_sign_up(name, email, password)
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
            token = await _issue_token(session, patient.id, token_lifetime)
    except IntegrityError as error:
        # Two sign-ups for one email raced past the check above.
        raise EmailTakenError(
            "An account already uses this email; sign in with it instead.", field="email"
        ) from error

    logger.info("patient %s signed up", patient.id)
    return SignedIn(token=token, patient=patient)


async def log_in(
    factory: async_sessionmaker[AsyncSession],
    *,
    email: str,
    password: str,
    token_lifetime: timedelta,
) -> SignedIn:
    """Check an email and password and issue a new session token."""
    email = normalize_email(email)
    async with factory() as session:
        patient = await session.scalar(select(Patient).where(Patient.email == email))

    # Verify even for an unknown email, so timing does not reveal accounts.
    # Argon2 takes tens of milliseconds of CPU, so it runs off the event loop.
    matches = await asyncio.to_thread(
        verify_password, patient.password_hash if patient else None, password
    )
    if not matches or patient is None:
        logger.info("sign-in rejected: wrong email or password")
        raise InvalidCredentialsError("Email or password is incorrect. Check both and try again.")

    async with write_transaction(factory) as session:
        token = await _issue_token(session, patient.id, token_lifetime)
    logger.info("patient %s signed in", patient.id)
    return SignedIn(token=token, patient=patient)


async def log_out(factory: async_sessionmaker[AsyncSession], token: str) -> bool:
    """Revoke the session behind ``token``; returns whether one was active."""
    async with write_transaction(factory) as session:
        result = await session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == hash_token(token), AuthSession.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
    revoked: int = result.rowcount  # type: ignore[attr-defined]
    return revoked > 0


async def patient_for_token(session: AsyncSession, token: str) -> Patient | None:
    """Return the patient a bearer token signs in, or None if it is unknown, revoked or expired."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = await session.execute(
        select(Patient)
        .join(AuthSession, AuthSession.patient_id == Patient.id)
        .where(AuthSession.token_hash == hash_token(token))
        .where(AuthSession.revoked_at.is_(None))
        .where(AuthSession.expires_at > utc_now())
    )
    return row.scalar_one_or_none()
