"""Rate limits on sign-in, per email and per client address.

Failed sign-ins are counted per email, so no one can guess one patient's
password at speed. Every attempt is counted per client address, so one
machine cannot spray guesses across many emails. Once a limit is reached
the password is not even checked, so a locked-out guess learns nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from resolvers.errors import RateLimitedError
from resolvers.ports import AttemptCounter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignInLimits:
    failures_per_email: int = 5
    attempts_per_address: int = 30
    window_seconds: float = 15 * 60


class SignInGuard:
    def __init__(self, counter: AttemptCounter, limits: SignInLimits) -> None:
        self._counter = counter
        self._limits = limits
        self._email_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    @asynccontextmanager
    async def attempt(self, email: str, client_address: str | None) -> AsyncIterator[None]:
        """Hold one email's attempts in turn: check, verify the password, record the outcome.

        Without this, concurrent guesses all pass the failure count before any
        of them is recorded. The lock is per process; each gateway process
        behind a load balancer serialises its own share.
        """
        lock = self._email_locks.get(email)
        if lock is None:
            lock = self._email_locks[email] = asyncio.Lock()
        async with lock:
            await self.check(email, client_address)
            yield

    async def check_address(self, client_address: str | None) -> None:
        """Count an attempt from ``client_address`` (such as a sign-up) against its limit."""
        if client_address is None:
            return
        key = f"sign-in:address:{client_address}"
        attempts = await self._counter.add(key, self._limits.window_seconds)
        if attempts > self._limits.attempts_per_address:
            _, retry_after = await self._counter.count(key, self._limits.window_seconds)
            logger.warning("rate limited an address (%s attempts)", attempts)
            raise _limited(retry_after)

    async def check(self, email: str, client_address: str | None) -> None:
        """Count this attempt and raise RATE_LIMITED if the email or address is over its limit."""
        await self.check_address(client_address)
        window = self._limits.window_seconds
        failures, retry_after = await self._counter.count(f"sign-in:email:{email}", window)
        if failures >= self._limits.failures_per_email:
            logger.warning("sign-in rate limited for an email (%s failures)", failures)
            raise _limited(retry_after)

    async def record_failure(self, email: str) -> None:
        await self._counter.add(f"sign-in:email:{email}", self._limits.window_seconds)


def _limited(retry_after: float) -> RateLimitedError:
    seconds = max(1, math.ceil(retry_after))
    minutes = math.ceil(seconds / 60)
    when = f"{seconds} seconds" if seconds < 120 else f"{minutes} minutes"
    return RateLimitedError(
        f"Too many sign-in attempts. Wait {when}, then try again.",
        retry_after_seconds=seconds,
    )
