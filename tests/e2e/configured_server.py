"""A gateway process of its own, started with extra BILLING_* settings for one suite.

The session-wide gateway in conftest.py runs with the test defaults. Suites
that need other settings (short sessions, a fast WebSocket recheck) or a
database no other suite writes to start one of these in a module fixture.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.server import (
    HOST,
    PROJECT_ROOT,
    GatewayServer,
    find_free_port,
    gateway_environment,
    migrate_database,
    stop_gateway,
    wait_until_healthy,
)


def start_configured_gateway(work_dir: Path, settings: Mapping[str, str]) -> GatewayServer:
    """Migrate a fresh SQLite file in ``work_dir`` and serve it with ``settings`` added.

    Raises RuntimeError with the server's output if migration or startup fails,
    for example when the gateway rejects one of the settings.
    """
    database_url = f"sqlite+aiosqlite:///{work_dir / 'billing.db'}"
    env = gateway_environment(database_url) | dict(settings)
    migrate_database(env, work_dir / "migrate.log")

    port = find_free_port()
    stderr_path = work_dir / "gateway.stderr.log"
    stdout_path = work_dir / "gateway.stdout.log"
    command = [sys.executable, "-m", "gateway", "serve", "--host", HOST, "--port", str(port)]
    with stderr_path.open("wb") as stderr_file, stdout_path.open("wb") as stdout_file:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=stdout_file, stderr=stderr_file
        )

    server = GatewayServer(
        base_url=f"http://{HOST}:{port}",
        ws_url=f"ws://{HOST}:{port}/graphql",
        database_url=database_url,
        stderr_path=stderr_path,
        stdout_path=stdout_path,
        process=process,
    )
    try:
        wait_until_healthy(server)
    except BaseException:
        stop_gateway(server)
        raise
    return server


@contextmanager
def configured_gateway(work_dir: Path, settings: Mapping[str, str]) -> Iterator[GatewayServer]:
    """Serve a gateway with ``settings`` for the duration of the block."""
    server = start_configured_gateway(work_dir, settings)
    try:
        yield server
    finally:
        stop_gateway(server)
