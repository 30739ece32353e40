"""Closes WebSocket connections whose sign-in has ended.

A sign-out in this process closes the connections it opened at once. Any
other end (expiry, a sign-out handled by another gateway process, a revoked
API key) is found by a periodic recheck of every open connection's principal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketState

from db.models import ApiKey
from resolvers.principals import Principal, Role
from resolvers.sessions import session_is_active

logger = logging.getLogger(__name__)

# graphql-transport-ws leaves 4400-4499 to servers; 4401 mirrors HTTP 401.
SESSION_ENDED_CLOSE_CODE = 4401


@dataclass(frozen=True)
class _Watched:
    principal: Principal


class ConnectionWatch:
    def __init__(self, factory: async_sessionmaker[AsyncSession], interval_seconds: float) -> None:
        self._factory = factory
        self._interval = interval_seconds
        self._connections: dict[WebSocket, _Watched] = {}
        self._task: asyncio.Task[None] | None = None

    def register(self, websocket: WebSocket, principal: Principal) -> None:
        self._connections[websocket] = _Watched(principal)

    def unregister(self, websocket: WebSocket) -> None:
        self._connections.pop(websocket, None)

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    async def publish_revoked(self, session_id: int) -> None:
        for websocket, watched in list(self._connections.items()):
            if watched.principal.session_id == session_id:
                await self._close(websocket, watched, "signed out")

    def start(self) -> None:
        if self._interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._recheck_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def recheck(self) -> None:
        """Close every connection whose session or API key is no longer valid."""
        for websocket, watched in list(self._connections.items()):
            if not await self._still_valid(watched.principal):
                await self._close(websocket, watched, "session expired or revoked")

    async def _recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.recheck()
            except Exception:
                # The loop must outlive a database hiccup; the next round retries.
                logger.exception("websocket session recheck failed; retrying next round")

    async def _still_valid(self, principal: Principal) -> bool:
        if principal.role is Role.PARTNER:
            async with self._factory() as session:
                revoked_at = await session.scalar(
                    select(ApiKey.revoked_at).where(ApiKey.id == principal.actor_id)
                )
            return revoked_at is None
        if principal.session_id is None:
            return False
        return await session_is_active(self._factory, principal.session_id)

    async def _close(self, websocket: WebSocket, watched: _Watched, reason: str) -> None:
        self.unregister(websocket)
        logger.info("closing websocket of %s: %s", watched.principal.actor, reason)
        if websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError):
                await websocket.close(code=SESSION_ENDED_CLOSE_CODE, reason="Session ended")
