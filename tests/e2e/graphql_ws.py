"""GraphQL subscriptions over WebSocket, in both protocols Strawberry serves.

``graphql-transport-ws`` is the protocol of the graphql-ws library: the client
sends ``subscribe`` and receives ``next`` until ``complete``, and replies to
each ``ping`` with ``pong``. ``graphql-ws`` is the older protocol of
subscriptions-transport-ws: the client sends ``start`` and receives ``data``
until ``complete``, with ``ka`` keep-alive messages in between.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)
DEFAULT_DEADLINE_SECONDS = 10.0
OPERATION_ID = "1"


@dataclass
class SubscriptionResult:
    """What one subscription delivered before it ended."""

    protocol: str
    # The ``data`` of each ``next`` (or ``data``) message that carried data.
    events: list[dict[str, Any]] = field(default_factory=list)
    # GraphQL errors from ``error`` messages and from ``next`` payloads.
    errors: list[dict[str, Any]] = field(default_factory=list)
    completed: bool = False
    # Whether the server refused the connection at connection_init: a close
    # frame on graphql-transport-ws, a ``connection_error`` on graphql-ws.
    rejected: bool = False
    close_code: int | None = None
    # Every message after connection_ack except keep-alives (ping, pong, ka), in order.
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error_codes(self) -> list[str | None]:
        return [(error.get("extensions") or {}).get("code") for error in self.errors]


async def _receive_json(connection: ClientConnection) -> dict[str, Any]:
    raw = await connection.recv()
    message: dict[str, Any] = json.loads(raw)
    return message


async def _send_json(connection: ClientConnection, message: Mapping[str, Any]) -> None:
    await connection.send(json.dumps(message))


def bearer_connection_params(token: str | None) -> dict[str, Any]:
    """Build the connection_init payload the README documents for a bearer token."""
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def _record_payload(result: SubscriptionResult, payload: Mapping[str, Any]) -> None:
    if payload.get("data") is not None:
        result.events.append(payload["data"])
    result.errors.extend(payload.get("errors") or [])


async def _run_transport_ws(
    connection: ClientConnection, payload: Mapping[str, Any], init_payload: Mapping[str, Any]
) -> SubscriptionResult:
    result = SubscriptionResult(protocol=TRANSPORT_WS)
    await _send_json(connection, {"type": "connection_init", "payload": init_payload})
    while True:
        try:
            message = await _receive_json(connection)
        except ConnectionClosed as closed:
            result.rejected = True
            result.close_code = closed.rcvd.code if closed.rcvd is not None else None
            return result
        if message["type"] == "connection_ack":
            break
        if message["type"] == "ping":
            await _send_json(connection, {"type": "pong"})
            continue
        raise AssertionError(f"expected connection_ack, received {message}")

    await _send_json(connection, {"id": OPERATION_ID, "type": "subscribe", "payload": payload})
    while True:
        message = await _receive_json(connection)
        kind = message["type"]
        if kind == "ping":
            await _send_json(connection, {"type": "pong"})
            continue
        if kind == "pong":
            continue
        result.messages.append(message)
        if kind == "next":
            _record_payload(result, message["payload"])
        elif kind == "error":
            result.errors.extend(message["payload"])
            return result
        elif kind == "complete":
            result.completed = True
            return result
        else:
            raise AssertionError(f"unexpected {TRANSPORT_WS} message {message}")


async def _run_legacy_ws(
    connection: ClientConnection, payload: Mapping[str, Any], init_payload: Mapping[str, Any]
) -> SubscriptionResult:
    result = SubscriptionResult(protocol=LEGACY_WS)
    await _send_json(connection, {"type": "connection_init", "payload": init_payload})
    while True:
        message = await _receive_json(connection)
        if message["type"] == "connection_ack":
            break
        if message["type"] == "ka":
            continue
        if message["type"] == "connection_error":
            result.rejected = True
            result.errors.append(message.get("payload") or {})
            await connection.wait_closed()
            result.close_code = connection.close_code
            return result
        raise AssertionError(f"expected connection_ack, received {message}")

    await _send_json(connection, {"id": OPERATION_ID, "type": "start", "payload": payload})
    while True:
        message = await _receive_json(connection)
        kind = message["type"]
        if kind == "ka":
            continue
        result.messages.append(message)
        if kind == "data":
            _record_payload(result, message["payload"])
        elif kind == "error":
            error = message["payload"]
            result.errors.extend(error if isinstance(error, list) else [error])
            return result
        elif kind == "complete":
            result.completed = True
            return result
        else:
            raise AssertionError(f"unexpected {LEGACY_WS} message {message}")


async def subscribe(
    ws_url: str,
    protocol: str,
    query: str,
    variables: Mapping[str, Any] | None = None,
    *,
    token: str | None = None,
    connection_params: Mapping[str, Any] | None = None,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
) -> SubscriptionResult:
    """Run one subscription to its end and return what it delivered.

    The connection_init payload is ``connection_params`` when given, else
    the bearer ``token``. A connection the server refuses at connection_init
    is returned with ``rejected`` set rather than raised.

    Raises TimeoutError if the server neither completes nor fails the
    subscription within ``deadline_seconds``.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    payload = {"query": query, "variables": dict(variables or {})}
    if connection_params is None:
        init_payload = bearer_connection_params(token)
    else:
        init_payload = dict(connection_params)
    run = _run_transport_ws if protocol == TRANSPORT_WS else _run_legacy_ws

    async with asyncio.timeout(deadline_seconds):
        async with connect(
            ws_url, subprotocols=[Subprotocol(protocol)], proxy=None, open_timeout=deadline_seconds
        ) as connection:
            assert connection.subprotocol == protocol, (
                f"server chose subprotocol {connection.subprotocol!r}, expected {protocol!r}"
            )
            return await run(connection, payload, init_payload)
