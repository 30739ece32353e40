"""Staff accounts: created from the command line, signed in through the API."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import write_transaction
from db.models import StaffMember
from resolvers.auth import (
    check_credentials,
    check_new_email,
    check_new_password,
    normalize_email,
)
from resolvers.errors import EmailTakenError
from resolvers.passwords import hash_password
from resolvers.sessions import SessionPolicy, issue_session
from resolvers.sign_in_limits import SignInGuard

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffSignedIn:
    token: str
    staff: StaffMember


async def create_staff_member(
    factory: async_sessionmaker[AsyncSession],
    *,
    name: str,
    email: str,
    password: str,
    is_auditor: bool = False,
) -> StaffMember:
    """Create a staff account; raises EmailTakenError when the email already has one."""
    email = normalize_email(email)
    check_new_email(email)
    check_new_password(password, email)
    password_hash = await asyncio.to_thread(hash_password, password)

    async with write_transaction(factory) as session:
        taken = await session.scalar(select(StaffMember.id).where(StaffMember.email == email))
        if taken is not None:
            raise EmailTakenError(f"A staff account already uses {email}.", field="email")
        staff = StaffMember(
            name=name.strip(), email=email, password_hash=password_hash, is_auditor=is_auditor
        )
        session.add(staff)
        await session.flush()

    logger.info("staff member %s created (auditor: %s)", staff.id, is_auditor)
    return staff


async def staff_log_in(
    factory: async_sessionmaker[AsyncSession],
    policy: SessionPolicy,
    *,
    email: str,
    password: str,
    guard: SignInGuard | None = None,
    client_address: str | None = None,
) -> StaffSignedIn:
    """Check a staff email and password and issue a session for a working day."""
    email = normalize_email(email)

    async def load() -> tuple[StaffMember, str] | None:
        async with factory() as session:
            staff = await session.scalar(select(StaffMember).where(StaffMember.email == email))
        if staff is None or staff.disabled_at is not None:
            return None
        return staff, staff.password_hash

    # Staff emails count apart from patients' with the same address.
    staff = await check_credentials(
        load, password, guard=guard, guard_key=f"staff:{email}", client_address=client_address
    )

    async with write_transaction(factory) as session:
        token = await issue_session(session, policy, staff_id=staff.id)
    logger.info("staff member %s signed in", staff.id)
    return StaffSignedIn(token=token, staff=staff)
