"""The Viewer type: who a request is signed in as."""

from __future__ import annotations

import enum

import strawberry

from resolvers.principals import Principal


@strawberry.enum(description="The kind of account behind a token.")
class Role(enum.Enum):
    PATIENT = "PATIENT"
    STAFF = "STAFF"
    PARTNER = "PARTNER"


@strawberry.type(description="The principal a request acts as, and what it may do.")
class Viewer:
    role: Role
    name: str
    scopes: list[str] = strawberry.field(
        description="API scopes, e.g. patients:read; patients and staff hold all of them."
    )
    is_auditor: bool = strawberry.field(description="True for staff who may read the audit log.")

    @classmethod
    def from_principal(cls, principal: Principal) -> Viewer:
        return cls(
            role=Role(principal.role.value),
            name=principal.name,
            scopes=sorted(scope.value for scope in principal.scopes),
            is_auditor=principal.is_auditor,
        )
