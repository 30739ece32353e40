"""Configuration from environment variables; the README lists each one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./billing.db"


class ConfigError(ValueError):
    """Raised when an environment variable holds a value the gateway cannot use."""


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
    graphiql: bool = True
    sandbox_card_delay: timedelta = timedelta(seconds=0.5)
    sandbox_ach_delay: timedelta = timedelta(seconds=5)
    patient_token_lifetime: timedelta = timedelta(days=14)
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
            graphiql=_flag(env, "BILLING_GRAPHIQL", cls.graphiql),
            sandbox_card_delay=timedelta(
                seconds=_number(env, "BILLING_SANDBOX_CARD_DELAY_SECONDS", 0.5)
            ),
            sandbox_ach_delay=timedelta(
                seconds=_number(env, "BILLING_SANDBOX_ACH_DELAY_SECONDS", 5)
            ),
            patient_token_lifetime=timedelta(
                hours=_number(env, "BILLING_PATIENT_TOKEN_HOURS", 14 * 24, minimum=0.01)
            ),
            statement_descriptor=descriptor,
            confirmation_prefix=_text(env, "BILLING_CONFIRMATION_PREFIX", cls.confirmation_prefix),
        )
