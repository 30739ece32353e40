"""The built-in sandbox processor, used when no Stripe keys are configured.

It accepts Stripe's published test card and bank numbers, so a client that
works against the sandbox works against Stripe in test mode. Cards settle
after a short delay; ACH stays PROCESSING for a longer, configurable one.
The scenario is written into the method token and the charge reference, so
a charge in flight when the gateway restarts still reaches its outcome.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from db.base import utc_now
from db.enums import CardFunding, FailureCode, PaymentMethodType, PaymentStatus
from resolvers.errors import InvalidBankAccountError, InvalidCardError, ProcessorError
from resolvers.ports import (
    BankAccountDetails,
    CardDetails,
    ChargeRequest,
    ChargeUpdate,
    ChargeUpdateHandler,
    RefundCharge,
    RefundOutcome,
    TokenizedMethod,
)

logger = logging.getLogger(__name__)

SUCCEEDS = "ok"


@dataclass(frozen=True)
class TestCard:
    brand: str
    funding: CardFunding
    outcome: str


# Stripe's test card numbers (stripe.com/docs/testing), by outcome when charged.
TEST_CARDS = {
    "4242424242424242": TestCard("Visa", CardFunding.CREDIT, SUCCEEDS),
    "4000056655665556": TestCard("Visa", CardFunding.DEBIT, SUCCEEDS),
    "5555555555554444": TestCard("Mastercard", CardFunding.CREDIT, SUCCEEDS),
    "5200828282828210": TestCard("Mastercard", CardFunding.DEBIT, SUCCEEDS),
    "378282246310005": TestCard("American Express", CardFunding.CREDIT, SUCCEEDS),
    "6011111111111117": TestCard("Discover", CardFunding.CREDIT, SUCCEEDS),
    "4000000000000002": TestCard("Visa", CardFunding.CREDIT, FailureCode.CARD_DECLINED.value),
    "4000000000009995": TestCard("Visa", CardFunding.CREDIT, FailureCode.INSUFFICIENT_FUNDS.value),
}

TEST_ROUTING_NUMBER = "110000000"
TEST_BANK_NAME = "STRIPE TEST BANK"
# Stripe's test ACH account numbers, by outcome when debited.
TEST_BANK_ACCOUNTS = {
    "000123456789": SUCCEEDS,
    "000111111116": FailureCode.ACCOUNT_CLOSED.value,
    "000222222227": FailureCode.INSUFFICIENT_FUNDS.value,
}

PROCESSING_MESSAGES = {
    "card": "Card charge sent for approval",
    "ach": "ACH debit sent to your bank",
}
SUCCESS_MESSAGES = {"card": "Payment succeeded", "ach": "ACH debit settled"}

FAILURE_REASONS = {
    (FailureCode.CARD_DECLINED, False): (
        "Your card was declined. Use a different card or contact your card issuer."
    ),
    (FailureCode.INSUFFICIENT_FUNDS, False): (
        "Your card was declined for insufficient funds. "
        "Use a different card or pay a smaller amount."
    ),
    (FailureCode.INSUFFICIENT_FUNDS, True): (
        "Your bank returned the payment for insufficient funds. "
        "Pay from another account or by card; your bank may charge its own fee."
    ),
    (FailureCode.ACCOUNT_CLOSED, True): (
        "Your bank reports this account as closed. Add a different bank account or pay by card."
    ),
}


def _parse(token: str, prefix: str) -> tuple[str, str]:
    """Split a sandbox token "<prefix>_<kind>_<outcome>_<random>" into (kind, outcome)."""
    parts = token.split("_")
    if len(parts) < 5 or f"{parts[0]}_{parts[1]}" != prefix or parts[2] not in {"card", "ach"}:
        raise ProcessorError(f"not a sandbox {prefix} value: {token[:12]}...")
    outcome = "_".join(parts[3:-1])
    if outcome != SUCCEEDS and outcome not in FailureCode.__members__:
        raise ProcessorError(f"sandbox token has unknown outcome {outcome!r}")
    return parts[2], outcome


class SandboxProcessor:
    name = "sandbox"

    def __init__(
        self,
        on_update: ChargeUpdateHandler,
        *,
        card_delay: timedelta,
        ach_delay: timedelta,
    ) -> None:
        self._on_update = on_update
        self._card_delay = card_delay
        self._ach_delay = ach_delay
        self._references: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def tokenize_card(self, card: CardDetails) -> TokenizedMethod:
        test_card = TEST_CARDS.get(card.number)
        if test_card is None:
            raise InvalidCardError(
                "The sandbox accepts only test card numbers, such as 4242 4242 4242 4242.",
                field="card.number",
            )
        token = f"sbx_pm_card_{test_card.outcome}_{secrets.token_hex(8)}"
        return TokenizedMethod(
            token=token,
            method_type=(
                PaymentMethodType.CREDIT_CARD
                if test_card.funding is CardFunding.CREDIT
                else PaymentMethodType.DEBIT_CARD
            ),
            last4=card.number[-4:],
            brand=test_card.brand,
            funding=test_card.funding,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )

    async def tokenize_bank_account(self, account: BankAccountDetails) -> TokenizedMethod:
        if account.routing_number != TEST_ROUTING_NUMBER:
            raise InvalidBankAccountError(
                f"The sandbox accepts only the test routing number {TEST_ROUTING_NUMBER}.",
                field="bankAccount.routingNumber",
            )
        outcome = TEST_BANK_ACCOUNTS.get(account.account_number)
        if outcome is None:
            raise InvalidBankAccountError(
                "The sandbox accepts only test account numbers, such as 000123456789.",
                field="bankAccount.accountNumber",
            )
        return TokenizedMethod(
            token=f"sbx_pm_ach_{outcome}_{secrets.token_hex(8)}",
            method_type=PaymentMethodType.ACH,
            last4=account.account_number[-4:],
            bank_name=TEST_BANK_NAME,
        )

    async def create_charge(self, request: ChargeRequest) -> ChargeUpdate:
        kind, outcome = _parse(request.method_token, "sbx_pm")
        reference = self._references.get(request.idempotency_key)
        if reference is None:
            reference = f"sbx_pi_{kind}_{outcome}_{secrets.token_hex(8)}"
            self._references[request.idempotency_key] = reference
            self._schedule_outcome(reference, request.payment_id)

        is_ach = kind == "ach"
        delay = self._ach_delay if is_ach else self._card_delay
        return ChargeUpdate(
            reference=reference,
            payment_id=request.payment_id,
            status=PaymentStatus.PROCESSING,
            message=PROCESSING_MESSAGES[kind],
            expected_settlement_on=_settlement_date(delay),
        )

    async def create_refund(self, request: RefundCharge) -> RefundOutcome:
        """Refund at once: sandbox charges have no settlement window to wait out."""
        _parse(request.charge_reference, "sbx_pi")
        reference = self._references.get(request.idempotency_key)
        if reference is None:
            reference = f"sbx_re_{secrets.token_hex(8)}"
            self._references[request.idempotency_key] = reference
        return RefundOutcome(reference=reference, succeeded=True)

    async def watch_charge(self, reference: str) -> None:
        _parse(reference, "sbx_pi")
        self._schedule_outcome(reference, None)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _schedule_outcome(self, reference: str, payment_id: int | None) -> None:
        task = asyncio.get_running_loop().create_task(self._report_outcome(reference, payment_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _report_outcome(self, reference: str, payment_id: int | None) -> None:
        kind, outcome = _parse(reference, "sbx_pi")
        is_ach = kind == "ach"
        await asyncio.sleep((self._ach_delay if is_ach else self._card_delay).total_seconds())

        if outcome == SUCCEEDS:
            update = ChargeUpdate(
                reference=reference,
                payment_id=payment_id,
                status=PaymentStatus.SUCCEEDED,
                message=SUCCESS_MESSAGES[kind],
            )
        else:
            code = FailureCode(outcome)
            update = ChargeUpdate(
                reference=reference,
                payment_id=payment_id,
                status=PaymentStatus.FAILED,
                # The event sent to subscribers carries the reason itself.
                message=FAILURE_REASONS[(code, is_ach)],
                failure_code=code,
                failure_reason=FAILURE_REASONS[(code, is_ach)],
            )

        try:
            await self._on_update(update)
        except Exception:
            # No caller awaits this task, so the error is logged here. The
            # payment stays in flight and is picked up again at the next start.
            logger.exception("could not record sandbox outcome for charge %s", reference)


def _settlement_date(delay: timedelta) -> date:
    return (utc_now() + delay).date()
