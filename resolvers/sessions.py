"""Bearer tokens: issuing, resolving to a principal, renewing and revoking.

Every token is a 256-bit random string behind a prefix that names its kind:
``bgp_`` a patient session, ``bgs_`` a staff session, ``bgk_`` a partner API
key. The database keeps only SHA-256 digests, so a copy of the tables cannot
be replayed as tokens.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utc_now
from db.engine import write_transaction
from db.models import ApiKey, AuthSession, Patient, StaffMember
from resolvers.principals import ALL_SCOPES, Principal, Role, parse_scopes

logger = logging.getLogger(__name__)

PATIENT_TOKEN_PREFIX = "bgp_"  # noqa: S105 (public prefixes, not secrets)
STAFF_TOKEN_PREFIX = "bgs_"  # noqa: S105
API_KEY_PREFIX = "bgk_"
MAX_TOKEN_LENGTH = 200
# Sliding renewal writes at most once a minute per session, not on every request
# (more often only when the idle timeout itself is under ten minutes).
RENEWAL_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    """How long sign-ins last."""

    # A patient session expires after this long unused; each use renews it...
    patient_idle: timedelta = timedelta(days=14)
    # ...but never past this long after sign-in.
    patient_max: timedelta = timedelta(days=90)
    # A staff session lasts a working day from sign-in and is not renewed.
    staff: timedelta = timedelta(hours=8)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


async def issue_session(
    session: AsyncSession,
    policy: SessionPolicy,
    *,
    patient_id: int | None = None,
    staff_id: int | None = None,
) -> str:
    """Store a new sign-in session for a patient or a staff member and return its token."""
    if (patient_id is None) == (staff_id is None):
        raise ValueError("issue_session needs exactly one of patient_id and staff_id")

    now = utc_now()
    if patient_id is not None:
        token = new_token(PATIENT_TOKEN_PREFIX)
        expires_at = now + policy.patient_idle
        absolute: datetime | None = now + policy.patient_max
    else:
        token = new_token(STAFF_TOKEN_PREFIX)
        expires_at = now + policy.staff
        absolute = None

    session.add(
        AuthSession(
            patient_id=patient_id,
            staff_id=staff_id,
            token_hash=hash_token(token),
            created_at=now,
            last_used_at=now,
            expires_at=min(expires_at, absolute) if absolute else expires_at,
            absolute_expires_at=absolute,
        )
    )
    await session.flush()
    return token


async def revoke_session(factory: async_sessionmaker[AsyncSession], token: str) -> int | None:
    """Revoke the sign-in session behind ``token``; return its id, or None if none was active."""
    async with write_transaction(factory) as session:
        auth_session = await session.scalar(
            select(AuthSession).where(
                AuthSession.token_hash == hash_token(token), AuthSession.revoked_at.is_(None)
            )
        )
        if auth_session is None:
            return None
        auth_session.revoked_at = utc_now()
    logger.info("session %s revoked", auth_session.id)
    return auth_session.id


async def resolve_principal(
    factory: async_sessionmaker[AsyncSession], token: str, policy: SessionPolicy
) -> Principal | None:
    """Return who ``token`` signs in, or None if it is unknown, revoked, expired or disabled."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    if token.startswith(API_KEY_PREFIX):
        return await _principal_for_api_key(factory, token)
    if token.startswith(PATIENT_TOKEN_PREFIX) or token.startswith(STAFF_TOKEN_PREFIX):
        return await _principal_for_session(factory, token, policy)
    return None


async def _principal_for_session(
    factory: async_sessionmaker[AsyncSession], token: str, policy: SessionPolicy
) -> Principal | None:
    now = utc_now()
    async with factory() as session:
        auth_session = await session.scalar(
            select(AuthSession)
            .where(AuthSession.token_hash == hash_token(token))
            .where(AuthSession.revoked_at.is_(None))
            .where(AuthSession.expires_at > now)
        )
        if auth_session is None:
            return None
        if auth_session.patient_id is not None:
            patient = await session.get(Patient, auth_session.patient_id)
            if patient is None:
                return None
            principal = Principal(
                role=Role.PATIENT,
                actor_id=patient.id,
                name=patient.name,
                session_id=auth_session.id,
            )
        else:
            staff = await session.get(StaffMember, auth_session.staff_id)
            if staff is None or staff.disabled_at is not None:
                return None
            principal = Principal(
                role=Role.STAFF,
                actor_id=staff.id,
                name=staff.name,
                scopes=ALL_SCOPES,
                is_auditor=staff.is_auditor,
                session_id=auth_session.id,
            )

    if principal.role is Role.PATIENT:
        await _renew_patient_session(factory, auth_session, policy, now)
    return principal


async def _renew_patient_session(
    factory: async_sessionmaker[AsyncSession],
    auth_session: AuthSession,
    policy: SessionPolicy,
    now: datetime,
) -> None:
    last_used = auth_session.last_used_at or auth_session.created_at
    # A tenth of the idle time at most, so a short idle setting still slides.
    if now - last_used < min(RENEWAL_INTERVAL, policy.patient_idle / 10):
        return
    expires_at = now + policy.patient_idle
    if auth_session.absolute_expires_at is not None:
        expires_at = min(expires_at, auth_session.absolute_expires_at)
    async with write_transaction(factory) as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == auth_session.id)
            .values(last_used_at=now, expires_at=expires_at)
        )


async def _principal_for_api_key(
    factory: async_sessionmaker[AsyncSession], token: str
) -> Principal | None:
    async with factory() as session:
        api_key = await session.scalar(
            select(ApiKey).where(ApiKey.key_hash == hash_token(token), ApiKey.revoked_at.is_(None))
        )
    if api_key is None:
        return None
    return Principal(
        role=Role.PARTNER,
        actor_id=api_key.id,
        name=api_key.name,
        scopes=parse_scopes(api_key.scopes),
    )


async def session_is_active(factory: async_sessionmaker[AsyncSession], session_id: int) -> bool:
    """Tell whether a sign-in session is still unrevoked and unexpired."""
    async with factory() as session:
        found = await session.scalar(
            select(AuthSession.id)
            .where(AuthSession.id == session_id)
            .where(AuthSession.revoked_at.is_(None))
            .where(AuthSession.expires_at > utc_now())
        )
    return found is not None
