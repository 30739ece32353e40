"""Typed SQLAlchemy models; importing this package registers every table."""

from db.models.audit import AuditEvent
from db.models.care import Appointment, Clinician
from db.models.invoices import Invoice, InvoiceLine
from db.models.patients import AuthSession, Patient
from db.models.payments import (
    AccountCreditEntry,
    Allocation,
    Payment,
    PaymentEvent,
    PaymentMethod,
    Refund,
)
from db.models.staff import ApiKey, StaffMember

__all__ = [
    "AccountCreditEntry",
    "Allocation",
    "ApiKey",
    "Appointment",
    "AuditEvent",
    "AuthSession",
    "Clinician",
    "Invoice",
    "InvoiceLine",
    "Patient",
    "Payment",
    "PaymentEvent",
    "PaymentMethod",
    "Refund",
    "StaffMember",
]
