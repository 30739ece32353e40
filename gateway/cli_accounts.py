"""Command-line account management: staff accounts and partner API keys."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.models import StaffMember
from gateway.config import Settings
from resolvers.api_keys import create_api_key, list_api_keys, revoke_api_key
from resolvers.errors import BillingError
from resolvers.principals import Scope, parse_scopes
from resolvers.staff import create_staff_member

logger = logging.getLogger("gateway.cli")

ResultT = TypeVar("ResultT")


def _run(
    settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[ResultT]]
) -> ResultT:
    async def main() -> ResultT:
        engine = create_engine(settings.database_url)
        try:
            return await work(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _read_password() -> str:
    # Never from argv, where other users of the machine can read it in the process list.
    if sys.stdin.isatty():
        password = getpass.getpass("Password for the new staff account: ")
        if password != getpass.getpass("Repeat the password: "):
            raise ValueError("the two passwords differ; run the command again")
        return password
    return sys.stdin.readline().rstrip("\n")


def _create_staff(settings: Settings, args: argparse.Namespace) -> int:
    password = _read_password()

    async def work(factory: async_sessionmaker[AsyncSession]) -> Any:
        return await create_staff_member(
            factory, name=args.name, email=args.email, password=password, is_auditor=args.auditor
        )

    try:
        staff = _run(settings, work)
    except BillingError as error:
        print(f"billing-gateway: {error.message}", file=sys.stderr)
        return 1
    role = "auditor" if staff.is_auditor else "staff member"
    print(f"Created {role} {staff.email}; sign in with the staffLogIn mutation.")
    return 0


def _create_api_key(settings: Settings, args: argparse.Namespace) -> int:
    try:
        scopes = parse_scopes(" ".join(args.scope))
    except ValueError as error:
        print(f"billing-gateway: {error}", file=sys.stderr)
        return 2

    if not scopes:
        print("billing-gateway: --scope is empty; name at least one scope", file=sys.stderr)
        return 2
    if not args.name.strip():
        print("billing-gateway: --name is empty; name who the key is for", file=sys.stderr)
        return 2

    async def work(factory: async_sessionmaker[AsyncSession]) -> Any:
        return await create_api_key(factory, name=args.name, scopes=scopes)

    created = _run(settings, work)
    print(f"API key {created.api_key.id} for {created.api_key.name} ({created.api_key.scopes}):")
    print(created.key)
    print("Store it now: it is shown only once. Send it as Authorization: Bearer <key>.")
    return 0


def _revoke_api_key(settings: Settings, args: argparse.Namespace) -> int:
    async def work(factory: async_sessionmaker[AsyncSession]) -> Any:
        return await revoke_api_key(factory, args.id)

    try:
        api_key, was_active = _run(settings, work)
    except BillingError as error:
        print(f"billing-gateway: {error.message}", file=sys.stderr)
        return 1
    if was_active:
        print(f"Revoked API key {api_key.id} ({api_key.name}).")
    else:
        print(f"API key {api_key.id} ({api_key.name}) was already revoked.")
    return 0


def _list_api_keys(settings: Settings, _args: argparse.Namespace) -> int:
    async def work(factory: async_sessionmaker[AsyncSession]) -> Any:
        async with factory() as session:
            return await list_api_keys(session)

    print("id\tprefix\tstate\tscopes\tname")
    for api_key in _run(settings, work):
        state = "revoked" if api_key.revoked_at else "active"
        print(f"{api_key.id}\t{api_key.prefix}...\t{state}\t{api_key.scopes}\t{api_key.name}")
    return 0


def _list_staff(settings: Settings, _args: argparse.Namespace) -> int:
    async def work(factory: async_sessionmaker[AsyncSession]) -> Any:
        async with factory() as session:
            return list(await session.scalars(select(StaffMember).order_by(StaffMember.id)))

    print("actor\tauditor\tstate\temail\tname")
    for staff in _run(settings, work):
        state = "disabled" if staff.disabled_at else "active"
        auditor = "yes" if staff.is_auditor else "no"
        print(f"staff:{staff.id}\t{auditor}\t{state}\t{staff.email}\t{staff.name}")
    return 0


def add_account_commands(commands: Any) -> None:
    """Register the staff and API key subcommands on the CLI's subparsers."""
    staff = commands.add_parser(
        "create-staff",
        help="create a staff account; the password is read from the terminal or one stdin line",
    )
    staff.add_argument("--name", required=True, help="the staff member's full name")
    staff.add_argument("--email", required=True, help="sign-in email")
    staff.add_argument("--auditor", action="store_true", help="also allow reading the audit log")
    staff.set_defaults(handler=_create_staff)

    scopes = ", ".join(scope.value for scope in Scope)
    key = commands.add_parser("create-api-key", help="create a partner API key and print it once")
    key.add_argument("--name", required=True, help="who the key is for, e.g. the partner's name")
    key.add_argument(
        "--scope",
        action="append",
        required=True,
        help=f"a scope to grant; repeat for several. One of: {scopes}",
    )
    key.set_defaults(handler=_create_api_key)

    revoke = commands.add_parser("revoke-api-key", help="revoke a partner API key at once")
    revoke.add_argument("id", type=int, help="the key's id, from list-api-keys")
    revoke.set_defaults(handler=_revoke_api_key)

    listing = commands.add_parser("list-api-keys", help="list API keys: id, prefix, state, scopes")
    listing.set_defaults(handler=_list_api_keys)

    staff_list = commands.add_parser(
        "list-staff", help="list staff accounts with the actor label the audit log uses"
    )
    staff_list.set_defaults(handler=_list_staff)
