"""What each principal may reach: patients their own records, staff all, partners their scopes."""

from __future__ import annotations

import pytest

from resolvers.errors import ForbiddenError
from resolvers.principals import Principal, Role, Scope, parse_scopes

PATIENT = Principal(role=Role.PATIENT, actor_id=7, name="Jordan")
STAFF = Principal(role=Role.STAFF, actor_id=1, name="Morgan")
READER = Principal(
    role=Role.PARTNER, actor_id=3, name="Acme", scopes=frozenset({Scope.PATIENTS_READ})
)


def test_patient_reaches_own_records_only() -> None:
    assert PATIENT.can_access(Scope.PAYMENTS_READ, 7)
    assert not PATIENT.can_access(Scope.PAYMENTS_READ, 8)


def test_staff_reaches_every_patient() -> None:
    assert STAFF.can_access(Scope.PAYMENTS_READ, 8)


def test_partner_limited_to_scopes() -> None:
    assert READER.can_access(Scope.PATIENTS_READ, 8)
    assert not READER.can_access(Scope.PAYMENTS_READ, 8)


def test_missing_scope_error_names_scope() -> None:
    with pytest.raises(ForbiddenError, match=r"payments:read"):
        READER.require_scope(Scope.PAYMENTS_READ)


def test_actor_labels_never_name_people() -> None:
    assert (PATIENT.actor, STAFF.actor, READER.actor) == ("patient:7", "staff:1", "api_key:3")


def test_parse_scopes_accepts_commas_and_spaces() -> None:
    assert parse_scopes("patients:read, payments:read") == {
        Scope.PATIENTS_READ,
        Scope.PAYMENTS_READ,
    }


def test_parse_scopes_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="unknown scope 'payments:admin'"):
        parse_scopes("payments:admin")
