"""Trusted documents: the manifest of GraphQL documents a client build ships, checked at start-up.

casetasks/persisted.py runs only these when CASETASKS_TRUSTED_DOCUMENTS names a manifest. A
manifest that cannot be used stops start-up with one line naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, parse, specified_rules, validate

from casetasks.settings import Settings
from schema.limits import QueryLimits, validation_rules

DOCUMENT_ID_PREFIX = "sha256:"
HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class TrustedDocumentsError(Exception):
    """The trusted documents manifest cannot be used; the message names the file and why."""


class DocumentCheck:
    """Whether a text is a document this schema would run: it parses and validates within the
    query limits (variables aside)."""

    def __init__(self, schema: GraphQLSchema, limits: QueryLimits | None = None) -> None:
        self.schema = schema
        self.limits = limits or QueryLimits()
        self.rules = (*validation_rules(self.limits), *specified_rules)

    def problems(self, text: str) -> list[str]:
        try:
            document = parse(text, max_tokens=self.limits.max_tokens)
        except GraphQLError as error:
            return [error.message]
        return [error.message for error in validate(self.schema, document, self.rules)]


def load_trusted_documents(path: Path, check: DocumentCheck) -> dict[str, str]:
    """hash -> document from a manifest: a JSON object of "<sha256 hex>" or "sha256:<hex>" ->
    document (GraphQL Codegen's persisted documents; Relay's, hashed with sha256), or Apollo's
    persisted query manifest ({"format": "apollo-persisted-query-manifest", "operations": ...})."""

    def refuse(problem: str) -> TrustedDocumentsError:
        return TrustedDocumentsError(f"CASETASKS_TRUSTED_DOCUMENTS ({path}): {problem}")

    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise refuse(f"cannot be read ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise refuse(f"is not JSON ({error})") from None
    documents: dict[str, str] = {}
    for key, text in _manifest_entries(manifest, refuse):
        digest = key[len(DOCUMENT_ID_PREFIX) :] if key.startswith(DOCUMENT_ID_PREFIX) else key
        if not HEX_SHA256.fullmatch(digest):
            raise refuse(f'key {key!r} is not a SHA-256 (64 hex digits, or "sha256:" and them)')
        if not isinstance(text, str):
            raise refuse(f"the document of {key!r} is not a string")
        if sha256_of(text) != digest.lower():
            raise refuse(f"key {key!r} is not the SHA-256 of its document")
        problems = check.problems(text)
        if problems:
            raise refuse(f"the document of {key!r} does not validate: {problems[0]}")
        documents[digest.lower()] = text
    if not documents:
        raise refuse("lists no documents")
    return documents


def _manifest_entries(
    manifest: object, refuse: Callable[[str], TrustedDocumentsError]
) -> list[tuple[str, object]]:
    if not isinstance(manifest, dict):
        raise refuse("must be a JSON object of hash -> document")
    if manifest.get("format") != "apollo-persisted-query-manifest":
        return list(manifest.items())
    operations = manifest.get("operations")
    if not isinstance(operations, list) or not all(
        isinstance(operation, dict) and isinstance(operation.get("id"), str)
        for operation in operations
    ):
        raise refuse('"operations" must be a list of objects with "id" and "body"')
    return [(operation["id"], operation.get("body")) for operation in operations]


def check_trusted_documents(settings: Settings) -> None:
    """Loads the manifest, if one is set, only to fail early (TrustedDocumentsError): before
    workers start, each of which would otherwise fail in turn and be restarted."""
    from schema import build_schema

    path = settings.casetasks_trusted_documents
    if path is not None:
        load_trusted_documents(path, DocumentCheck(build_schema()._schema))
