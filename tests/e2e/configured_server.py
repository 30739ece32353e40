"""A gateway process of its own, started with extra BILLING_* settings for one suite.

The session-wide gateway in conftest.py runs with the test defaults. Suites
that need other settings (short sessions, a fast WebSocket recheck) or a
database no other suite writes to start one of these in a module fixture.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.server import GatewayServer, start_gateway, stop_gateway


def start_configured_gateway(work_dir: Path, settings: Mapping[str, str]) -> GatewayServer:
    """Migrate a fresh SQLite file in ``work_dir`` and serve it with ``settings`` added.

    Raises RuntimeError with the server's output if migration or startup fails,
    for example when the gateway rejects one of the settings.
    """
    return start_gateway(work_dir, settings)


@contextmanager
def configured_gateway(work_dir: Path, settings: Mapping[str, str]) -> Iterator[GatewayServer]:
    """Serve a gateway with ``settings`` for the duration of the block."""
    server = start_configured_gateway(work_dir, settings)
    try:
        yield server
    finally:
        stop_gateway(server)
