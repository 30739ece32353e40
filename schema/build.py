"""The strawberry.Schema object and its extensions."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from schema.extensions import (
    MASKED_ERROR_MESSAGE,
    CloseRequestDatabase,
    RequestLogger,
    is_unexpected_error,
)
from schema.mutations.auth import AuthMutations
from schema.mutations.payments import PaymentMutations
from schema.query import Query
from schema.subscription import Subscription

logger = logging.getLogger("gateway.errors")


@strawberry.type
class Mutation(AuthMutations, PaymentMutations):
    pass


class BillingSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # The one place unexpected errors are logged, with their traceback;
        # clients only see the masked message.
        for error in errors:
            if is_unexpected_error(error):
                logger.error(
                    "unexpected error in %s at %s",
                    execution_context.operation_name if execution_context else None,
                    error.path,
                    exc_info=error.original_error,
                )
            else:
                logger.debug("client error: %s", error.message)


def build_schema() -> strawberry.Schema:
    return BillingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            RequestLogger,
            CloseRequestDatabase,
            # A factory, so each operation gets a fresh extension instance.
            lambda: MaskErrors(
                should_mask_error=is_unexpected_error, error_message=MASKED_ERROR_MESSAGE
            ),
        ],
    )
