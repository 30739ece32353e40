"""Fixtures for unit suites: a migrated SQLite database in a temporary folder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade_to_head


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"


@pytest.fixture
async def session_factory(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    # Alembic runs its own event loop, so it cannot run on the test's loop.
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()
