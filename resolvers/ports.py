"""Interfaces the billing operations need from the outside world.

The gateway supplies the implementations (the sandbox or Stripe processor,
the in-process or Redis event bus); nothing in this package imports them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from db.enums import CardFunding, FailureCode, PaymentMethodType, PaymentStatus


@dataclass(frozen=True, repr=False)
class CardDetails:
    number: str
    exp_month: int
    exp_year: int
    cvc: str

    def __repr__(self) -> str:
        # Keeps the number and CVC out of tracebacks and debug logs.
        return f"CardDetails(last4={self.number[-4:]!r})"


@dataclass(frozen=True, repr=False)
class BankAccountDetails:
    routing_number: str
    account_number: str
    account_holder_name: str

    def __repr__(self) -> str:
        return f"BankAccountDetails(last4={self.account_number[-4:]!r})"


@dataclass(frozen=True)
class TokenizedMethod:
    """A card or bank account as the processor stored it: its token and display details."""

    token: str
    method_type: PaymentMethodType
    last4: str
    brand: str | None = None
    funding: CardFunding | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    bank_name: str | None = None


@dataclass(frozen=True)
class ChargeRequest:
    payment_id: int
    amount_cents: int
    currency: str
    method_token: str
    method_type: PaymentMethodType
    statement_descriptor: str
    # Sent to the processor so that resubmitting the same payment after a
    # crash or timeout never charges twice.
    idempotency_key: str


@dataclass(frozen=True)
class ChargeUpdate:
    """A processor's report of a charge's current status."""

    reference: str
    status: PaymentStatus
    message: str
    failure_code: FailureCode | None = None
    failure_reason: str | None = None
    expected_settlement_on: date | None = None
    payment_id: int | None = None


ChargeUpdateHandler = Callable[[ChargeUpdate], Awaitable[None]]


@dataclass(frozen=True)
class RefundCharge:
    charge_reference: str
    amount_cents: int
    currency: str
    # Sent to the processor so that a retried refund is made once.
    idempotency_key: str


@dataclass(frozen=True)
class RefundOutcome:
    reference: str
    succeeded: bool
    failure_reason: str | None = None


class PaymentProcessor(Protocol):
    """A card and ACH processor.

    ``create_charge`` returns the charge's first status; later changes reach
    the handler the gateway registered, from a webhook, a poll or a timer.
    Methods raise ``InvalidCardError`` or ``InvalidBankAccountError`` for
    details the processor rejects, and ``ProcessorError`` when it fails.
    """

    name: str

    async def tokenize_card(self, card: CardDetails) -> TokenizedMethod: ...

    async def tokenize_bank_account(self, account: BankAccountDetails) -> TokenizedMethod: ...

    async def create_charge(self, request: ChargeRequest) -> ChargeUpdate: ...

    async def create_refund(self, request: RefundCharge) -> RefundOutcome: ...

    async def watch_charge(self, reference: str) -> None:
        """Arrange for a charge still in flight (after a restart) to report its outcome."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class PaymentEventMessage:
    """A stored payment event as it travels over the event bus."""

    event_id: int
    payment_id: int
    patient_id: int
    sequence: int
    status: PaymentStatus
    message: str
    occurred_at: datetime


class EventBus(Protocol):
    """Fans payment events out to every subscriber, in every gateway process."""

    async def publish(self, event: PaymentEventMessage) -> None: ...

    def subscribe(
        self, topic: str
    ) -> AbstractAsyncContextManager[AsyncIterator[PaymentEventMessage]]: ...


def payment_topic(payment_id: int) -> str:
    return f"payment:{payment_id}"


ALL_PAYMENTS_TOPIC = "payments"


class SessionRevocations(Protocol):
    """Told when a sign-in session ends, so connections opened with it can be closed."""

    async def publish_revoked(self, session_id: int) -> None: ...


class AttemptCounter(Protocol):
    """Counts events per key in a sliding time window, shared by every gateway process it serves."""

    async def add(self, key: str, window_seconds: float) -> int:
        """Record one event for ``key``; return how many fall in the window, this one included."""
        ...

    async def count(self, key: str, window_seconds: float) -> tuple[int, float]:
        """Return (events in the window, seconds until the oldest of them leaves it)."""
        ...
