"""Keyset pagination behind the Relay connections.

A cursor is the sort key of the last row a client saw, so pages stay stable
while new payments and invoices are added, and each page is one indexed
query whatever its depth. Cursors are opaque to clients: base64 of JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from resolvers.errors import InvalidInputError

RowT = TypeVar("RowT")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class SortKey:
    column: InstrumentedAttribute[Any]
    descending: bool = False


@dataclass(frozen=True)
class Page(Generic[RowT]):
    rows: list[RowT]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise InvalidInputError(
            f"first is {first}; ask for 0 to {MAX_PAGE_SIZE} items and page on with after.",
            field="first",
        )
    return first


_MAX_ID = 2**63 - 1
_BAD_CURSOR = "after is not a cursor from this connection; pass an edge's cursor unchanged."


def _value_kind(key: SortKey) -> type:
    """Return the Python type a sort column contains: datetime, date, int or str."""
    column_type = key.column.type
    python_type = getattr(column_type, "impl", column_type).python_type
    if python_type not in (datetime, date, int, str):
        raise TypeError(f"cannot page on column {key.column.key} of type {python_type}")
    return python_type  # type: ignore[no-any-return]


def _encode_value(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decode_value(value: object, kind: type) -> object:
    """Parse one cursor value, rejecting anything this column could not hold."""
    if kind is int:
        if type(value) is not int or not 0 <= value <= _MAX_ID:
            raise ValueError("cursor id out of range")
        return value
    if not isinstance(value, str):
        raise ValueError("cursor value is not a string")
    if kind is str:
        return value
    if kind is date:
        return date.fromisoformat(value)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("cursor time has no time zone")
    return moment


def encode_cursor(row: Any, keys: Sequence[SortKey]) -> str:
    values = [_encode_value(getattr(row, key.column.key)) for key in keys]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def decode_cursor(cursor: str, keys: Sequence[SortKey]) -> list[object]:
    """Decode a cursor made by ``encode_cursor`` for the same keys, or raise INVALID_INPUT.

    Cursors come back from clients, so every value is checked against its
    column's type before it reaches SQL.
    """
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("cursor has the wrong shape")
        return [
            _decode_value(value, _value_kind(key)) for value, key in zip(values, keys, strict=True)
        ]
    except (binascii.Error, ValueError, UnicodeDecodeError, OverflowError) as error:
        raise InvalidInputError(_BAD_CURSOR, field="after") from error


def _after_clause(keys: Sequence[SortKey], values: Sequence[object]) -> Any:
    """Rows strictly after ``values`` in the sort order: (a > x) or (a = x and b > y) ..."""
    alternatives = []
    for index, key in enumerate(keys):
        equal_prefix = [keys[i].column == values[i] for i in range(index)]
        beyond = key.column < values[index] if key.descending else key.column > values[index]
        alternatives.append(and_(*equal_prefix, beyond))
    return or_(*alternatives)


async def fetch_page(
    session: AsyncSession,
    query: Select[RowT],
    keys: Sequence[SortKey],
    *,
    first: int | None,
    after: str | None,
) -> Page[RowT]:
    """Run ``query`` for one page; ``keys`` must end in a unique column such as the id."""
    size = page_size(first)
    if after is not None:
        query = query.where(_after_clause(keys, decode_cursor(after, keys)))
    query = query.order_by(*[key.column.desc() if key.descending else key.column for key in keys])

    rows = list((await session.scalars(query.limit(size + 1))).all())
    has_next = len(rows) > size
    rows = rows[:size]
    return Page(
        rows=rows,
        cursors=[encode_cursor(row, keys) for row in rows],
        has_next_page=has_next,
        has_previous_page=after is not None,
    )
