"""Sign-in limits: failures per email, attempts per address, and the retry time."""

from __future__ import annotations

import asyncio

import pytest

from gateway.attempt_counter import InMemoryAttemptCounter
from resolvers.errors import RateLimitedError
from resolvers.sign_in_limits import SignInGuard, SignInLimits

LIMITS = SignInLimits(failures_per_email=3, attempts_per_address=5, window_seconds=60)


async def test_email_locked_after_failures() -> None:
    guard = SignInGuard(InMemoryAttemptCounter(), LIMITS)
    for _ in range(3):
        await guard.check("jordan@example.com", "10.0.0.1")
        await guard.record_failure("jordan@example.com")

    with pytest.raises(RateLimitedError) as raised:
        await guard.check("jordan@example.com", "10.0.0.2")

    assert 0 < raised.value.retry_after_seconds <= 60
    assert "Wait" in raised.value.message


async def test_other_email_unaffected() -> None:
    guard = SignInGuard(InMemoryAttemptCounter(), LIMITS)
    for _ in range(3):
        await guard.record_failure("jordan@example.com")

    await guard.check("casey@example.com", "10.0.0.1")


async def test_address_limited_across_emails() -> None:
    guard = SignInGuard(InMemoryAttemptCounter(), LIMITS)
    for number in range(5):
        await guard.check(f"patient{number}@example.com", "10.0.0.1")

    with pytest.raises(RateLimitedError):
        await guard.check("patient9@example.com", "10.0.0.1")


async def test_window_expiry_lifts_limit() -> None:
    guard = SignInGuard(
        InMemoryAttemptCounter(),
        SignInLimits(failures_per_email=1, attempts_per_address=100, window_seconds=0.05),
    )
    await guard.record_failure("jordan@example.com")
    with pytest.raises(RateLimitedError):
        await guard.check("jordan@example.com", None)

    await asyncio.sleep(0.06)

    await guard.check("jordan@example.com", None)
