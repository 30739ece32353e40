"""Schema extensions: request logging, closing the request's session, error masking."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.errors import BillingError

logger = logging.getLogger("gateway.requests")

MASKED_ERROR_MESSAGE = "Internal error. The gateway logged it; try again or report the problem."


def is_unexpected_error(error: GraphQLError) -> bool:
    """Tell a bug or outage (to be masked and logged) from a client's mistake (shown as is).

    Syntax, validation and coercion errors carry no original exception, and
    domain errors are raised on purpose; anything else is unexpected.
    """
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | BillingError)


class RequestLogger(SchemaExtension):
    """Logs one line per operation: its name, outcome and duration."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        elapsed_ms = (time.perf_counter() - started) * 1000
        context = self.execution_context
        result = context.result
        errors = getattr(result, "errors", None) or context.pre_execution_errors or []
        outcome = "ok" if not errors else f"{len(errors)} error(s)"
        logger.info(
            "graphql %s %s: %s in %.1f ms",
            context.operation_type.value if context.operation_type else "request",
            context.operation_name or "(anonymous)",
            outcome,
            elapsed_ms,
        )


class CloseRequestDatabase(SchemaExtension):
    """Returns the request's database connection to the pool when the operation ends."""

    async def on_operation(self):  # type: ignore[no-untyped-def]
        yield
        await self.execution_context.context.database.close()
