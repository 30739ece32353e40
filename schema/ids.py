"""Opaque Relay global IDs: base64 of "TypeName:databaseId"."""

from __future__ import annotations

import re

from strawberry.relay import GlobalID
from strawberry.relay.types import GlobalIDValueError


def decode_global_id(value: str, expected_type: str | None = None) -> tuple[str, int] | None:
    """Return (type name, database id) for a well-formed ID, or None.

    A malformed ID, one of another type or a non-numeric one all give None,
    so callers return NOT_FOUND without revealing why.
    """
    try:
        global_id = GlobalID.from_id(value)
    except (GlobalIDValueError, ValueError, TypeError):
        return None
    if expected_type is not None and global_id.type_name != expected_type:
        return None
    if not _DATABASE_ID.fullmatch(global_id.node_id):
        return None
    database_id = int(global_id.node_id)
    # The base64 decoder skips characters outside its alphabet, so "<id>!!"
    # would decode like "<id>". Only the exact ID this API issues is accepted.
    if encode_global_id(global_id.type_name, database_id) != value:
        return None
    return global_id.type_name, database_id


# ASCII digits only: str.isdigit() also accepts "²" and other scripts' digits.
_DATABASE_ID = re.compile(r"[0-9]{1,18}")

# No row has this primary key, since SQLite and PostgreSQL both count from 1.
MISSING_ID = 0


def database_id_or_missing(value: str, expected_type: str) -> int:
    """Decode an input ID, mapping a malformed or wrong-type one to an id that never exists.

    The lookup that follows then raises NOT_FOUND with the same message as
    for an unknown ID or another patient's, so the reply reveals nothing.
    """
    decoded = decode_global_id(value, expected_type)
    return MISSING_ID if decoded is None else decoded[1]


def encode_global_id(type_name: str, database_id: int) -> str:
    return str(GlobalID(type_name, str(database_id)))


def encode_event_cursor(event_id: int) -> str:
    """Opaque cursor for a position in the stream of all payment events."""
    return str(GlobalID("PaymentEventCursor", str(event_id)))


def decode_event_cursor(cursor: str) -> int | None:
    decoded = decode_global_id(cursor, "PaymentEventCursor")
    return None if decoded is None else decoded[1]
