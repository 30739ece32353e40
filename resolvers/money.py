"""Money arithmetic and display: amounts are integer cents, never floats."""

from __future__ import annotations

CURRENCY = "USD"


def format_cents(cents: int, currency: str = CURRENCY) -> str:
    """Format cents for a US reader, e.g. 123456 -> "$1,234.56", -500 -> "-$5.00"."""
    if currency != "USD":
        raise ValueError(f"unsupported currency {currency!r}: only USD is formatted")
    sign = "-" if cents < 0 else ""
    dollars, remainder = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{remainder:02d}"
