"""Relay connections page through every row once, and reject forged cursors cleanly."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AppointmentKind, AppointmentModality, AppointmentStatus
from db.models import Appointment, Clinician
from resolvers.payments import PayBillRequest, pay_bill
from resolvers.sessions import SessionPolicy, issue_session
from schema.build import build_schema
from schema.context import GatewayContext
from tests.unit.builders import (
    RecordedUpdates,
    add_card,
    add_invoice,
    add_patient,
    sandbox_services,
)

CONNECTIONS = ["appointments", "invoices", "payments"]


async def _patient_with_five_of_each(
    factory: async_sessionmaker[AsyncSession],
) -> GatewayContext:
    async with factory() as session:
        patient = await add_patient(session)
        clinician = Clinician(name="Dana Okafor", credentials="LCSW")
        session.add(clinician)
        await session.flush()
        start = datetime(2026, 6, 1, 15, tzinfo=UTC)
        for day in range(5):
            session.add(
                Appointment(
                    patient_id=patient.id,
                    clinician_id=clinician.id,
                    kind=AppointmentKind.THERAPY,
                    modality=AppointmentModality.VIDEO,
                    status=AppointmentStatus.COMPLETED,
                    # Two share a start time, so the id must break the tie.
                    starts_at=start + timedelta(days=min(day, 3)),
                    ends_at=start + timedelta(days=min(day, 3), minutes=50),
                )
            )
            await add_invoice(session, patient.id, 10000, date(2026, 7, 1) + timedelta(days=day))
        card = await add_card(session, patient.id)
        token = await issue_session(session, SessionPolicy(), patient_id=patient.id)
        await session.commit()
    services = sandbox_services(factory, RecordedUpdates())
    for number in range(5):
        await pay_bill(
            services,
            patient.id,
            PayBillRequest(
                idempotency_key=f"k{number}", payment_method_id=card.id, amount_cents=100
            ),
        )
    await services.processor.aclose()
    return GatewayContext(services=services, request=None, header_token=token)


async def _fetch(context: GatewayContext, connection: str, **variables: Any) -> dict[str, Any]:
    result = await build_schema().execute(
        _single_connection_query(connection), variable_values=variables, context_value=context
    )
    assert result.errors is None, result.errors
    return result.data["me"][connection]  # type: ignore[index,no-any-return]


def _single_connection_query(connection: str) -> str:
    return (
        "query Page($first: Int, $after: String) { me { "
        f"{connection}(first: $first, after: $after) "
        "{ edges { node { id } } pageInfo { hasNextPage endCursor } } } }"
    )


@pytest.mark.parametrize("connection", CONNECTIONS)
async def test_pages_cover_each_row_once(
    session_factory: async_sessionmaker[AsyncSession], connection: str
) -> None:
    context = await _patient_with_five_of_each(session_factory)

    seen: list[str] = []
    after = None
    for _page in range(5):
        page = await _fetch(context, connection, first=2, after=after)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert len(seen) == 5
    assert len(set(seen)) == 5


def _forged(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


FORGED_CURSORS = [
    "not base64 at all!",
    _forged({"a": 1}),
    _forged([5, 5]),
    _forged([True, 5]),
    _forged(["x", 5]),
    _forged([[1, 2], 5]),
    _forged(["2026-01-01T00:00:00", 5]),
    _forged(["2026-01-01T00:00:00+00:00", 2**64]),
    _forged(["2026-01-01T00:00:00+00:00", -1]),
    _forged(["2026-01-01T00:00:00+00:00", 1.5]),
]


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
async def test_forged_cursor_rejected_as_input(
    session_factory: async_sessionmaker[AsyncSession], cursor: str
) -> None:
    context = await _patient_with_five_of_each(session_factory)

    result = await build_schema().execute(
        _single_connection_query("payments"),
        variable_values={"first": 2, "after": cursor},
        context_value=context,
    )

    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "INVALID_INPUT", "field": "after"}
    assert result.data == {"me": {"payments": None}}
