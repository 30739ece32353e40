"""Start and stop a real gateway process on a loopback port for the end-to-end suites."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.e2e.graphql_http import SecretsByField

HOST = "127.0.0.1"
CARD_DELAY_SECONDS = 0.2
ACH_DELAY_SECONDS = 1.5
STARTUP_TIMEOUT_SECONDS = 20.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0
MIGRATE_TIMEOUT_SECONDS = 60.0
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class GatewayServer:
    """A running gateway: where to reach it, its database file and its captured output."""

    base_url: str
    ws_url: str
    database_url: str
    stderr_path: Path
    stdout_path: Path
    process: subprocess.Popen[bytes]
    # Passwords, card and account numbers sent and tokens received during the
    # session. The log suite checks that none of them reached the server's output.
    secrets: SecretsByField = field(default_factory=lambda: defaultdict(set))

    def read_stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def read_stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")


def find_free_port() -> int:
    """Ask the kernel for a free loopback port.

    Another process could take the port before the server binds it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def gateway_environment(database_url: str) -> dict[str, str]:
    """Build the server's environment: the inherited one without BILLING_*, plus test settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BILLING_")}
    env.update(
        {
            "BILLING_DATABASE_URL": database_url,
            "BILLING_LOG_LEVEL": "INFO",
            "BILLING_SANDBOX_CARD_DELAY_SECONDS": str(CARD_DELAY_SECONDS),
            "BILLING_SANDBOX_ACH_DELAY_SECONDS": str(ACH_DELAY_SECONDS),
            # Every test client signs up and in from 127.0.0.1, so the
            # per-address limit would stop the suite. test_sign_in_limits
            # checks that limit on a server of its own.
            "BILLING_SIGN_IN_ATTEMPTS_PER_ADDRESS": "100000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def migrate_database(env: dict[str, str], log_path: Path) -> None:
    with log_path.open("wb") as log:
        completed = subprocess.run(
            [sys.executable, "-m", "gateway", "migrate"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=MIGRATE_TIMEOUT_SECONDS,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(
            f"gateway migrate exited with {completed.returncode}; output:\n"
            + log_path.read_text(encoding="utf-8", errors="replace")
        )


def wait_until_healthy(server: GatewayServer) -> None:
    """Poll GET /healthz until it returns 200, the process exits, or the deadline passes."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"gateway exited with {server.process.returncode} before it was healthy; "
                    f"stderr:\n{server.read_stderr()}"
                )
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise TimeoutError(
        f"gateway at {server.base_url} was not healthy after {STARTUP_TIMEOUT_SECONDS} s; "
        f"stderr:\n{server.read_stderr()}"
    )


def start_gateway(work_dir: Path, settings: Mapping[str, str] | None = None) -> GatewayServer:
    """Migrate a fresh SQLite file in ``work_dir`` and serve the gateway on a free port.

    ``settings`` are extra environment variables, such as smaller limits.
    """
    database_path = work_dir / "billing.db"
    database_url = f"sqlite+aiosqlite:///{database_path}"
    env = gateway_environment(database_url) | dict(settings or {})
    migrate_database(env, work_dir / "migrate.log")

    port = find_free_port()
    stderr_path = work_dir / "gateway.stderr.log"
    stdout_path = work_dir / "gateway.stdout.log"
    with stderr_path.open("wb") as stderr_file, stdout_path.open("wb") as stdout_file:
        # The child keeps its own copies of the file descriptors.
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--host", HOST, "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=stdout_file,
            stderr=stderr_file,
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


def stop_gateway(server: GatewayServer) -> None:
    """Terminate the server and wait for it, killing it if it ignores SIGTERM."""
    if server.process.poll() is not None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)
