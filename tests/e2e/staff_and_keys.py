"""Staff accounts and partner API keys, made with the billing-gateway command line.

The command line is the only way an operator creates either, so the suites
run it against the server's SQLite file. A key without any scope cannot be
made there, so that one is inserted with the project's models instead.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from db.engine import create_engine, create_session_factory
from db.models import ApiKey, StaffMember
from resolvers.sessions import hash_token
from tests.e2e.accounts import new_password
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.server import PROJECT_ROOT, gateway_environment
from tests.e2e.staff_operations import STAFF_LOG_IN

CLI_TIMEOUT_SECONDS = 30.0
API_KEY_PREFIX = "bgk_"
# The first line of create-api-key's output, e.g. "API key 7 for ... (payments:read):".
_CREATED_KEY_LINE = re.compile(r"^API key (\d+) for ")


@dataclass(frozen=True)
class StaffAccount:
    email: str
    password: str
    token: str
    db_id: int
    is_auditor: bool

    @property
    def actor(self) -> str:
        """The label the audit log records for this staff member, e.g. "staff:3"."""
        return f"staff:{self.db_id}"


@dataclass(frozen=True)
class PartnerKey:
    key: str
    db_id: int
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        """The label the audit log records for this key, e.g. "api_key:7"."""
        return f"api_key:{self.db_id}"


async def run_cli(database_url: str, *args: str, stdin_text: str = "") -> str:
    """Run ``python -m gateway ARGS`` against ``database_url`` and return its stdout.

    Raises RuntimeError with the command's stderr if it exits with a non-zero status.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *args,
        cwd=PROJECT_ROOT,
        env=gateway_environment(database_url),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(
        process.communicate(stdin_text.encode()), CLI_TIMEOUT_SECONDS
    )
    if process.returncode != 0:
        raise RuntimeError(
            f"billing-gateway {' '.join(args)} exited with {process.returncode}; "
            f"stderr:\n{stderr.decode(errors='replace')}"
        )
    return stdout.decode()


async def staff_log_in(client: GraphQLClient, email: str, password: str) -> str:
    """Sign a staff member in and return the token. Fails the test on any user error."""
    data = await client.data(STAFF_LOG_IN, {"input": {"email": email, "password": password}})
    payload = data["staffLogIn"]
    assert payload["userErrors"] == [], f"staffLogIn returned user errors: {payload['userErrors']}"
    token: str = payload["token"]
    return token


async def find_staff_id(database_url: str, email: str) -> int:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            staff_id = await session.scalar(
                select(StaffMember.id).where(StaffMember.email == email)
            )
    finally:
        await engine.dispose()
    if staff_id is None:
        raise LookupError(f"no staff member has email {email}")
    return staff_id


async def create_staff(
    client: GraphQLClient, database_url: str, *, auditor: bool = False
) -> StaffAccount:
    """Create a staff member with create-staff, sign them in, and return the account."""
    email = f"staff-{uuid.uuid4().hex[:16]}@example.com"
    password = new_password()
    args = ["create-staff", "--name", "Casey Morgan", "--email", email]
    if auditor:
        args.append("--auditor")
    await run_cli(database_url, *args, stdin_text=password + "\n")

    token = await staff_log_in(client, email, password)
    db_id = await find_staff_id(database_url, email)
    return StaffAccount(
        email=email, password=password, token=token, db_id=db_id, is_auditor=auditor
    )


async def create_partner_key(database_url: str, *scopes: str) -> PartnerKey:
    """Create an API key with create-api-key and return the key it prints once."""
    args = ["create-api-key", "--name", "Northwind Clearing House"]
    for scope in scopes:
        args += ["--scope", scope]
    output = await run_cli(database_url, *args)

    lines = output.splitlines()
    header = _CREATED_KEY_LINE.match(lines[0]) if lines else None
    keys = [line.strip() for line in lines if line.startswith(API_KEY_PREFIX)]
    if header is None or len(keys) != 1:
        raise RuntimeError(f"create-api-key printed an unexpected output:\n{output}")
    return PartnerKey(key=keys[0], db_id=int(header.group(1)), scopes=frozenset(scopes))


async def insert_partner_key_without_scopes(database_url: str) -> PartnerKey:
    """Store an API key that has no scope, which create-api-key does not allow."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            row = ApiKey(
                name="Scopeless Analytics",
                prefix=key[:12],
                key_hash=hash_token(key),
                scopes="",
            )
            session.add(row)
            await session.commit()
            db_id = row.id
    finally:
        await engine.dispose()
    return PartnerKey(key=key, db_id=db_id, scopes=frozenset())


async def revoke_partner_key(database_url: str, key: PartnerKey) -> None:
    await run_cli(database_url, "revoke-api-key", str(key.db_id))
