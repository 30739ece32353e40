"""The paymentEvents stream a staff dashboard watches, over graphql-transport-ws.

The suite runs its own gateway, so the stream carries only the payments
made here and a test can expect an exact list of events. Every test waits
for its payments to reach an outcome before it ends, so the next test
starts from a quiet stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.accounts import (
    ACH_SETTLES,
    OUTCOME_STATUSES,
    VISA_CREDIT,
    VISA_DEBIT,
    PatientAccount,
    add_bank_account,
    add_card,
    create_patient,
    decode_global_id,
    pay_bill,
    wait_for_payment_status,
)
from tests.e2e.configured_server import configured_gateway
from tests.e2e.event_socket import open_stream_socket
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.graphql_ws import TRANSPORT_WS, subscribe
from tests.e2e.server import GatewayServer
from tests.e2e.staff_and_keys import PartnerKey, StaffAccount, create_partner_key, create_staff
from tests.e2e.staff_operations import PAYMENT_EVENTS, STORED_PAYMENT_EVENTS

PAYMENT_CENTS = 1_000
EVENTS_PER_PAYMENT = 3
SUCCESS_STATUSES = ["PENDING", "PROCESSING", "SUCCEEDED"]
STREAM_DEADLINE_SECONDS = 15.0
# How long a stream must stay silent once every expected event has arrived.
QUIET_SECONDS = 0.5
HTTP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Payer:
    """A patient and the methods they pay with: a card and a bank account."""

    patient: PatientAccount
    card_id: str
    bank_account_id: str


@dataclass(frozen=True)
class Dashboard:
    server: GatewayServer
    staff: StaffAccount
    payers: tuple[Payer, ...]
    events_key: PartnerKey
    payments_key: PartnerKey


async def create_payer(client: GraphQLClient, server: GatewayServer, card: str) -> Payer:
    patient = await create_patient(client, server.database_url)
    method_type = "DEBIT_CARD" if card == VISA_DEBIT else "CREDIT_CARD"
    card_method = await add_card(client, patient.token, card, method_type)
    bank_account = await add_bank_account(client, patient.token, ACH_SETTLES)
    return Payer(patient=patient, card_id=card_method["id"], bank_account_id=bank_account["id"])


async def create_dashboard(server: GatewayServer) -> Dashboard:
    async with httpx.AsyncClient(
        base_url=server.base_url, trust_env=False, timeout=HTTP_TIMEOUT_SECONDS
    ) as http:
        client = GraphQLClient(http, server.secrets)
        payers = [
            await create_payer(client, server, card)
            for card in (VISA_CREDIT, VISA_DEBIT, VISA_CREDIT, VISA_DEBIT)
        ]
        staff, events_key, payments_key = await asyncio.gather(
            create_staff(client, server.database_url),
            create_partner_key(server.database_url, "events:read"),
            create_partner_key(server.database_url, "payments:read"),
        )
    return Dashboard(
        server=server,
        staff=staff,
        payers=tuple(payers),
        events_key=events_key,
        payments_key=payments_key,
    )


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with configured_gateway(tmp_path_factory.mktemp("dashboard"), {}) as server:
        # The fixture is module-scoped, so it runs its own event loop because
        # pytest-asyncio closes each test's loop when the test ends.
        yield asyncio.run(create_dashboard(server))


@pytest.fixture
async def client(dashboard: Dashboard) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(
        base_url=dashboard.server.base_url, trust_env=False, timeout=HTTP_TIMEOUT_SECONDS
    ) as http:
        yield GraphQLClient(http, dashboard.server.secrets)


def event_position(event: dict[str, Any]) -> int:
    """The stream position a cursor encodes, which orders events across payments."""
    _type_name, position = decode_global_id(event["cursor"])
    return position


async def stored_events(client: GraphQLClient, staff: StaffAccount) -> list[dict[str, Any]]:
    """Every stored event of the server's payments, in stream order, as staff read them."""
    data = await client.data(STORED_PAYMENT_EVENTS, token=staff.token)
    events = [
        event | {"paymentId": edge["node"]["id"]}
        for edge in data["payments"]["edges"]
        for event in edge["node"]["events"]
    ]
    return sorted(events, key=event_position)


async def latest_cursor(client: GraphQLClient, staff: StaffAccount) -> str | None:
    """The cursor of the newest stored event, or None while there is none."""
    events = await stored_events(client, staff)
    return events[-1]["cursor"] if events else None


async def make_payments(client: GraphQLClient, payments: Sequence[tuple[Payer, str]]) -> list[str]:
    """Pay PAYMENT_CENTS with each (payer, method id) in turn and wait for every outcome."""
    created = []
    for payer, method_id in payments:
        payment = await pay_bill(
            client, payer.patient.token, payment_method_id=method_id, amount_cents=PAYMENT_CENTS
        )
        created.append((payer, payment["id"]))
    for payer, payment_id in created:
        await wait_for_payment_status(client, payer.patient.token, payment_id, OUTCOME_STATUSES)
    return [payment_id for _payer, payment_id in created]


