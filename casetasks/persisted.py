"""Persisted documents: a request may name its GraphQL document by SHA-256 instead of sending it.

A request names a document by extensions.persistedQuery {version: 1, sha256Hash} (Apollo's
protocol) or by documentId "sha256:<hex>" (the GraphQL-over-HTTP draft's appendix), over HTTP
(GET and POST) and in a graphql-transport-ws subscribe payload. The name is resolved to the
document's text before execution, so everything after it (limits, the parse and validation
caches, the read planner's plans) sees an ordinary request. One setting chooses the mode:

- Automatic persisted queries (CASETASKS_TRUSTED_DOCUMENTS unset). An unknown hash is answered
  PersistedQueryNotFound (extensions.code PERSISTED_QUERY_NOT_FOUND), on which Apollo's and other
  clients send the hash with the text; a text that matches its hash runs and is registered in
  the database, where every instance finds it, with a small cache in each process in front.
  Anyone may register, so what they can fill is bounded: only a document that parses and
  validates within the query limits is registered, none over MAX_STORED_BYTES, and the table
  keeps the newest `persisted_documents_max`.
- Trusted documents (CASETASKS_TRUSTED_DOCUMENTS names a manifest). Only the manifest's
  documents run, named by hash or sent in full; anything else is refused, so in production no
  document that a client build did not ship can run. The manifest is checked at start-up
  (casetasks/trusted_documents.py).

Refusals are GraphQL errors with the codes Apollo's clients and router use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cross_web import AsyncHTTPRequestAdapter
from graphql import GraphQLError, GraphQLSchema
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from strawberry.http import GraphQLRequestData

from casetasks.db import SessionFactory, unit_of_work
from casetasks.settings import Settings
from casetasks.trusted_documents import (
    DOCUMENT_ID_PREFIX,
    HEX_SHA256,
    DocumentCheck,
    load_trusted_documents,
    sha256_of,
)
from models import PersistedDocument
from services.clock import Clock
from services.recent import Recent

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
NOT_TRUSTED = "QUERY_NOT_IN_SAFELIST"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
BAD_REQUEST = "BAD_REQUEST"
# What Apollo Server sends with these answers: a cache in front must not keep "not found" for a
# GET that works once the document is registered.
REFUSAL_CACHE_CONTROL = "private, no-cache, must-revalidate"
# Real operations are a few KiB; this is also the websocket's default message limit.
MAX_STORED_BYTES = 64 * 1024
CACHE_SIZE = 512


class DocumentRefused(Exception):
    """The request's document cannot run; `error` is the answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = GraphQLError(message, extensions={"code": code})


@dataclass(frozen=True)
class DocumentRequest:
    """The parts of a request that say which document to run, as the client sent them."""

    query: object
    extensions: object = None
    document_id: object = None

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> DocumentRequest:
        """From a subscribe message's payload."""
        return cls(fields.get("query"), fields.get("extensions"), fields.get("documentId"))


async def http_document_request(
    request: AsyncHTTPRequestAdapter, data: GraphQLRequestData, decode: Callable[[bytes], object]
) -> DocumentRequest:
    """Strawberry has parsed query, variables, operationName and extensions; documentId is read
    here (a POST body is decoded again only when it mentions one)."""
    document_id: object = None
    if request.method == "GET":
        document_id = request.query_params.get("documentId")
    else:
        body = await request.get_body()
        if b"documentId" in body:
            fields = decode(body)
            document_id = fields.get("documentId") if isinstance(fields, dict) else None
    return DocumentRequest(data.query, data.extensions, document_id)


def names_a_document(fields: Mapping[str, Any]) -> bool:
    """Whether a request (subscribe payload or GET parameters) names its document."""
    extensions = fields.get("extensions")
    return fields.get("documentId") is not None or (
        isinstance(extensions, str | Mapping) and "persistedQuery" in extensions
    )


def _document_id_hash(document_id: object) -> str:
    if isinstance(document_id, str) and document_id.startswith(DOCUMENT_ID_PREFIX):
        digest = document_id[len(DOCUMENT_ID_PREFIX) :]
        if HEX_SHA256.fullmatch(digest):
            return digest.lower()
    raise DocumentRefused(
        BAD_REQUEST, 'documentId must be "sha256:" followed by 64 hexadecimal digits'
    )


def _persisted_query_hash(persisted_query: object) -> str:
    if not isinstance(persisted_query, Mapping):
        raise DocumentRefused(BAD_REQUEST, "extensions.persistedQuery must be an object")
    if persisted_query.get("version") != 1:
        raise DocumentRefused(
            BAD_REQUEST, "extensions.persistedQuery.version must be 1 (the only version there is)"
        )
    digest = persisted_query.get("sha256Hash")
    if not isinstance(digest, str) or not HEX_SHA256.fullmatch(digest):
        raise DocumentRefused(
            BAD_REQUEST, "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits"
        )
    return digest.lower()


