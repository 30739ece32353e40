"""Per-request DataLoaders, so nested fields cost one query per level, not per row.

All loaders of a request share one database session. A session must not be
used by two coroutines at once, and Strawberry resolves sibling fields
concurrently, so every query goes through ``RequestDatabase.session()``,
which hands the session out under a lock.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db.models import (
    Allocation,
    Appointment,
    Clinician,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentEvent,
    PaymentMethod,
    Refund,
)
from resolvers.balances import balances_by_patient, credits_by_patient, invoice_amounts

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


class RequestDatabase:
    """One lazily opened session per request, shared under a lock."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._session is None:
                self._session = self._factory()
            yield self._session

    async def close(self) -> None:
        async with self._lock:
            if self._session is not None:
                await self._session.close()
                self._session = None


class Loaders:
    """The DataLoaders of one request."""

    def __init__(self, database: RequestDatabase) -> None:
        self._database = database
        self.invoice = self._by_id(Invoice)
        self.appointment = self._by_id(Appointment)
        self.clinician = self._by_id(Clinician)
        self.payment = self._by_id(Payment)
        self.payment_method = self._by_id(PaymentMethod)
        self.invoice_lines = self._grouped(InvoiceLine, InvoiceLine.invoice_id, InvoiceLine.id)
        self.invoice_allocations = self._grouped(
            Allocation, Allocation.invoice_id, Allocation.id, active_allocations=True
        )
        self.payment_allocations = self._grouped(
            Allocation, Allocation.payment_id, Allocation.id, active_allocations=True
        )
        self.payment_refunds = self._grouped(Refund, Refund.payment_id, Refund.id)
        self.payment_events = self._grouped(
            PaymentEvent, PaymentEvent.payment_id, PaymentEvent.sequence
        )
        self.invoice_for_appointment: DataLoader[int, Invoice | None] = DataLoader(
            self._load_invoice_for_appointment
        )
        self.invoice_amounts: DataLoader[int, tuple[int, int]] = DataLoader(
            self._with_session(invoice_amounts)
        )
        self.balance: DataLoader[int, int] = DataLoader(self._with_session(balances_by_patient))
        self.account_credit: DataLoader[int, int] = DataLoader(
            self._with_session(credits_by_patient)
        )

    def _with_session(
        self,
        fetch: Callable[[AsyncSession, Sequence[KeyT]], Coroutine[Any, Any, dict[KeyT, ValueT]]],
    ) -> Callable[[list[KeyT]], Coroutine[Any, Any, list[ValueT]]]:
        async def load(keys: list[KeyT]) -> list[ValueT]:
            async with self._database.session() as session:
                found = await fetch(session, keys)
            return [found[key] for key in keys]

        return load

    def _by_id(self, model: type[ValueT]) -> DataLoader[int, ValueT | None]:
        async def load(ids: list[int]) -> list[ValueT | None]:
            async with self._database.session() as session:
                rows = await session.scalars(select(model).where(model.id.in_(ids)))  # type: ignore[attr-defined]
                found = {row.id: row for row in rows}  # type: ignore[attr-defined]
            return [found.get(key) for key in ids]

        return DataLoader(load)

    def _grouped(
        self,
        model: type[ValueT],
        group_column: Any,
        order_column: Any,
        *,
        active_allocations: bool = False,
    ) -> DataLoader[int, list[ValueT]]:
        async def load(keys: list[int]) -> list[list[ValueT]]:
            query = select(model).where(group_column.in_(keys)).order_by(order_column)
            if active_allocations:
                # A failed payment's released allocations are history, not money applied.
                query = query.where(Allocation.released_at.is_(None))
            async with self._database.session() as session:
                rows = await session.scalars(query)
                grouped: defaultdict[int, list[ValueT]] = defaultdict(list)
                for row in rows:
                    grouped[getattr(row, group_column.key)].append(row)
            return [grouped.get(key, []) for key in keys]

        return DataLoader(load)

    async def _load_invoice_for_appointment(self, ids: list[int]) -> list[Invoice | None]:
        async with self._database.session() as session:
            rows = await session.scalars(select(Invoice).where(Invoice.appointment_id.in_(ids)))
            found = {row.appointment_id: row for row in rows}
        return [found.get(key) for key in ids]
