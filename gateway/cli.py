"""The billing-gateway command: serve, migrate, seed-demo, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from gateway.cli_accounts import add_account_commands
from gateway.config import ConfigError, Settings

logger = logging.getLogger("gateway.cli")


# The project's own packages, whose log lines never carry secrets. BILLING_LOG_LEVEL
# applies to them alone.
OWN_LOGGERS = ("gateway", "schema", "resolvers", "db")

# Libraries that log raw traffic at DEBUG: request headers with bearer tokens
# (websockets), SQL parameters with password hashes (aiosqlite, sqlalchemy)
# and GraphQL variables with card numbers. They stay at WARNING whatever the level.
QUIET_LOGGERS = ("websockets", "aiosqlite", "sqlalchemy", "strawberry", "asyncio")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Alembic announces each of its plugins at INFO; only its migration steps matter here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    logger.info("serving http://%s:%s/graphql", host, port)
    # uvicorn's access log writes whole query strings, which can carry a
    # password in a rejected GET mutation; the gateway logs every operation
    # itself. Its own loggers stay at INFO at most, for the same reason.
    uvicorn_level = "info" if settings.log_level == "DEBUG" else settings.log_level.lower()
    # X-Forwarded-For sets the client address that sign-in limits count and the
    # audit log records, so it is believed only from the proxies configured.
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=uvicorn_level,
        access_log=False,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
    return 0


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from db.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)
    return 0


def _seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from db.engine import create_engine, create_session_factory
    from gateway.demo import database_is_empty, seed_demo
    from gateway.demo_data import DEMO_STAFF
    from resolvers.staff import create_staff_member

    async def run() -> int:
        engine = create_engine(settings.database_url)
        factory = create_session_factory(engine)
        try:
            async with factory() as session:
                if not await database_is_empty(session):
                    if args.if_empty:
                        logger.info("database already has patients; demo data not loaded")
                        return 0
                    logger.error("database already has patients; seed-demo needs an empty one")
                    return 1
                summary = await seed_demo(session)
                await session.commit()
            await create_staff_member(factory, **DEMO_STAFF)
        finally:
            await engine.dispose()
        logger.info("demo data loaded: %s", summary)
        print("Demo patient: demo@example.com / demo-password")
        print(f"Demo staff (auditor): {DEMO_STAFF['email']} / {DEMO_STAFF['password']}")
        return 0

    return asyncio.run(run())


def _export_schema(_settings: Settings, _args: argparse.Namespace) -> int:
    from schema.build import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="billing-gateway",
        description="GraphQL billing gateway. Settings come from BILLING_* environment variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the GraphQL API over HTTP and WebSocket")
    serve.add_argument("--host", help="interface to listen on (default: BILLING_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (default: BILLING_PORT or 8000)")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations up to the newest")
    migrate.set_defaults(handler=_migrate)

    seed = commands.add_parser("seed-demo", help="load the demo practice into an empty database")
    seed.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing (and succeed) when the database already has patients",
    )
    seed.set_defaults(handler=_seed_demo)

    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL) to stdout")
    export.set_defaults(handler=_export_schema)

    add_account_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_environ()
    except ConfigError as error:
        print(f"billing-gateway: {error}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    try:
        return int(args.handler(settings, args))
    except OperationalError as error:
        if "no such table" not in str(error):
            raise
        print(
            f"billing-gateway: the database at {settings.database_url} has no tables; run "
            "'billing-gateway migrate' first. The default database is billing.db in the "
            "current folder, so run commands from the project folder or set "
            "BILLING_DATABASE_URL.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
