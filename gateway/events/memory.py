"""The in-process event bus: fans payment events out to subscribers in this process."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from resolvers.ports import ALL_PAYMENTS_TOPIC, PaymentEventMessage, payment_topic

logger = logging.getLogger(__name__)


class InProcessEventBus:
    """Delivers each event to the subscribers of its payment and of all payments.

    Queues are unbounded: events are small and a subscription ends with its
    payment's outcome. Subscribers detect any gap by sequence number and read
    it from the database, so the bus never needs to replay.
    """

    def __init__(self) -> None:
        self._queues: defaultdict[str, set[asyncio.Queue[PaymentEventMessage]]] = defaultdict(set)

    async def publish(self, event: PaymentEventMessage) -> None:
        for topic in (payment_topic(event.payment_id), ALL_PAYMENTS_TOPIC):
            for queue in self._queues.get(topic, ()):
                queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[PaymentEventMessage]]:
        queue: asyncio.Queue[PaymentEventMessage] = asyncio.Queue()
        self._queues[topic].add(queue)
        logger.debug("subscribed to %s", topic)
        try:
            yield _drain(queue)
        finally:
            self._queues[topic].discard(queue)
            if not self._queues[topic]:
                del self._queues[topic]
            logger.debug("unsubscribed from %s", topic)

    def subscriber_count(self, topic: str) -> int:
        return len(self._queues.get(topic, ()))


async def _drain(queue: asyncio.Queue[PaymentEventMessage]) -> AsyncIterator[PaymentEventMessage]:
    while True:
        yield await queue.get()
