"""Limits that protect the server from hostile or careless queries, checked before execution."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SchemaLimits:
    # Deepest field nesting in one operation. A patient's whole history
    # (invoices with lines and allocations, payments with events) nests 7 deep.
    max_depth: int = 12
    # Aliased fields in one operation; aliases can repeat an expensive field.
    max_aliases: int = 20
    # Lexical tokens in one document, a bound on parsing work.
    max_tokens: int = 2_000
    # Estimated rows an operation may touch (schema/complexity.py). That history
    # query with pages of 100 costs about 17,500.
    max_cost: int = 20_000
    # Operations in one batched HTTP request (a JSON array of operations).
    max_batch_operations: int = 10
    # Bytes in one HTTP request body.
    max_body_bytes: int = 100_000
    # Subscriptions open at once on one WebSocket connection.
    max_subscriptions_per_connection: int = 20
    # Schema introspection and "Did you mean ...?" hints in validation errors.
    introspection: bool = False
    field_suggestions: bool = False
