"""What one GraphQL document may ask, decided before anything runs.

The shape of a document (depth, aliases, repeated fields, operations) depends on the text
alone: it is checked by a validation rule that runs before graphql-core's own rules (some of
which are quadratic in repeated fields), and the validation cache keeps its verdict. Fragment
spreads count where they land: a fragment spread 500 times counts 500 times.

Page sizes and the cost depend on the variables too: schema/cost.py works them out for each
request. Introspection subtrees (`__schema`, `__type`) do not count towards the depth: they
are held by graphql-core's MaxIntrospectionDepthRule (one of its specified rules) instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.validation import ASTValidationRule
from graphql.validation.validate import ValidationAbortedError

from services.pagination import MAX_PAGE_SIZE

INTROSPECTION = ("__schema", "__type")


@dataclass(frozen=True)
class QueryLimits:
    """The published limits of the API (README, "Limits")."""

    max_tokens: int = 5_000
    max_depth: int = 12
    max_aliases: int = 30
    # How often one response key may be selected in one selection set.
    max_repeated_fields: int = 10
    max_operations: int = 20
    max_cost: int = 10_000
    max_page_size: int = MAX_PAGE_SIZE


def refusal(code: str, message: str, nodes: Node | None = None, **details: Any) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code, **details})


class Exceeded(Exception):
    """A limit reached while measuring; carries the refusal to answer with."""

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
            raise Exceeded(
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
            raise Exceeded(
                refusal(
                    "MAX_DEPTH_EXCEEDED",
                    f"The query nests fields more than {limits.max_depth} levels deep",
                    at,
                    maximum=limits.max_depth,
                )
            )
        if shape.aliases > limits.max_aliases:
            raise Exceeded(
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
    except Exceeded as exceeded:
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
