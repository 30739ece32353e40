"""Keeps the audit log append-only for every session of the application.

ORM updates and deletes of ``AuditEvent`` rows, and bulk UPDATE or DELETE
statements on their table, raise ``AuditLogIsAppendOnly`` before reaching
the database. Nothing stops a database superuser; this guards the code paths.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Delete, Update, event
from sqlalchemy.orm import ORMExecuteState, Session

from db.models.audit import AuditEvent


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(Session, "before_flush")
def _reject_changed_audit_rows(session: Session, _context: Any, _instances: Any) -> None:
    for row in (*session.dirty, *session.deleted):
        if isinstance(row, AuditEvent):
            raise AuditLogIsAppendOnly(f"audit event {row.id} cannot be changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _reject_bulk_changes(state: ORMExecuteState) -> None:
    statement = state.statement
    if not isinstance(statement, Update | Delete):
        return
    if getattr(statement.table, "name", None) == AuditEvent.__tablename__:
        raise AuditLogIsAppendOnly("audit events cannot be updated or deleted")
