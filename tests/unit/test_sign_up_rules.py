"""Sign-up input rules: look-alike emails, hidden characters, weak passwords."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from resolvers.auth import normalize_email, sign_up
from resolvers.errors import (
    EmailTakenError,
    InvalidEmailError,
    InvalidInputError,
    WeakPasswordError,
)
from resolvers.sessions import SessionPolicy


def _fullwidth(text: str) -> str:
    """Spell ASCII letters with their fullwidth look-alikes (U+FF21 and on)."""
    return "".join(chr(ord(char) + 0xFEE0) for char in text)


def test_fullwidth_email_folds_to_ascii() -> None:
    assert normalize_email(" " + _fullwidth("DEMO") + "@Example.com ") == "demo@example.com"


async def test_look_alike_email_is_taken(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await sign_up(
        session_factory,
        name="Jordan",
        email="jordan@example.com",
        password="a long passphrase",
        policy=SessionPolicy(),
    )

    with pytest.raises(EmailTakenError):
        await sign_up(
            session_factory,
            name="Jordan",
            email=_fullwidth("JORDAN") + "@example.com",
            password="a long passphrase",
            policy=SessionPolicy(),
        )


@pytest.mark.parametrize("email", ["jordan\u200b@example.com", "jordan@exa\x00mple.com"])
async def test_email_with_hidden_characters_rejected(
    session_factory: async_sessionmaker[AsyncSession], email: str
) -> None:
    with pytest.raises(InvalidEmailError):
        await sign_up(
            session_factory,
            name="Jordan",
            email=email,
            password="a long passphrase",
            policy=SessionPolicy(),
        )


@pytest.mark.parametrize("name", ["Jordan\x00", "Jordan \u202eReversed"])
async def test_name_with_hidden_characters_rejected(
    session_factory: async_sessionmaker[AsyncSession], name: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        await sign_up(
            session_factory,
            name=name,
            email="jordan@example.com",
            password="a long passphrase",
            policy=SessionPolicy(),
        )

    assert raised.value.field == "name"


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaaaa", "jordan-jordan-1"])
async def test_weak_password_rejected(
    session_factory: async_sessionmaker[AsyncSession], password: str
) -> None:
    with pytest.raises(WeakPasswordError):
        await sign_up(
            session_factory,
            name="Jordan",
            email="jordan@example.com",
            password=password,
            policy=SessionPolicy(),
        )
