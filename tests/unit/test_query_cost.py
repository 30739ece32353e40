"""The cost rule multiplies nested lists by their page size and rejects costly operations."""

from __future__ import annotations

from graphql import parse

from schema.build import build_schema
from schema.complexity import LIST_FACTOR, measure_operation
from schema.limits import SchemaLimits

INVOICES_WITH_LINES = (
    "{ me { invoices(first: 10) { edges { node { number lines { description } } } } } }"
)
INVOICES_BY_VARIABLE = "query($n: Int) { me { invoices(first: $n) { edges { node { number } } } } }"
VIA_FRAGMENT = """
{ me { invoices(first: 10) { edges { node { ...Lines } } } } }
fragment Lines on Invoice { lines { description } }
"""


def _cost(query: str) -> int:
    schema = build_schema()._schema
    document = parse(query)
    operation = document.definitions[0]
    fragments = {definition.name.value: definition for definition in document.definitions[1:]}
    return measure_operation(schema, operation, fragments).cost  # type: ignore[arg-type]


def test_cost_multiplies_by_first() -> None:
    # me (1) + invoices: 10 x (1 + edges (1 + node (1 + lines 5 x 1)))
    assert _cost(INVOICES_WITH_LINES) == 1 + 10 * (1 + 1 + 1 + LIST_FACTOR)


def test_variable_first_counts_as_largest_page() -> None:
    assert _cost(INVOICES_BY_VARIABLE) == 1 + 100 * (1 + 1 + 1)


def test_fragment_costs_like_inline_selection() -> None:
    assert _cost(VIA_FRAGMENT) == _cost(INVOICES_WITH_LINES)


async def test_costly_operation_rejected_before_execution() -> None:
    schema = build_schema(SchemaLimits(max_cost=50))

    result = await schema.execute(INVOICES_WITH_LINES)

    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "QUERY_TOO_COSTLY", "cost": 81, "limit": 50}


def test_allocation_cycles_cost_more_than_plain_lists() -> None:
    cycle = (
        "{ me { payments(first: 20) { edges { node { allocations { payment "
        "{ allocations { invoice { allocations { amount { cents } } } } } } } } } } }"
    )

    assert _cost(cycle) > SchemaLimits().max_cost
