"""Partner API keys: created and revoked from the command line, shown once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utc_now
from db.engine import write_transaction
from db.models import ApiKey
from resolvers.errors import NotFoundError
from resolvers.principals import Scope
from resolvers.sessions import API_KEY_PREFIX, hash_token, new_token

logger = logging.getLogger(__name__)

# Characters of the key kept in clear, enough to tell keys apart in a list.
VISIBLE_PREFIX_LENGTH = 12


@dataclass(frozen=True)
class CreatedApiKey:
    key: str
    api_key: ApiKey


async def create_api_key(
    factory: async_sessionmaker[AsyncSession], *, name: str, scopes: frozenset[Scope]
) -> CreatedApiKey:
    """Create a partner key with ``scopes``; the returned key is the only copy in clear."""
    if not scopes:
        raise ValueError("an API key needs at least one scope")
    if not name.strip():
        raise ValueError("an API key needs a name, such as the partner's")

    key = new_token(API_KEY_PREFIX)
    async with write_transaction(factory) as session:
        api_key = ApiKey(
            name=name.strip(),
            prefix=key[:VISIBLE_PREFIX_LENGTH],
            key_hash=hash_token(key),
            scopes=" ".join(sorted(scope.value for scope in scopes)),
        )
        session.add(api_key)
        await session.flush()

    logger.info("api key %s created with scopes %s", api_key.id, api_key.scopes)
    return CreatedApiKey(key=key, api_key=api_key)


async def revoke_api_key(
    factory: async_sessionmaker[AsyncSession], api_key_id: int
) -> tuple[ApiKey, bool]:
    """Revoke a key at once; return it and whether it was active until now."""
    async with write_transaction(factory) as session:
        api_key = await session.get(ApiKey, api_key_id)
        if api_key is None:
            raise NotFoundError(f"No API key has id {api_key_id}; list keys with list-api-keys.")
        was_active = api_key.revoked_at is None
        if was_active:
            api_key.revoked_at = utc_now()

    if was_active:
        logger.info("api key %s revoked", api_key_id)
    return api_key, was_active


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return list(await session.scalars(select(ApiKey).order_by(ApiKey.id)))
