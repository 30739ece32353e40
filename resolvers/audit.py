"""The audit log: who read or changed whose billing data.

Reads of a patient's records by staff or a partner are recorded once per
request and patient. Every change to money (a payment, a refund, a method
added or removed) is recorded by anyone, in the same transaction as the
change, so neither can exist without the other.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import db.audit_guard  # noqa: F401  (installs the append-only guard)
from db.engine import write_transaction
from db.models import AuditEvent
from resolvers.principals import Principal, Role

logger = logging.getLogger(__name__)


class AuditAction(enum.StrEnum):
    READ = "READ"
    PAYMENT_CREATED = "PAYMENT_CREATED"
    REFUND_CREATED = "REFUND_CREATED"
    PAYMENT_METHOD_ADDED = "PAYMENT_METHOD_ADDED"
    PAYMENT_METHOD_REMOVED = "PAYMENT_METHOD_REMOVED"


@dataclass(frozen=True)
class RequestInfo:
    """The requester and its address: the part of an audit row the caller supplies."""

    principal: Principal
    operation: str
    request_id: str | None = None
    client_address: str | None = None


def add_audit_event(
    session: AsyncSession,
    request: RequestInfo,
    action: AuditAction,
    *,
    patient_id: int | None,
    payment_id: int | None = None,
) -> None:
    """Add an audit row to the caller's transaction."""
    session.add(
        AuditEvent(
            role=request.principal.role.value,
            actor=request.principal.actor,
            operation=request.operation[:120],
            action=action.value,
            patient_id=patient_id,
            payment_id=payment_id,
            client_address=request.client_address,
            request_id=request.request_id,
        )
    )


async def record_reads(
    factory: async_sessionmaker[AsyncSession], request: RequestInfo, patient_ids: Iterable[int]
) -> int:
    """Record that staff or a partner read these patients' records; patients' own reads are not.

    Returns how many rows were written.
    """
    if request.principal.role is Role.PATIENT:
        return 0
    ids = sorted(set(patient_ids))
    if not ids:
        return 0
    async with write_transaction(factory) as session:
        for patient_id in ids:
            add_audit_event(session, request, AuditAction.READ, patient_id=patient_id)
    logger.info(
        "audited %s read of %s patients in request %s",
        request.principal.actor,
        len(ids),
        request.request_id,
    )
    return len(ids)
