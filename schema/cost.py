"""Page sizes and the cost of an operation, worked out from its variables before it runs.

Shopify style: an object costs 1, a scalar nothing, a connection 1 plus its page size times
what each edge selects, a list without a page size is taken as LIST_ESTIMATE items, and a
mutation field costs MUTATION_COST more. Introspection (`__schema`, `__type`) costs 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from schema.limits import INTROSPECTION, Exceeded, QueryLimits, refusal
from services.pagination import DEFAULT_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")
LIST_ESTIMATE = 10
MUTATION_COST = 10


class _Cost:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: VariableValues,
        limits: QueryLimits,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.limits = limits
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.done: dict[tuple[str, int | None], tuple[str, int]] = {}

    def selection_set(
        self, node: SelectionSetNode, parent: GraphQLNamedType, edges: int | None = None
    ) -> int:
        """What selecting node on parent costs; edges is the page size when parent is a
        connection. On an interface or union, the costliest type's selection counts."""
        common = 0
        by_type: Counter[str] = Counter()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                common += self.field(selection, parent, edges)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                cost = self.selection_set(selection.selection_set, on or parent, edges)
                name = on.name if on is not None else parent.name
            else:
                assert isinstance(selection, FragmentSpreadNode)
                name, cost = self.fragment(selection.name.value, edges)
            if is_abstract_type(parent) and name != parent.name:
                by_type[name] += cost
            else:
                common += cost
        return common + max(by_type.values(), default=0)

    def fragment(self, name: str, edges: int | None) -> tuple[str, int]:
        known = self.done.get((name, edges))
        if known is None:
            definition = self.fragments[name]
            on = self.schema.get_type(definition.type_condition.name.value)
            assert on is not None
            cost = self.selection_set(definition.selection_set, on, edges)
            known = self.done[(name, edges)] = (definition.type_condition.name.value, cost)
        return known

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        if not any(name in definition.args for name in PAGE_ARGUMENTS):
            return None
        arguments = get_argument_values(definition, node, self.variables)
        sizes = [arguments[name] for name in PAGE_ARGUMENTS if arguments.get(name) is not None]
        limit = self.limits.max_page_size
        for name in PAGE_ARGUMENTS:
            size = arguments.get(name)
            if size is not None and not 0 <= size <= limit:
                raise Exceeded(
                    refusal(
                        "BAD_USER_INPUT",
                        f"{node.name.value}({name}:) must be between 0 and {limit}, got {size}",
                        node,
                    )
                )
        return max(sizes, default=DEFAULT_PAGE_SIZE)

    def field(self, node: FieldNode, parent: GraphQLNamedType, edges: int | None) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 1 if name in INTROSPECTION else 0
        assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
        definition = parent.fields[name]
        size = self.page_size(node, definition)
        returns = get_nullable_type(definition.type)
        item = get_named_type(returns)
        if is_leaf_type(item) or node.selection_set is None:
            return 0 if size is None else 1
        if size is not None and "edges" in getattr(item, "fields", {}):
            inner = self.selection_set(node.selection_set, item, edges=size)
            return 1 + inner
        inner = self.selection_set(node.selection_set, item)
        if isinstance(returns, GraphQLList):
            count = edges if name == "edges" and edges is not None else size or LIST_ESTIMATE
            return count * (1 + inner)
        return 1 + inner


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limits: QueryLimits,
) -> int | None:
    """The operation's cost; None when its variables do not fit (execution reports that).

    Raises GraphQLError for a page size out of range, and for a cost over the maximum."""
    operation = _operation(document, operation_name)
    if operation is None:
        return None
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        return None
    root = schema.get_root_type(operation.operation)
    assert root is not None
    cost_of = _Cost(schema, document, coerced, limits)
    try:
        cost = cost_of.selection_set(operation.selection_set, root)
    except Exceeded as exceeded:
        raise exceeded.error from None
    except GraphQLError:
        return None  # an argument of the wrong kind: execution reports it
    if operation.operation == OperationType.MUTATION:
        cost += MUTATION_COST * len(operation.selection_set.selections)
    if cost > limits.max_cost:
        raise refusal(
            "MAX_COST_EXCEEDED",
            f"The query could cost {cost} points, above the maximum of {limits.max_cost}: "
            "ask for smaller pages (first) or fewer nested connections",
            operation,
            cost=cost,
            maximum=limits.max_cost,
        )
    return cost
