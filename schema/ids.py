"""Opaque Relay global IDs: base64 of "TypeName:databaseId"."""

from __future__ import annotations

from strawberry.relay import GlobalID
from strawberry.relay.types import GlobalIDValueError

from resolvers.errors import NotFoundError


def decode_global_id(value: str, expected_type: str | None = None) -> tuple[str, int] | None:
    """Return (type name, database id) for a well-formed ID, or None.

    A malformed ID, one of another type or a non-numeric one all give None,
    so callers answer NOT_FOUND without revealing why.
    """
    try:
        global_id = GlobalID.from_id(value)
    except (GlobalIDValueError, ValueError, TypeError):
        return None
    if expected_type is not None and global_id.type_name != expected_type:
        return None
    if not global_id.node_id.isdigit() or len(global_id.node_id) > 18:
        return None
    return global_id.type_name, int(global_id.node_id)


def require_id(value: str, expected_type: str, *, field: str, what: str) -> int:
    """Decode an input ID or raise NOT_FOUND naming the input field."""
    decoded = decode_global_id(value, expected_type)
    if decoded is None:
        raise NotFoundError(f"{what} not found; use an id returned by this API.", field=field)
    return decoded[1]


def encode_global_id(type_name: str, database_id: int) -> str:
    return str(GlobalID(type_name, str(database_id)))
