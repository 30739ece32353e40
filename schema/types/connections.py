"""Building Relay connections from a page of rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from strawberry import relay

from resolvers.pagination import Page

RowT = TypeVar("RowT")
NodeT = TypeVar("NodeT", bound=relay.Node)


def to_connection(page: Page[RowT], convert: Callable[[RowT], NodeT]) -> relay.Connection[NodeT]:
    edges = [
        relay.Edge(cursor=cursor, node=convert(row))
        for row, cursor in zip(page.rows, page.cursors, strict=True)
    ]
    return relay.Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
    )
