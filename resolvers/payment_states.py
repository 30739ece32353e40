"""The payment state machine: which moves are allowed and how each is recorded.

    PENDING -> PROCESSING -> SUCCEEDED | FAILED | CANCELED
    SUCCEEDED -> PARTIALLY_REFUNDED -> REFUNDED

A payment only moves forward. Processor callbacks arrive late, twice or out
of order, so a move to the current state or an earlier one is ignored rather
than raised: the first report of an outcome wins.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utc_now
from db.enums import FailureCode, PaymentStatus
from db.models import Payment, PaymentEvent
from resolvers.allocation import refresh_invoice_statuses, release_payment_allocations

logger = logging.getLogger(__name__)

_RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.PROCESSING: 1,
    PaymentStatus.SUCCEEDED: 2,
    PaymentStatus.FAILED: 2,
    PaymentStatus.CANCELED: 2,
    PaymentStatus.PARTIALLY_REFUNDED: 3,
    PaymentStatus.REFUNDED: 4,
}

_TERMINAL = frozenset({PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.REFUNDED})
_REFUND_STATES = frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})

# Statuses after which a processing outcome is known; subscriptions to one
# payment end there.
OUTCOME_STATUSES = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED}
)


def is_allowed_transition(current: PaymentStatus, new: PaymentStatus) -> bool:
    """Tell whether a payment in ``current`` may move to ``new``."""
    if current in _TERMINAL:
        return False
    if new in _REFUND_STATES:
        # Refunds apply to collected money only; a second partial refund
        # repeats PARTIALLY_REFUNDED with a new amount.
        if current is PaymentStatus.PARTIALLY_REFUNDED and new is PaymentStatus.PARTIALLY_REFUNDED:
            return True
        return current in {PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED}
    return _RANK[new] > _RANK[current]


async def transition_payment(
    session: AsyncSession,
    payment: Payment,
    new_status: PaymentStatus,
    message: str,
    *,
    failure_code: FailureCode | None = None,
    failure_reason: str | None = None,
    at: datetime | None = None,
) -> PaymentEvent | None:
    """Move ``payment`` to ``new_status`` and store the event, inside the caller's transaction.

    Returns the new event, or None when the move is not forward and was
    ignored. A failed or canceled payment releases its allocations, and any
    outcome refreshes the status of the invoices it paid.
    """
    if not is_allowed_transition(payment.status, new_status):
        logger.info(
            "ignored payment %s move from %s to %s: not a forward move",
            payment.id,
            payment.status,
            new_status,
        )
        return None

    occurred_at = at or utc_now()
    previous = payment.status
    last_sequence = await session.scalar(
        select(func.max(PaymentEvent.sequence)).where(PaymentEvent.payment_id == payment.id)
    )

    payment.status = new_status
    payment.updated_at = occurred_at
    if new_status is PaymentStatus.SUCCEEDED:
        payment.settled_at = occurred_at
    # The session does not autoflush, and the invoice refresh below reads
    # payment statuses back from the database.
    await session.flush()
    if new_status in {PaymentStatus.FAILED, PaymentStatus.CANCELED}:
        payment.failure_code = failure_code
        payment.failure_reason = failure_reason
        await release_payment_allocations(session, payment.id, occurred_at)
    if new_status in OUTCOME_STATUSES or new_status in _REFUND_STATES:
        await refresh_invoice_statuses(session, payment_id=payment.id)

    event = PaymentEvent(
        payment_id=payment.id,
        sequence=(last_sequence or 0) + 1,
        status=new_status,
        message=message,
        occurred_at=occurred_at,
    )
    session.add(event)
    await session.flush()

    logger.info("payment %s moved from %s to %s", payment.id, previous, new_status)
    return event
