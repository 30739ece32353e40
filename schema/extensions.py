"""Schema extensions: request logging, closing the request's session, error masking."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.types import ExecutionContext

from resolvers.audit import RequestInfo, record_reads
from resolvers.errors import BillingError

logger = logging.getLogger("gateway.requests")

MASKED_ERROR_MESSAGE = (
    "Internal error. The gateway logged it; try again, or report the problem with its requestId."
)


def is_unexpected_error(error: GraphQLError) -> bool:
    """Tell a bug or outage (to be masked and logged) from a client's mistake (shown as is).

    Syntax, validation and coercion errors carry no original exception, and
    domain errors are raised on purpose; anything else is unexpected.
    """
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | BillingError)


class MaskUnexpectedErrors(MaskErrors):
    """Replaces unexpected errors with a generic message that carries the request id.

    A client can quote the id to support, who find the full error in the
    log line ``BillingSchema.process_errors`` wrote with the same id.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected_error, error_message=MASKED_ERROR_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        request_id = getattr(self.execution_context.context, "request_id", None)
        masked.extensions = {"code": "INTERNAL_ERROR", "requestId": request_id}
        return masked


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class StripSuggestions(SchemaExtension):
    """Removes "Did you mean ...?" from every validation error.

    Strawberry's disable_field_suggestions covers field names only. Hints
    for arguments, enum values, input fields and type names would still let
    a client rebuild the schema with introspection turned off.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = list(getattr(result, "errors", None) or [])
        errors += self.execution_context.pre_execution_errors or []
        for error in errors:
            if error.original_error is None and "Did you mean" in error.message:
                error.message = _SUGGESTION.sub("", error.message)


class SubscriptionsOverWebSocket(SchemaExtension):
    """Rejects subscription operations that arrive over plain HTTP with a client error."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        is_subscription = _operation_type(self.execution_context) == "subscription"
        if is_subscription and context is not None and not context.is_websocket:
            raise GraphQLError(
                "Subscriptions are served over WebSocket at /graphql, with the "
                "graphql-transport-ws or graphql-ws protocol.",
                extensions={"code": "BAD_REQUEST"},
            )
        yield


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
            "graphql %s %s: %s in %.1f ms (request %s)",
            _operation_type(context),
            context.operation_name or "(anonymous)",
            outcome,
            elapsed_ms,
            getattr(context.context, "request_id", None),
        )


def _operation_type(execution_context: ExecutionContext) -> str:
    # Strawberry raises when asked for the type of a document that did not parse.
    try:
        return execution_context.operation_type.value
    except RuntimeError:
        return "unparsed request"


def _operation_label(execution_context: ExecutionContext) -> str:
    """Name an operation for the audit log: its name, else its root fields, e.g. "patients"."""
    if execution_context.operation_name:
        return execution_context.operation_name
    document = execution_context.graphql_document
    for definition in document.definitions if document else ():
        if isinstance(definition, OperationDefinitionNode):
            fields = [
                selection.name.value
                for selection in definition.selection_set.selections
                if isinstance(selection, FieldNode)
            ]
            return ",".join(fields)
    return "(anonymous)"


class AuditReads(SchemaExtension):
    """Writes the audit rows for patient records staff or a partner read in this operation.

    Permission checks note each patient whose records were reached. The rows
    are written after execution in one transaction, so a read of many
    records costs one write.
    """

    async def on_operation(self):  # type: ignore[no-untyped-def]
        yield
        context = self.execution_context.context
        if context is None:
            return
        # Taken before the first await, so reads noted meanwhile by another
        # operation of the same batch are left for that operation to write.
        patient_ids = context.take_patient_reads()
        if not patient_ids:
            return
        principal = await context.principal()
        if principal is not None:
            request = RequestInfo(
                principal=principal,
                operation=_operation_label(self.execution_context),
                request_id=context.request_id,
                client_address=context.client_address,
            )
            await record_reads(context.services.session_factory, request, patient_ids)


class CloseRequestDatabase(SchemaExtension):
    """Returns the request's database connection to the pool when its last operation ends."""

    async def on_operation(self):  # type: ignore[no-untyped-def]
        context = self.execution_context.context
        if context is not None:
            context.start_operation()
        try:
            yield
        finally:
            if context is not None:
                await context.finish_operation()
