"""A graphql-transport-ws connection held open across steps, for streams that never complete.

``graphql_ws.subscribe`` runs one subscription to its end, which suits
paymentStatusChanged. paymentEvents streams for as long as the client
listens, so a dashboard test opens a connection, starts the stream, reads
as many events as it expects, checks that no more arrive, and disconnects.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.e2e.graphql_ws import TRANSPORT_WS, bearer_connection_params

OPEN_TIMEOUT_SECONDS = 10.0
OPERATION_ID = "1"


class StreamSocket:
    """One open, acknowledged graphql-transport-ws connection running at most one operation."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: Mapping[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout_seconds: float) -> dict[str, Any]:
        """Return the next message other than ping and pong, replying pong to each ping.

        Raises TimeoutError when none arrives in time, and ConnectionClosed
        when the server closes the connection.
        """
        deadline = time.monotonic() + timeout_seconds
        while True:
            remaining = max(deadline - time.monotonic(), 0.0)
            raw = await asyncio.wait_for(self.connection.recv(), remaining)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            if message["type"] == "pong":
                continue
            return message

    async def start(self, query: str, variables: Mapping[str, Any] | None = None) -> None:
        payload = {"query": query, "variables": dict(variables or {})}
        await self.send({"id": OPERATION_ID, "type": "subscribe", "payload": payload})

    async def next_data(self, count: int, *, deadline_seconds: float) -> list[dict[str, Any]]:
        """Return the ``data`` of the next ``count`` results of the running operation.

        Raises AssertionError on an ``error`` or ``complete`` message or a
        result with errors, and TimeoutError if fewer than ``count`` arrive
        within ``deadline_seconds``.
        """
        deadline = time.monotonic() + deadline_seconds
        received: list[dict[str, Any]] = []
        while len(received) < count:
            try:
                message = await self.receive(deadline - time.monotonic())
            except TimeoutError:
                raise TimeoutError(
                    f"received {len(received)} of {count} results within "
                    f"{deadline_seconds} s: {received}"
                ) from None
            received.append(_result_data(message))
        return received

    async def data_within(self, seconds: float) -> list[dict[str, Any]]:
        """Return the ``data`` of every result that arrives within ``seconds``."""
        deadline = time.monotonic() + seconds
        received: list[dict[str, Any]] = []
        while True:
            try:
                message = await self.receive(deadline - time.monotonic())
            except TimeoutError:
                return received
            received.append(_result_data(message))

    async def wait_closed(self, deadline_seconds: float) -> int | None:
        """Wait for the server to close the connection and return its close code.

        Results that arrive first are dropped. Raises TimeoutError if the
        connection is still open after ``deadline_seconds``.
        """
        deadline = time.monotonic() + deadline_seconds
        try:
            while True:
                await self.receive(deadline - time.monotonic())
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        except TimeoutError:
            raise TimeoutError(
                f"the server kept the connection open for {deadline_seconds} s"
            ) from None


def _result_data(message: Mapping[str, Any]) -> dict[str, Any]:
    if message["type"] != "next":
        raise AssertionError(f"expected a next message, received {message}")
    payload = message["payload"]
    if payload.get("errors"):
        raise AssertionError(f"the result carries errors: {payload['errors']}")
    data: dict[str, Any] = payload["data"]
    return data


@asynccontextmanager
async def open_stream_socket(ws_url: str, token: str) -> AsyncIterator[StreamSocket]:
    """Connect with ``token`` in the connection_init payload and wait for connection_ack.

    Raises AssertionError if the server closes the connection or replies to
    connection_init with anything but connection_ack.
    """
    async with connect(
        ws_url,
        subprotocols=[Subprotocol(TRANSPORT_WS)],
        proxy=None,
        open_timeout=OPEN_TIMEOUT_SECONDS,
    ) as connection:
        socket = StreamSocket(connection)
        await socket.send({"type": "connection_init", "payload": bearer_connection_params(token)})
        try:
            message = await socket.receive(OPEN_TIMEOUT_SECONDS)
        except ConnectionClosed as closed:
            raise AssertionError(f"the server refused connection_init: {closed}") from closed
        assert message["type"] == "connection_ack", f"expected connection_ack, received {message}"
        yield socket
