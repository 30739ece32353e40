"""Configuration from environment variables; the README lists each one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from resolvers.sign_in_limits import SignInLimits
from schema.limits import SchemaLimits

# Session lengths are set in hours; one second is the shortest that makes sense.
ONE_SECOND_IN_HOURS = 1 / 3600

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./billing.db"


class ConfigError(ValueError):
    """Raised when an environment variable contains a value the gateway cannot use."""


def _text(env: Mapping[str, str], key: str, default: str) -> str:
    value = env.get(key, "").strip()
    return value or default


def _number(env: Mapping[str, str], key: str, default: float, *, minimum: float = 0) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise ConfigError(f"{key}={raw!r} is not a number; set it to e.g. {default}") from error
    if value < minimum:
        raise ConfigError(f"{key}={raw!r} is below the minimum of {minimum}")
    return value


def _flag(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{key}={raw!r} is not a boolean; use 1 or 0")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    graphiql: bool = False
    sandbox_card_delay: timedelta = timedelta(seconds=0.5)
    sandbox_ach_delay: timedelta = timedelta(seconds=5)
    patient_session_idle: timedelta = timedelta(days=14)
    patient_session_max: timedelta = timedelta(days=90)
    staff_session: timedelta = timedelta(hours=8)
    ws_auth_recheck_seconds: float = 30
    profile: str = "production"
    # Comma-separated addresses of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: str = ""
    schema_limits: SchemaLimits = field(default_factory=SchemaLimits)
    sign_in_limits: SignInLimits = field(default_factory=SignInLimits)
    statement_descriptor: str = "CEDAR GROVE HLTH"
    confirmation_prefix: str = "CGH"

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        descriptor = _text(env, "BILLING_STATEMENT_DESCRIPTOR", cls.statement_descriptor).upper()
        if len(descriptor) > 12 + 5 or not descriptor.replace(" ", "").isalnum():
            raise ConfigError(
                f"BILLING_STATEMENT_DESCRIPTOR={descriptor!r} must be letters, digits and "
                "spaces, at most 17 characters, so the payment code still fits in 22"
            )
        profile = _text(env, "BILLING_PROFILE", cls.profile).lower()
        if profile not in {"production", "demo"}:
            raise ConfigError(f"BILLING_PROFILE={profile!r} must be production or demo")
        log_level = _text(env, "BILLING_LOG_LEVEL", cls.log_level).upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(
                f"BILLING_LOG_LEVEL={log_level!r} must be DEBUG, INFO, WARNING or ERROR"
            )
        return cls(
            database_url=_text(env, "BILLING_DATABASE_URL", cls.database_url),
            host=_text(env, "BILLING_HOST", cls.host),
            port=int(_number(env, "BILLING_PORT", cls.port, minimum=1)),
            log_level=log_level,
            graphiql=_flag(env, "BILLING_GRAPHIQL", profile == "demo"),
            sandbox_card_delay=timedelta(
                seconds=_number(env, "BILLING_SANDBOX_CARD_DELAY_SECONDS", 0.5)
            ),
            sandbox_ach_delay=timedelta(
                seconds=_number(env, "BILLING_SANDBOX_ACH_DELAY_SECONDS", 5)
            ),
            patient_session_idle=timedelta(
                hours=_number(
                    env, "BILLING_PATIENT_SESSION_IDLE_HOURS", 14 * 24, minimum=ONE_SECOND_IN_HOURS
                )
            ),
            patient_session_max=timedelta(
                hours=_number(
                    env, "BILLING_PATIENT_SESSION_MAX_HOURS", 90 * 24, minimum=ONE_SECOND_IN_HOURS
                )
            ),
            staff_session=timedelta(
                hours=_number(env, "BILLING_STAFF_SESSION_HOURS", 8, minimum=ONE_SECOND_IN_HOURS)
            ),
            ws_auth_recheck_seconds=_number(env, "BILLING_WS_AUTH_RECHECK_SECONDS", 30),
            profile=profile,
            trusted_proxies=_text(env, "BILLING_TRUSTED_PROXIES", ""),
            schema_limits=_schema_limits(env, demo=profile == "demo"),
            sign_in_limits=SignInLimits(
                failures_per_email=_integer(env, "BILLING_SIGN_IN_FAILURES_PER_EMAIL", 5),
                attempts_per_address=_integer(env, "BILLING_SIGN_IN_ATTEMPTS_PER_ADDRESS", 30),
                window_seconds=_number(env, "BILLING_SIGN_IN_WINDOW_SECONDS", 900, minimum=1),
            ),
            statement_descriptor=descriptor,
            confirmation_prefix=_text(env, "BILLING_CONFIRMATION_PREFIX", cls.confirmation_prefix),
        )


def _integer(env: Mapping[str, str], key: str, default: int) -> int:
    value = _number(env, key, default, minimum=1)
    if value != int(value):
        raise ConfigError(f"{key}={env.get(key)!r} must be a whole number")
    return int(value)


def _schema_limits(env: Mapping[str, str], *, demo: bool) -> SchemaLimits:
    """Read the query limits; the demo profile turns introspection and suggestions on."""
    defaults = SchemaLimits()
    return SchemaLimits(
        max_depth=_integer(env, "BILLING_MAX_QUERY_DEPTH", defaults.max_depth),
        max_aliases=_integer(env, "BILLING_MAX_ALIASES", defaults.max_aliases),
        max_tokens=_integer(env, "BILLING_MAX_TOKENS", defaults.max_tokens),
        max_cost=_integer(env, "BILLING_MAX_QUERY_COST", defaults.max_cost),
        max_batch_operations=_integer(
            env, "BILLING_MAX_BATCH_OPERATIONS", defaults.max_batch_operations
        ),
        max_body_bytes=_integer(env, "BILLING_MAX_BODY_BYTES", defaults.max_body_bytes),
        max_subscriptions_per_connection=_integer(
            env,
            "BILLING_MAX_SUBSCRIPTIONS_PER_CONNECTION",
            defaults.max_subscriptions_per_connection,
        ),
        introspection=_flag(env, "BILLING_INTROSPECTION", demo),
        field_suggestions=_flag(env, "BILLING_FIELD_SUGGESTIONS", demo),
    )
