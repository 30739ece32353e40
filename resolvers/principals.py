"""Who is asking: patients, staff and partner API keys, and what each may read or change.

    PATIENT  their own patient, appointments, invoices, payments, methods, events
    STAFF    every patient's billing data; search patients; refund payments
    PARTNER  what its API key's scopes allow, across all patients

A patient or staff member holds every scope; a patient's are limited to
their own records by ``can_access``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from resolvers.errors import ForbiddenError


class Role(enum.StrEnum):
    PATIENT = "PATIENT"
    STAFF = "STAFF"
    PARTNER = "PARTNER"


class Scope(enum.StrEnum):
    PATIENTS_READ = "patients:read"
    PAYMENTS_READ = "payments:read"
    PAYMENTS_WRITE = "payments:write"
    EVENTS_READ = "events:read"


ALL_SCOPES = frozenset(Scope)


def parse_scopes(text: str) -> frozenset[Scope]:
    """Parse space- or comma-separated scope names, rejecting unknown ones."""
    names = [name for name in text.replace(",", " ").split() if name]
    known = {scope.value for scope in Scope}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown scope {unknown[0]!r}; use one or more of: {', '.join(sorted(known))}"
        )
    return frozenset(Scope(name) for name in names)


@dataclass(frozen=True)
class Principal:
    role: Role
    # The patient's, staff member's or API key's database id, by role.
    actor_id: int
    name: str
    scopes: frozenset[Scope] = ALL_SCOPES
    is_auditor: bool = False
    # The sign-in session behind a patient or staff token; None for API keys.
    session_id: int | None = None

    @property
    def actor(self) -> str:
        """A stable label for logs and the audit log, e.g. "staff:3"; never a name."""
        kind = {Role.PATIENT: "patient", Role.STAFF: "staff", Role.PARTNER: "api_key"}[self.role]
        return f"{kind}:{self.actor_id}"

    @property
    def patient_id(self) -> int | None:
        return self.actor_id if self.role is Role.PATIENT else None

    def has_scope(self, scope: Scope) -> bool:
        return scope in self.scopes

    def can_access(self, scope: Scope, patient_id: int) -> bool:
        """Tell whether this principal may use ``scope`` on one patient's records."""
        if not self.has_scope(scope):
            return False
        if self.role is Role.PATIENT:
            return patient_id == self.actor_id
        return True

    def require_scope(self, scope: Scope) -> None:
        if not self.has_scope(scope):
            raise ForbiddenError(
                f"This API key lacks the {scope.value} scope; "
                "ask the practice for a key that includes it.",
                scope=scope.value,
            )

    def require_role(self, *roles: Role, action: str) -> None:
        if self.role not in roles:
            allowed = " or ".join(role.value.lower() for role in roles)
            raise ForbiddenError(f"Only {allowed} accounts can {action}.")
