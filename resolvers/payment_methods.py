"""Adding cards and bank accounts: validate, tokenize at the processor, store the token."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utc_now
from db.engine import write_transaction
from db.enums import CardFunding, PaymentMethodType
from db.models import PaymentMethod
from resolvers.audit import AuditAction, RequestInfo, add_audit_event
from resolvers.errors import (
    InvalidBankAccountError,
    InvalidCardError,
    InvalidInputError,
    NotFoundError,
)
from resolvers.ports import BankAccountDetails, CardDetails, PaymentProcessor, TokenizedMethod

logger = logging.getLogger(__name__)

CARD_TYPES = frozenset({PaymentMethodType.CREDIT_CARD, PaymentMethodType.DEBIT_CARD})


@dataclass(frozen=True)
class NewPaymentMethod:
    method_type: PaymentMethodType
    card: CardDetails | None = None
    bank_account: BankAccountDetails | None = None


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def aba_routing_valid(routing: str) -> bool:
    """Check an ABA routing number's 3-7-1 weighted checksum."""
    if len(routing) != 9 or not _is_digits(routing):
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10 == 0


_ASCII_DIGITS = re.compile(r"[0-9]+")


def _is_digits(value: str) -> bool:
    # str.isdigit() also accepts "²" and other scripts' digits, which int() or
    # the processor would then reject or misread.
    return _ASCII_DIGITS.fullmatch(value) is not None


def _digits_only(value: str) -> str:
    return value.replace(" ", "").replace("-", "")


def validate_card(card: CardDetails, today: date) -> CardDetails:
    """Reject malformed or expired card details; return them with separators removed."""
    number = _digits_only(card.number)
    if not _is_digits(number) or not 12 <= len(number) <= 19 or not luhn_valid(number):
        raise InvalidCardError(
            "Card number is not valid; check the digits on the front of the card.",
            field="card.number",
        )
    if not 1 <= card.exp_month <= 12:
        raise InvalidCardError(
            f"Expiry month {card.exp_month} is not valid; use 1 to 12.", field="card.expMonth"
        )
    if card.exp_year < 100:
        raise InvalidCardError(
            f"Expiry year {card.exp_year} is not valid; use four digits, such as 2030.",
            field="card.expYear",
        )
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        raise InvalidCardError(
            f"Card expired in {card.exp_month:02d}/{card.exp_year}; use a current card.",
            field="card.expYear",
        )
    if card.exp_year > today.year + 25:
        raise InvalidCardError(
            f"Expiry year {card.exp_year} is too far ahead; check the date on the card.",
            field="card.expYear",
        )
    if not _is_digits(card.cvc) or len(card.cvc) not in (3, 4):
        raise InvalidCardError(
            "Security code must be the 3 digits on the back (4 on the front for Amex).",
            field="card.cvc",
        )
    return CardDetails(
        number=number, exp_month=card.exp_month, exp_year=card.exp_year, cvc=card.cvc
    )


def validate_bank_account(account: BankAccountDetails) -> BankAccountDetails:
    """Reject malformed ACH details; return them with separators removed."""
    routing = _digits_only(account.routing_number)
    number = _digits_only(account.account_number)
    if len(routing) != 9 or not _is_digits(routing):
        raise InvalidBankAccountError(
            "Routing number must be the 9 digits printed at the bottom left of a check.",
            field="bankAccount.routingNumber",
        )
    if not aba_routing_valid(routing):
        raise InvalidBankAccountError(
            f"Routing number {routing} fails its check digit; re-check the 9 digits.",
            field="bankAccount.routingNumber",
        )
    if not _is_digits(number) or not 4 <= len(number) <= 17:
        raise InvalidBankAccountError(
            "Account number must be 4 to 17 digits; copy it from a check or your bank's app.",
            field="bankAccount.accountNumber",
        )
    holder = account.account_holder_name.strip()
    if not holder or len(holder) > 120:
        raise InvalidBankAccountError(
            "Enter the account holder's name as the bank knows it (at most 120 characters).",
            field="bankAccount.accountHolderName",
        )
    return BankAccountDetails(
        routing_number=routing, account_number=number, account_holder_name=holder
    )


