"""The schema is created by migrations alone, and they match the models."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from db.base import Base
from db.engine import create_engine
from db.migrate import alembic_config, upgrade_to_head


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_fresh_upgrade_matches_models(database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)

    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    await engine.dispose()

    assert differences == []


async def test_downgrade_removes_every_table(database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url)
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "base")
    engine = create_engine(database_url)

    async with engine.connect() as connection:
        tables = await connection.run_sync(_table_names)
    await engine.dispose()

    assert tables == {"alembic_version"}
