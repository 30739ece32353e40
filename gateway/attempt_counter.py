"""An in-process sliding-window counter for rate limits."""

from __future__ import annotations

import time
from collections import deque

# Keys kept at most; the oldest are dropped beyond this, so a flood of
# distinct emails or addresses cannot grow memory without bound.
MAX_KEYS = 100_000


class InMemoryAttemptCounter:
    """Counts per key within one process. Behind a load balancer each process counts alone."""

    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = {}

    def _window(self, key: str, window_seconds: float, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= MAX_KEYS:
                self._events.pop(next(iter(self._events)))
            events = self._events[key] = deque()
        while events and events[0] <= now - window_seconds:
            events.popleft()
        return events

    async def add(self, key: str, window_seconds: float) -> int:
        now = time.monotonic()
        events = self._window(key, window_seconds, now)
        events.append(now)
        return len(events)

    async def count(self, key: str, window_seconds: float) -> tuple[int, float]:
        now = time.monotonic()
        events = self._window(key, window_seconds, now)
        if not events:
            return 0, 0.0
        return len(events), events[0] + window_seconds - now