def _check_funding(requested: PaymentMethodType, tokenized: TokenizedMethod) -> None:
    # A patient who picks "credit card" for a debit card would later be
    # unsure which kind of payment they made, so the mismatch is an error.
    is_debit = tokenized.funding in {CardFunding.DEBIT, CardFunding.PREPAID}
    if requested is PaymentMethodType.CREDIT_CARD and is_debit:
        raise InvalidCardError(
            "This is a debit card; add it with methodType DEBIT_CARD.", field="methodType"
        )
    if requested is PaymentMethodType.DEBIT_CARD and tokenized.funding is CardFunding.CREDIT:
        raise InvalidCardError(
            "This is a credit card; add it with methodType CREDIT_CARD.", field="methodType"
        )


async def add_payment_method(
    factory: async_sessionmaker[AsyncSession],
    processor: PaymentProcessor,
    patient_id: int,
    new_method: NewPaymentMethod,
    today: date,
    audit: RequestInfo | None = None,
) -> PaymentMethod:
    """Validate a card or bank account, tokenize it at the processor and store the token."""
    if new_method.method_type in CARD_TYPES:
        if new_method.card is None:
            raise InvalidCardError(
                f"methodType {new_method.method_type} needs the card input.", field="card"
            )
        if new_method.bank_account is not None:
            raise InvalidInputError("Send card or bankAccount, not both.", field="bankAccount")
        card = validate_card(new_method.card, today)
        tokenized = await processor.tokenize_card(card)
        _check_funding(new_method.method_type, tokenized)
    else:
        if new_method.bank_account is None:
            raise InvalidBankAccountError(
                "methodType ACH needs the bankAccount input.", field="bankAccount"
            )
        if new_method.card is not None:
            raise InvalidInputError("Send card or bankAccount, not both.", field="card")
        tokenized = await processor.tokenize_bank_account(
            validate_bank_account(new_method.bank_account)
        )

    async with write_transaction(factory) as session:
        method = PaymentMethod(
            patient_id=patient_id,
            method_type=new_method.method_type,
            processor_token=tokenized.token,
            brand=tokenized.brand,
            last4=tokenized.last4,
            funding=tokenized.funding,
            exp_month=tokenized.exp_month,
            exp_year=tokenized.exp_year,
            bank_name=tokenized.bank_name,
        )
        session.add(method)
        await session.flush()
        if audit is not None:
            add_audit_event(session, audit, AuditAction.PAYMENT_METHOD_ADDED, patient_id=patient_id)

    logger.info(
        "patient %s added payment method %s (%s ending %s)",
        patient_id,
        method.id,
        method.method_type,
        method.last4,
    )
    return method


async def list_payment_methods(session: AsyncSession, patient_id: int) -> list[PaymentMethod]:
    """List a patient's methods that have not been removed, oldest first."""
    rows = await session.scalars(
        select(PaymentMethod)
        .where(PaymentMethod.patient_id == patient_id, PaymentMethod.removed_at.is_(None))
        .order_by(PaymentMethod.id)
    )
    return list(rows)


async def remove_payment_method(
    factory: async_sessionmaker[AsyncSession],
    patient_id: int,
    method_id: int,
    audit: RequestInfo | None = None,
) -> PaymentMethod:
    """Remove a stored method so it can no longer pay; past payments still show it."""
    async with write_transaction(factory) as session:
        method = await session.get(PaymentMethod, method_id)
        if method is None or method.patient_id != patient_id or method.removed_at is not None:
            raise NotFoundError(
                "Payment method not found; pick one from paymentMethods.", field="paymentMethodId"
            )
        method.removed_at = utc_now()
        if audit is not None:
            add_audit_event(
                session, audit, AuditAction.PAYMENT_METHOD_REMOVED, patient_id=patient_id
            )

    logger.info("patient %s removed payment method %s", patient_id, method_id)
    return method
