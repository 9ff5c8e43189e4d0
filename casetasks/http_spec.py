"""GraphQL over HTTP (the GraphQL Foundation's draft spec): which media type an answer takes,
and the status of a request that never reached execution.

- application/graphql-response+json when the client's Accept prefers it (or ranks it equal to
  application/json): then a request error (the document does not parse or validate, the
  variables do not coerce, or the request is refused before execution) is answered with 400 and
  no "data" entry, as the spec requires, so a client can tell "nothing ran" from "ran and
  failed".
- application/json otherwise, and when Accept is missing (the spec's rule for the watershed
  period: "as if it had Accept: application/json"): every GraphQL result is a 200, with
  "data": null when nothing ran, as clients written before the spec expect.

A request error is recognised by its shape: no data, and no error with a path. A field error
always has a path, so a failure during execution (even one that nulls the whole result) stays
200 with its data entry.
"""

from __future__ import annotations

from typing import Any

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
BAD_REQUEST = 400


def _ranks(accept: str) -> dict[str, float]:
    """media type -> quality, from an Accept header ("a/b;q=0.5, c/d")."""
    ranks: dict[str, float] = {}
    for part in accept.split(","):
        media_type, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_type:
            ranks[media_type.lower()] = max(quality, ranks.get(media_type.lower(), 0.0))
    return ranks


def response_media_type(accept: str | None) -> str:
    """The media type of the answer for this Accept header."""
    if not accept:
        return JSON
    ranks = _ranks(accept)
    preferred = ranks.get(GRAPHQL_RESPONSE_JSON, 0.0)
    legacy = max(ranks.get(JSON, 0.0), ranks.get("application/*", 0.0), ranks.get("*/*", 0.0))
    return GRAPHQL_RESPONSE_JSON if preferred > 0 and preferred >= legacy else JSON


def is_request_error(response: Any) -> bool:
    """Nothing was executed: no data, and errors none of which belongs to a field."""
    if not isinstance(response, dict) or response.get("data") is not None:
        return False
    errors = response.get("errors") or []
    return bool(errors) and all(
        not (isinstance(error, dict) and error.get("path")) for error in errors
    )


def shaped(response: Any, media_type: str, status: int | None) -> tuple[Any, int | None]:
    """The body and status to send: for application/graphql-response+json, a request error
    loses its data entry and, unless a status was already chosen (429, 503...), takes 400."""
    if media_type != GRAPHQL_RESPONSE_JSON or not is_request_error(response):
        return response, status
    body = {key: value for key, value in response.items() if key != "data"}
    return body, status or BAD_REQUEST
