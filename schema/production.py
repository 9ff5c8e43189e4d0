"""What production mode hides: the schema (introspection) and the suggestions that would leak it
one field name at a time ("Cannot query field 'nmae' on type 'Task'. Did you mean 'name'?")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, SchemaExtension

_SUGGESTION = re.compile(r"\s*Did you mean .*\?\s*$", re.DOTALL)


def without_suggestion(message: str) -> str:
    return _SUGGESTION.sub("", message)


def _hidden(error: GraphQLError) -> GraphQLError:
    message = without_suggestion(error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        extensions=error.extensions,
    )


class HideSuggestions(SchemaExtension):
    """Validation and variable errors without their "Did you mean ...?"."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [_hidden(error) for error in result.errors]


def hiding_extensions(introspection: bool) -> list[Callable[[], SchemaExtension]]:
    """With introspection off, suggestions go too: they answer the same question."""
    if introspection:
        return []
    return [DisableIntrospection, HideSuggestions]
