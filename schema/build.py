"""The strawberry.Schema object and its extensions."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.complexity import complexity_rule
from schema.extensions import (
    AuditReads,
    CloseRequestDatabase,
    MaskUnexpectedErrors,
    RequestLogger,
    StripSuggestions,
    SubscriptionsOverWebSocket,
    is_unexpected_error,
)
from schema.limits import SchemaLimits
from schema.mutations.auth import AuthMutations
from schema.mutations.payments import PaymentMutations
from schema.mutations.refunds import RefundMutations
from schema.query import Query
from schema.subscription import Subscription

logger = logging.getLogger("gateway.errors")


@strawberry.type
class Mutation(AuthMutations, PaymentMutations, RefundMutations):
    pass


class BillingSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # The one place unexpected errors are logged, with their traceback;
        # clients only see the masked message. A DataLoader fails every key of
        # a batch with the same exception, so each exception is logged once.
        logged: set[int] = set()
        for error in errors:
            if is_unexpected_error(error) and id(error.original_error) in logged:
                continue
            if is_unexpected_error(error):
                logged.add(id(error.original_error))
                logger.error(
                    "unexpected error in %s at %s (request %s)",
                    execution_context.operation_name if execution_context else None,
                    error.path,
                    getattr(execution_context.context, "request_id", None)
                    if execution_context
                    else None,
                    exc_info=error.original_error,
                )
            else:
                # Only the path: graphql-core's messages repeat the offending
                # input value, which may be a card number or password.
                logger.debug("client error at %s", error.path)


def build_schema(limits: SchemaLimits | None = None) -> strawberry.Schema:
    """Build the schema with the query limits in ``limits`` (the safe defaults if None)."""
    limits = limits or SchemaLimits()
    # Factories, so each operation gets fresh extension instances.
    extensions: list[Any] = [
        RequestLogger,
        SubscriptionsOverWebSocket,
        AuditReads,
        CloseRequestDatabase,
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        # One rule for depth, aliases and cost: it remembers each fragment's
        # measure, where Strawberry's depth and alias limiters re-walk every
        # spread and take time exponential in fragment fan-out.
        lambda: AddValidationRules([complexity_rule(limits)]),  # type: ignore[list-item]
        MaskUnexpectedErrors,
    ]
    if not limits.introspection:
        extensions.append(DisableIntrospection)
    if not limits.field_suggestions:
        extensions.append(StripSuggestions)
    return BillingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(
            disable_field_suggestions=not limits.field_suggestions,
            batching_config={"max_operations": limits.max_batch_operations},
        ),
    )
