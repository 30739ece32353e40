"""The audit log is append-only through the application."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit_guard import AuditLogIsAppendOnly
from db.models import AuditEvent


async def _one_event(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        row = AuditEvent(role="STAFF", actor="staff:1", operation="patients", action="READ")
        session.add(row)
        await session.commit()
        return row.id


async def test_changing_audit_row_rejected(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await _one_event(session_factory)

    async with session_factory() as session:
        row = await session.get_one(AuditEvent, event_id)
        row.actor = "staff:2"
        with pytest.raises(AuditLogIsAppendOnly):
            await session.flush()


async def test_deleting_audit_row_rejected(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await _one_event(session_factory)

    async with session_factory() as session:
        await session.delete(await session.get_one(AuditEvent, event_id))
        with pytest.raises(AuditLogIsAppendOnly):
            await session.flush()


@pytest.mark.parametrize(
    "statement", [update(AuditEvent).values(actor="staff:9"), delete(AuditEvent)]
)
async def test_bulk_change_rejected(
    session_factory: async_sessionmaker[AsyncSession], statement: object
) -> None:
    await _one_event(session_factory)

    async with session_factory() as session:
        with pytest.raises(AuditLogIsAppendOnly):
            await session.execute(statement)  # type: ignore[call-overload]
