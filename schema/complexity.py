"""One validation rule that bounds an operation's depth, aliases and estimated cost.

All three measures expand fragment spreads. Each fragment is measured once
and remembered, so a small document whose fragments spread each other many
times over is measured in time linear in its size, not in its expansion.

Depth counts nested fields with selections: ``{ me { name } }`` is 1 deep.
Introspection fields (``__schema``, ``__type``) do not count.

Cost estimates how many rows an operation can touch. A field that returns
an object costs 1 plus what is selected inside it. A connection costs its
``first`` times that, and a plain list (invoice lines, payment events)
costs ``LIST_FACTOR`` times that, because its length is not known before
execution. Scalars are free. ``first`` given as a variable counts as the
largest page, since variables are not yet known during validation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from schema.limits import SchemaLimits

# Assumed length of a list field without paging arguments.
LIST_FACTOR = 5
# Lists that can grow long get a larger assumed length. An invoice's
# allocations grow with every payment made to it, and allocations nest in
# cycles (allocation -> payment -> allocations -> invoice -> allocations).
# At the default factor a query of that cycle scored 18,741 yet touched
# 108,000 rows for a patient who had paid one invoice in 30 parts.
# NOTE: still an estimate, not a bound: a list longer than its factor costs
# more than it scores.
FIELD_LIST_FACTORS = {"allocations": 25}
# Reported measures are capped here, so clients in any language can read them.
MAX_REPORTED = 2**31 - 1


@dataclass(frozen=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            depth=max(self.depth, other.depth),
            aliases=self.aliases + other.aliases,
            cost=self.cost + other.cost,
        )


def _unwrap(type_: Any) -> tuple[Any, bool]:
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


class _Measurer:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.memo: dict[str, Measure] = {}
        self.in_progress: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None, parent: Any) -> Measure:
        total = Measure()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total + self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = parent
                if selection.type_condition is not None:
                    condition = self.schema.get_type(selection.type_condition.name.value) or parent
                total = total + self.selections(selection.selection_set, condition)
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self.fragment(selection.name.value, parent)
        return total

    def fragment(self, name: str, parent: Any) -> Measure:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        # Unknown fragments and cycles are reported by graphql-core's own rules.
        if definition is None or name in self.in_progress:
            return Measure()
        self.in_progress.add(name)
        condition = self.schema.get_type(definition.type_condition.name.value) or parent
        measure = self.selections(definition.selection_set, condition)
        self.in_progress.discard(name)
        self.memo[name] = measure
        return measure

    def field(self, field: FieldNode, parent: Any) -> Measure:
        aliases = 1 if field.alias else 0
        if field.name.value.startswith("__"):
            return Measure(aliases=aliases)

        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(field.name.value)
        field_type, is_list = _unwrap(definition.type) if definition else (None, False)
        inner = self.selections(field.selection_set, field_type)
        depth = inner.depth + 1 if field.selection_set else 0

        if not isinstance(field_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return Measure(depth=depth, aliases=aliases + inner.aliases)
        cost = 1 + inner.cost
        if definition is not None and "first" in definition.args:
            cost *= _page_size(field)
        elif field.name.value == "edges" and parent.name.endswith("Connection"):
            pass  # The connection's page size already multiplied its edges.
        elif is_list:
            cost *= FIELD_LIST_FACTORS.get(field.name.value, LIST_FACTOR)
        return Measure(depth=depth, aliases=aliases + inner.aliases, cost=cost)


def measure_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> Measure:
    root = schema.get_root_type(operation.operation)
    return _Measurer(schema, fragments).selections(operation.selection_set, root)


def complexity_rule(limits: SchemaLimits) -> Callable[[ValidationContext], ValidationRule]:
    """Build a validation rule class enforcing ``limits``' depth, alias and cost bounds."""

    class ComplexityLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            fragments = {
                definition.name.value: definition
                for definition in definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            for definition in definitions:
                if isinstance(definition, OperationDefinitionNode):
                    measure = measure_operation(context.schema, definition, fragments)
                    for error in _errors(definition, measure, limits):
                        context.report_error(error)

    return ComplexityLimit


def _errors(
    operation: OperationDefinitionNode, measure: Measure, limits: SchemaLimits
) -> list[GraphQLError]:
    name = operation.name.value if operation.name else "(anonymous)"
    checks = [
        (
            "QUERY_TOO_DEEP",
            "depth",
            measure.depth,
            limits.max_depth,
            "nests {value} levels deep, above the limit of {limit}. Split it into smaller queries.",
        ),
        (
            "TOO_MANY_ALIASES",
            "aliases",
            measure.aliases,
            limits.max_aliases,
            "uses {value} aliases, above the limit of {limit}. Send fewer aliased fields.",
        ),
        (
            "QUERY_TOO_COSTLY",
            "cost",
            measure.cost,
            limits.max_cost,
            "has an estimated cost of {value}, above the limit of {limit}. "
            "Ask for smaller pages (first) or fewer nested lists.",
        ),
    ]
    errors = []
    for code, key, value, limit, sentence in checks:
        if value <= limit:
            continue
        shown = min(value, MAX_REPORTED)
        errors.append(
            GraphQLError(
                f"Operation {name} " + sentence.format(value=shown, limit=limit),
                operation,
                extensions={"code": code, key: shown, "limit": limit},
            )
        )
    return errors
