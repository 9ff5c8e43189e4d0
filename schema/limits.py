"""What one GraphQL document may ask, decided before anything runs.

The shape of a document (depth, aliases, repeated fields, operations) depends on the text
alone: it is checked by a validation rule that runs before graphql-core's own rules (some of
which are quadratic in repeated fields), and the validation cache keeps its verdict. Fragment
spreads count where they land: a fragment spread 500 times counts 500 times.

Page sizes and the cost depend on the variables too, so they are computed for each request,
Shopify style: an object costs 1, a scalar nothing, a connection's edges cost their page size
times what each edge selects, a list without a page size is taken as LIST_ESTIMATE items, and a
mutation field costs MUTATION_COST more. Introspection (`__schema`, `__type`) costs 1 and is
held by graphql-core's MaxIntrospectionDepthRule (one of its specified rules) instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
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
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.validation import ASTValidationRule
from graphql.validation.validate import ValidationAbortedError

from services.pagination import MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")
LIST_ESTIMATE = 10
MUTATION_COST = 10
INTROSPECTION = ("__schema", "__type")


@dataclass(frozen=True)
class QueryLimits:
    """The published limits of the API (README, "Limits")."""

    max_tokens: int = 10_000
    max_depth: int = 12
    max_aliases: int = 30
    # How often one response key may be selected in one selection set.
    max_repeated_fields: int = 10
    max_operations: int = 20
    max_cost: int = 10_000
    max_page_size: int = MAX_PAGE_SIZE


def refusal(code: str, message: str, nodes: Node | None = None, **details: Any) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code, **details})


class _Exceeded(Exception):
    def __init__(self, error: GraphQLError) -> None:
        super().__init__(error.message)
        self.error = error


# ---------------------------------------------------------------- the document's shape


@dataclass
class _Shape:
    depth: int = 0
    aliases: int = 0
    keys: Counter[str] | None = None

    def key_counts(self) -> Counter[str]:
        if self.keys is None:
            self.keys = Counter()
        return self.keys


class _ShapeCheck:
    def __init__(self, document: DocumentNode, limits: QueryLimits) -> None:
        self.limits = limits
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.done: dict[str, _Shape] = {}
        self.on_path: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> None:
        self.selection_set(operation.selection_set, operation)

    def _merge_level(self, shape: _Shape, inner: _Shape, at: Node) -> None:
        shape.depth = max(shape.depth, inner.depth)
        shape.aliases += inner.aliases
        keys = shape.key_counts()
        for key, count in (inner.keys or {}).items():
            keys[key] += count
            self._check_repeats(key, keys[key], at)

    def _check_repeats(self, key: str, count: int, at: Node) -> None:
        limit = self.limits.max_repeated_fields
        if count > limit:
            raise _Exceeded(
                refusal(
                    "MAX_REPEATED_FIELDS_EXCEEDED",
                    f"'{key}' is selected {count} times in one selection set (fragments "
                    f"counted where they are spread); the limit is {limit}",
                    at,
                    field=key,
                    maximum=limit,
                )
            )

    def _check(self, shape: _Shape, at: Node) -> None:
        limits = self.limits
        if shape.depth > limits.max_depth:
            raise _Exceeded(
                refusal(
                    "MAX_DEPTH_EXCEEDED",
                    f"The query nests fields more than {limits.max_depth} levels deep",
                    at,
                    maximum=limits.max_depth,
                )
            )
        if shape.aliases > limits.max_aliases:
            raise _Exceeded(
                refusal(
                    "MAX_ALIASES_EXCEEDED",
                    f"The query uses more than {limits.max_aliases} aliases (fragments "
                    "counted where they are spread)",
                    at,
                    maximum=limits.max_aliases,
                )
            )

    def selection_set(self, node: SelectionSetNode, at: Node) -> _Shape:
        shape = _Shape()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                keys = shape.key_counts()
                keys[key] += 1
                self._check_repeats(key, keys[key], selection)
                if selection.alias is not None:
                    shape.aliases += 1
                depth = 1
                if selection.selection_set is not None and selection.name.value not in (
                    INTROSPECTION
                ):
                    inner = self.selection_set(selection.selection_set, selection)
                    depth += inner.depth
                    shape.aliases += inner.aliases
                shape.depth = max(shape.depth, depth)
            elif isinstance(selection, InlineFragmentNode):
                self._merge_level(shape, self.selection_set(selection.selection_set, at), at)
            elif isinstance(selection, FragmentSpreadNode):
                inner_shape = self.fragment(selection.name.value)
                if inner_shape is not None:
                    self._merge_level(shape, inner_shape, selection)
            self._check(shape, at)
        return shape

    def fragment(self, name: str) -> _Shape | None:
        """A fragment's shape, computed once; None for an unknown fragment or a cycle (both
        are reported by graphql-core's own rules)."""
        if name in self.done:
            return self.done[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.on_path:
            return None
        self.on_path.add(name)
        try:
            shape = self.selection_set(definition.selection_set, definition)
        finally:
            self.on_path.discard(name)
        self.done[name] = shape
        return shape


def check_shape(document: DocumentNode, limits: QueryLimits) -> GraphQLError | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > limits.max_operations:
        return refusal(
            "MAX_OPERATIONS_EXCEEDED",
            f"The document holds {len(operations)} operations; the limit is "
            f"{limits.max_operations} (send one operation per request)",
            maximum=limits.max_operations,
        )
    check = _ShapeCheck(document, limits)
    try:
        for operation in operations:
            check.operation(operation)
    except _Exceeded as exceeded:
        return exceeded.error
    except RecursionError:
        return refusal(
            "MAX_DEPTH_EXCEEDED",
            "The query nests fields or fragments too deeply",
            maximum=limits.max_depth,
        )
    return None


class _ShapeRule(ASTValidationRule):
    limits = QueryLimits()

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        """The document node comes first: before any rule looks at a selection set."""
        error = check_shape(node, self.limits)
        if error is not None:
            # Ends validation here, before the rules that would take long on such a document.
            raise ValidationAbortedError(error.message, error.nodes, extensions=error.extensions)


_RULES: dict[QueryLimits, tuple[type[ASTValidationRule], ...]] = {}


def validation_rules(limits: QueryLimits) -> tuple[type[ASTValidationRule], ...]:
    """The same classes for the same limits, so that the validation cache keeps hitting."""
    rules = _RULES.get(limits)
    if rules is None:
        rule = type("QueryShapeRule", (_ShapeRule,), {"limits": limits})
        rules = _RULES[limits] = (rule,)
    return rules


# ---------------------------------------------------------------- page sizes and cost


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
                raise _Exceeded(
                    refusal(
                        "BAD_USER_INPUT",
                        f"{node.name.value}({name}:) must be between 0 and {limit}, got {size}",
                        node,
                    )
                )
        return max(sizes, default=0)

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
    except _Exceeded as exceeded:
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