def events_by_payment(events: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        grouped.setdefault(event["paymentId"], []).append(event)
    return grouped


def stream_events(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [result["paymentEvents"] for result in results]


def after_variables(cursor: str | None) -> dict[str, Any]:
    return {} if cursor is None else {"after": cursor}


async def test_dashboard_receives_every_event(client: GraphQLClient, dashboard: Dashboard) -> None:
    first, second, third, _ = dashboard.payers
    start = await latest_cursor(client, dashboard.staff)

    async with open_stream_socket(dashboard.server.ws_url, dashboard.staff.token) as socket:
        await socket.start(PAYMENT_EVENTS, after_variables(start))
        payment_ids = await make_payments(
            client,
            [
                (first, first.card_id),
                (second, second.bank_account_id),
                (third, third.card_id),
                (first, first.bank_account_id),
            ],
        )
        results = await socket.next_data(
            EVENTS_PER_PAYMENT * len(payment_ids), deadline_seconds=STREAM_DEADLINE_SECONDS
        )
        extra = await socket.data_within(QUIET_SECONDS)
    stored = await stored_events(client, dashboard.staff)

    events = stream_events(results)
    positions = [event_position(event) for event in events]
    grouped = events_by_payment(events)
    assert positions == sorted(set(positions))
    assert sorted(grouped) == sorted(payment_ids)
    for payment_id in payment_ids:
        assert [event["sequence"] for event in grouped[payment_id]] == [1, 2, 3], payment_id
        assert [event["status"] for event in grouped[payment_id]] == SUCCESS_STATUSES, payment_id
    assert [event["cursor"] for event in events] == [
        event["cursor"] for event in stored if event["paymentId"] in payment_ids
    ]
    assert extra == []


async def test_dashboard_resumes_after_cursor(client: GraphQLClient, dashboard: Dashboard) -> None:
    first, second, third, _ = dashboard.payers
    start = await latest_cursor(client, dashboard.staff)

    async with open_stream_socket(dashboard.server.ws_url, dashboard.staff.token) as socket:
        await socket.start(PAYMENT_EVENTS, after_variables(start))
        seen_ids = await make_payments(
            client, [(first, first.card_id), (second, second.bank_account_id)]
        )
        seen = stream_events(
            await socket.next_data(
                EVENTS_PER_PAYMENT * len(seen_ids), deadline_seconds=STREAM_DEADLINE_SECONDS
            )
        )
    missed_ids = await make_payments(
        client,
        [(third, third.bank_account_id), (first, first.card_id), (second, second.card_id)],
    )
    async with open_stream_socket(dashboard.server.ws_url, dashboard.staff.token) as socket:
        await socket.start(PAYMENT_EVENTS, {"after": seen[-1]["cursor"]})
        resumed = stream_events(
            await socket.next_data(
                EVENTS_PER_PAYMENT * len(missed_ids), deadline_seconds=STREAM_DEADLINE_SECONDS
            )
        )
        extra = await socket.data_within(QUIET_SECONDS)
    stored = await stored_events(client, dashboard.staff)

    last_seen = event_position(seen[-1])
    assert sorted({event["paymentId"] for event in seen}) == sorted(seen_ids)
    assert sorted({event["paymentId"] for event in resumed}) == sorted(missed_ids)
    assert [event["cursor"] for event in resumed] == [
        event["cursor"] for event in stored if event_position(event) > last_seen
    ]
    assert {event["cursor"] for event in seen}.isdisjoint(event["cursor"] for event in resumed)
    assert extra == []


async def test_patient_stream_shows_own_events(client: GraphQLClient, dashboard: Dashboard) -> None:
    first, second, _, watcher = dashboard.payers

    async with open_stream_socket(dashboard.server.ws_url, watcher.patient.token) as socket:
        await socket.start(PAYMENT_EVENTS)
        payment_ids = await make_payments(
            client,
            [
                (first, first.card_id),
                (watcher, watcher.card_id),
                (second, second.bank_account_id),
                (first, first.card_id),
            ],
        )
        results = await socket.next_data(
            EVENTS_PER_PAYMENT, deadline_seconds=STREAM_DEADLINE_SECONDS
        )
        extra = await socket.data_within(QUIET_SECONDS)

    events = stream_events(results)
    assert [event["paymentId"] for event in events] == [payment_ids[1]] * EVENTS_PER_PAYMENT
    assert [event["status"] for event in events] == SUCCESS_STATUSES
    assert extra == []


async def test_partner_with_events_read_sees_all(
    client: GraphQLClient, dashboard: Dashboard
) -> None:
    first, second, _, _ = dashboard.payers
    start = await latest_cursor(client, dashboard.staff)

    async with open_stream_socket(dashboard.server.ws_url, dashboard.events_key.key) as socket:
        await socket.start(PAYMENT_EVENTS, after_variables(start))
        payment_ids = await make_payments(
            client, [(first, first.card_id), (second, second.card_id)]
        )
        results = await socket.next_data(
            EVENTS_PER_PAYMENT * len(payment_ids), deadline_seconds=STREAM_DEADLINE_SECONDS
        )

    events = stream_events(results)
    assert sorted(events_by_payment(events)) == sorted(payment_ids)


async def test_partner_without_events_read_refused(dashboard: Dashboard) -> None:
    result = await subscribe(
        dashboard.server.ws_url, TRANSPORT_WS, PAYMENT_EVENTS, token=dashboard.payments_key.key
    )

    assert result.events == []
    assert result.rejected is False
    assert result.error_codes == ["FORBIDDEN"]
    assert "events:read" in result.errors[0]["message"]
