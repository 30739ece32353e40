"""BILLING_LOG_LEVEL=DEBUG raises only the project's loggers, not those of chatty libraries."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from gateway.cli import OWN_LOGGERS, QUIET_LOGGERS, _configure_logging


@pytest.fixture
def restore_levels() -> Iterator[None]:
    names = [*OWN_LOGGERS, *QUIET_LOGGERS]
    saved = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restore_levels")
def test_debug_level_keeps_libraries_quiet() -> None:
    _configure_logging("DEBUG")

    for name in OWN_LOGGERS:
        assert logging.getLogger(name).getEffectiveLevel() == logging.DEBUG
    # websockets logs request headers (bearer tokens) and aiosqlite logs SQL
    # parameters (password hashes) at DEBUG.
    for name in ("websockets.server", "aiosqlite", "sqlalchemy.engine"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
