"""Every public name of the served schema explains itself (GraphiQL's docs, code generators),
and where the contract documents a name, the served text is the contract's (our own words may
follow it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

import schema
from schema.descriptions import document

CONTRACT = Path(__file__).resolve().parent / "contract" / "schema.graphql"


def described_names(served: GraphQLSchema) -> Iterator[tuple[str, str | None]]:
    """(name, description) of every type, field, argument, enum value and input field."""
    for type_name, named in served.type_map.items():
        if type_name.startswith("__"):
            continue
        yield type_name, named.description
        if isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                yield f"{type_name}.{value_name}", value.description
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                yield f"{type_name}.{field_name}", field.description
                for argument_name, argument in field.args.items():
                    yield f"{type_name}.{field_name}({argument_name})", argument.description
        if isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                yield f"{type_name}.{field_name}", input_field.description


@pytest.mark.parametrize("introspection", [True, False], ids=["development", "production"])
def test_no_public_name_is_undocumented(introspection: bool) -> None:
    served = schema.build_schema(introspection)._schema
    names = dict(described_names(served))
    assert len(names) > 300
    undocumented = sorted(name for name, text in names.items() if not (text or "").strip())
    assert undocumented == [], f"{len(undocumented)} undocumented: {undocumented}"


def test_the_contracts_descriptions_are_served() -> None:
    contract = dict(described_names(build_schema(CONTRACT.read_text())))
    served = dict(described_names(schema.build_schema()._schema))
    compared = 0
    for name, text in contract.items():
        if not text or name not in served:  # not built yet (v2), or documented by comments only
            continue
        compared += 1
        assert (served[name] or "").startswith(text), f"{name}: {served[name]!r} is not {text!r}"
    assert compared >= 70  # the contract documents 72 of the names served today


def test_a_description_of_a_name_the_schema_lost_fails_at_start_up() -> None:
    served = build_schema("type Query { tasks: Int }")
    document(served, {"Query.tasks": "The Tasks screen."})
    assert served.query_type is not None
    assert served.query_type.fields["tasks"].description == "The Tasks screen."
    for stale in ("Query.gone", "Gone", "Query.tasks(first)"):
        with pytest.raises(KeyError, match="describes"):
            document(served, {stale: "text"})
