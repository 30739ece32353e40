"""A validation rule that rejects operations whose estimated cost is above a limit.

Cost estimates how many rows an operation can touch. A field that returns
an object costs 1 plus what is selected inside it. A connection costs its
``first`` times that, and a plain list (invoice lines, payment events)
costs ``LIST_FACTOR`` times that, because its length is not known before
execution. Scalars are free. ``first`` given as a variable counts as the
largest page, since variables are not yet known during validation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLUnionType

from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# Assumed length of a list field without paging arguments.
LIST_FACTOR = 5


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            is_list = True
        type_ = type_.of_type
    return type_, is_list


def _page_size(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        if isinstance(argument.value, IntValueNode):
            return min(max(int(argument.value.value), 0), MAX_PAGE_SIZE)
        return MAX_PAGE_SIZE
    return DEFAULT_PAGE_SIZE


class _CostCounter:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments

    def selection_cost(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        seen: frozenset[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                total += self.selection_cost(selection.selection_set, condition or parent, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                condition = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selection_cost(
                    fragment.selection_set, condition or parent, seen | {name}
                )
        return total

    def field_cost(self, field: FieldNode, parent: Any, seen: frozenset[str]) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(field.name.value)
        if definition is None:
            return 0
        field_type, is_list = _unwrap(definition.type)
        if not isinstance(field_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return 0

        inner = 1 + self.selection_cost(field.selection_set, field_type, seen)
        if "first" in definition.args:
            return _page_size(field) * inner
        if field.name.value == "edges" and parent.name.endswith("Connection"):
            # The connection's page size already multiplied its edges.
            return inner
        return LIST_FACTOR * inner if is_list else inner


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> int:
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    return _CostCounter(schema, fragments).selection_cost(
        operation.selection_set, root, frozenset()
    )


def cost_limit_rule(max_cost: int) -> Callable[[ValidationContext], ValidationRule]:
    """Build a validation rule class that rejects operations costing more than ``max_cost``."""

    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                definition.name.value: definition
                for definition in document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                cost = operation_cost(context.schema, definition, fragments)
                if cost > max_cost:
                    name = definition.name.value if definition.name else "(anonymous)"
                    context.report_error(
                        GraphQLError(
                            f"Operation {name} has an estimated cost of {cost}, above the "
                            f"limit of {max_cost}. Ask for smaller pages (first) or fewer "
                            "nested lists.",
                            definition,
                            extensions={
                                "code": "QUERY_TOO_COSTLY",
                                "cost": cost,
                                "limit": max_cost,
                            },
                        )
                    )

    return CostLimit
