"""Nested fields are batched: the `me` query runs as many statements for 50 invoices as for 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from resolvers.payments import PayBillRequest, pay_bill
from resolvers.sessions import PATIENT_TOKEN_PREFIX, SessionPolicy, issue_session
from schema.build import build_schema
from schema.context import GatewayContext
from tests.unit.builders import (
    RecordedUpdates,
    add_card,
    add_invoice,
    add_patient,
    sandbox_services,
)

ME_WITH_HISTORY = """
query MeWithHistory {
  me {
    name
    balance { cents }
    invoices(first: 100) {
      edges { node {
        number total { cents } amountDue { cents }
        lines { description amount { cents } }
        allocations { amount { cents } payment { confirmationNumber } }
      } }
    }
    payments(first: 100) {
      edges { node {
        confirmationNumber status amount { cents }
        method { brand last4 }
        allocations { amount { cents } invoice { number } }
        events { sequence status }
      } }
    }
  }
}
"""


@contextmanager
def count_statements(factory: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    engine = factory.kw["bind"].sync_engine
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _statements_for(factory: async_sessionmaker[AsyncSession], invoices: int) -> int:
    async with factory() as session:
        patient = await add_patient(session)
        for index in range(invoices):
            await add_invoice(
                session, patient.id, 10000, date(2026, 1, 1) + timedelta(days=index), lines=2
            )
        card = await add_card(session, patient.id)
        token = await issue_session(session, SessionPolicy(), patient_id=patient.id)
        await session.commit()
    services = sandbox_services(factory, RecordedUpdates())
    await pay_bill(
        services,
        patient.id,
        PayBillRequest(
            idempotency_key="one", payment_method_id=card.id, amount_cents=invoices * 5000
        ),
    )
    await services.processor.aclose()
    schema = build_schema()

    with count_statements(factory) as statements:
        result = await schema.execute(
            ME_WITH_HISTORY,
            context_value=GatewayContext(services=services, request=None, header_token=token),
        )

    assert token.startswith(PATIENT_TOKEN_PREFIX)
    assert result.errors is None
    assert len(result.data["me"]["invoices"]["edges"]) == invoices
    return len(statements)


async def test_me_statements_constant_in_invoices(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    one = await _statements_for(session_factory, 1)
    fifty = await _statements_for(session_factory, 50)

    print(f"me query statements: 1 invoice -> {one}, 50 invoices -> {fifty}")
    assert fifty == one
