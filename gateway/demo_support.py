"""Shared helpers for the demo seed: deterministic identifiers and the practice calendar."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway import demo_data as data

PRACTICE_ZONE = ZoneInfo(data.PRACTICE_TIME_ZONE)


@dataclass
class IdentifierSource:
    """Deterministic tokens and numbers for demo rows, unique within one seeding run."""

    rng: random.Random
    invoice_count: int = 0
    payment_count: int = 0
    confirmation_numbers: set[str] = field(default_factory=set)

    def token(self, prefix: str, hex_digits: int = 16) -> str:
        return f"{prefix}{self.rng.getrandbits(hex_digits * 4):0{hex_digits}x}"

    def invoice_number(self, issued_on: date) -> str:
        self.invoice_count += 1
        return f"INV-{issued_on.year}-{self.invoice_count:06d}"

    def idempotency_key(self) -> str:
        self.payment_count += 1
        return f"demo-{self.payment_count}"

    def confirmation_number(self) -> str:
        while True:
            code = "".join(self.rng.choice(data.CROCKFORD_ALPHABET) for _ in range(8))
            number = f"{data.CONFIRMATION_PREFIX}-{code[:4]}-{code[4:]}"
            if number not in self.confirmation_numbers:
                self.confirmation_numbers.add(number)
                return number


def open_day_on_or_after(day: date) -> date:
    """Return the first weekday from ``day`` on that is not a fixed-date holiday."""
    while day.weekday() >= 5 or (day.month, day.day) in data.FIXED_DATE_HOLIDAYS:
        day += timedelta(days=1)
    return day


def local_date(moment: datetime) -> date:
    return moment.astimezone(PRACTICE_ZONE).date()


def utc_at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC)
