"""Field permissions: every field that returns records checks the principal's scope on them.

Objects carry the id of the patient they belong to, so a nested field such
as ``Allocation.payment`` checks the same rule as ``node(id:)``. A patient
reaches only their own records, staff reach all, and a partner reaches what
its API key's scopes allow. Every field guarded here is nullable, so a
refusal nulls that field alone, with a FORBIDDEN error beside it, and the
rest of the response survives.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from resolvers.principals import Scope
from schema.context import Info


class _ScopePermission(BasePermission):
    scope: Scope

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = await info.context.principal()
        if principal is None:
            return False
        patient_id = getattr(source, "patient_id", None)
        if patient_id is None:
            return principal.has_scope(self.scope)
        allowed = principal.can_access(self.scope, patient_id)
        if allowed:
            info.context.note_patient_read(patient_id)
        return allowed


def _scope_permission(scope: Scope) -> type[BasePermission]:
    return type(
        f"Requires{scope.name.title().replace('_', '')}",
        (_ScopePermission,),
        {
            "scope": scope,
            "message": (
                f"This API key lacks the {scope.value} scope; "
                "ask the practice for a key that includes it."
            ),
            "error_extensions": {"code": "FORBIDDEN", "scope": scope.value},
        },
    )


ReadPatients = _scope_permission(Scope.PATIENTS_READ)
ReadPayments = _scope_permission(Scope.PAYMENTS_READ)
ReadEvents = _scope_permission(Scope.EVENTS_READ)
