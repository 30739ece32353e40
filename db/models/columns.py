"""Column helpers shared by the models."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def enum_column(enum_type: type[enum.Enum], name: str) -> Enum:
    """Store an enum as its name in a VARCHAR with a CHECK constraint.

    A string column rather than a native enum keeps migrations identical on
    SQLite and PostgreSQL and lets a later release add values without ALTER TYPE.
    """
    return Enum(
        enum_type,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
    )