def _named_hash(request: DocumentRequest) -> str | None:
    """The hash the request names (None: it names none), checking how it is named."""
    named: set[str] = set()
    if request.document_id is not None:
        named.add(_document_id_hash(request.document_id))
    extensions = request.extensions
    if isinstance(extensions, Mapping) and extensions.get("persistedQuery") is not None:
        named.add(_persisted_query_hash(extensions["persistedQuery"]))
    if len(named) > 1:
        raise DocumentRefused(
            BAD_REQUEST,
            "documentId and extensions.persistedQuery.sha256Hash name different documents",
        )
    return named.pop() if named else None


class PersistedDocuments:
    """Resolves what a request names to the text to run (one per app)."""

    def __init__(
        self,
        session_factory: SessionFactory,
        clock: Clock,
        check: DocumentCheck,
        trusted: Mapping[str, str] | None = None,
        max_stored: int = 10_000,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.check = check
        self.trusted = trusted
        self.max_stored = max_stored
        self.recent: Recent[str, str] = Recent(CACHE_SIZE)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        session_factory: SessionFactory,
        clock: Clock,
        schema: GraphQLSchema,
    ) -> PersistedDocuments:
        """Loads and checks the trusted documents manifest, if one is set (else raises
        TrustedDocumentsError)."""
        check = DocumentCheck(schema)
        path = settings.casetasks_trusted_documents
        trusted = load_trusted_documents(path, check) if path is not None else None
        return cls(session_factory, clock, check, trusted, settings.persisted_documents_max)

    async def resolve(self, request: DocumentRequest) -> str | None:
        """The document's text (None: the request has none, which execution answers), or
        DocumentRefused."""
        digest = _named_hash(request)
        query = request.query if isinstance(request.query, str) and request.query else None
        if query is not None and request.document_id is not None:
            raise DocumentRefused(BAD_REQUEST, "Send documentId or query, not both")
        if self.trusted is not None:
            return self._trusted(digest, query)
        if digest is None:
            return query
        if query is None:
            return await self._known(digest)
        if sha256_of(query) != digest:
            raise DocumentRefused(
                HASH_MISMATCH,
                "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query's text",
            )
        await self._register(digest, query)
        return query

    def _trusted(self, digest: str | None, query: str | None) -> str | None:
        assert self.trusted is not None
        if query is None:
            if digest is None:
                return None
            text = self.trusted.get(digest)
            if text is None:
                raise DocumentRefused(
                    NOT_IN_LIST,
                    f"Persisted document sha256:{digest} is not among the trusted documents",
                )
            return text
        query_digest = sha256_of(query)
        if query_digest not in self.trusted or digest not in (None, query_digest):
            raise DocumentRefused(
                NOT_TRUSTED,
                "Only trusted documents run here: send the documentId or "
                "extensions.persistedQuery of a document in the client's persisted documents "
                "manifest, or its exact text",
            )
        return query

    async def _known(self, digest: str) -> str:
        text = self.recent.get(digest)
        if text is not None:
            return text
        async with self.session_factory() as session:
            text = await session.scalar(
                select(col(PersistedDocument.document)).where(
                    col(PersistedDocument.sha256) == digest
                )
            )
        if text is None:
            raise DocumentRefused(NOT_FOUND, "PersistedQueryNotFound")
        self.recent.put(digest, text)
        return text

    async def _register(self, digest: str, text: str) -> None:
        if self.recent.get(digest) is not None:
            return
        if len(text.encode()) > MAX_STORED_BYTES or self.check.problems(text):
            return  # it runs (and fails, when invalid) without being registered
        async with unit_of_work(self.session_factory) as session:
            assert session.bind is not None
            insert = (
                postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            )
            inserted = await session.execute(
                insert(PersistedDocument)
                .values(sha256=digest, document=text, created_at=self.clock.now())
                .on_conflict_do_nothing(index_elements=["sha256"])
            )
            if inserted.rowcount:  # type: ignore[attr-defined]
                # The newest max_stored stay: registering is open to anyone.
                beyond = (
                    select(col(PersistedDocument.sha256))
                    .order_by(col(PersistedDocument.created_at).desc(), PersistedDocument.sha256)
                    .offset(self.max_stored)
                )
                await session.execute(
                    delete(PersistedDocument).where(col(PersistedDocument.sha256).in_(beyond))
                )
        self.recent.put(digest, text)
