"""Apply Alembic migrations programmatically, for the CLI and the tests."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade_to_head(database_url: str) -> None:
    """Bring the database at ``database_url`` to the newest migration.

    Runs its own event loop, so call it from synchronous code (the CLI, or a
    thread when an event loop is already running).
    """
    logger.info("applying migrations up to head")
    command.upgrade(alembic_config(database_url), "head")
    logger.info("migrations applied")
