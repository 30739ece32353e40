"""The append-only audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utc_now


class AuditEvent(Base):
    """A record of who read or changed whose billing data, when, from where, in which request.

    The application only ever inserts these rows: ``db.audit_guard`` rejects
    an update or delete of one in any session.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_patient_id", "patient_id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # PATIENT, STAFF or PARTNER, and that principal's id: "staff:3", "api_key:7".
    role: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[int | None]
    payment_id: Mapped[int | None]
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
