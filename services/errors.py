"""Domain errors. The transport maps each to the contract's payload errors or error codes."""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass


class ProblemCode(enum.StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    CONFLICT = "CONFLICT"


@dataclass(frozen=True)
class Problem:
    """Something the person at the form can fix; field is the input path, e.g. ("input", "name")."""

    field: tuple[str, ...] | None
    code: ProblemCode
    message: str


class DomainError(Exception):
    pass


class InvalidInput(DomainError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


class NotFound(DomainError):
    """Does not exist, or is not visible to the viewer: the two must be indistinguishable."""

    def __init__(self, what: str = "Not found") -> None:
        super().__init__(what)


class Forbidden(DomainError):
    def __init__(self, why: str = "You are not allowed to do this") -> None:
        super().__init__(why)


class Unauthenticated(DomainError):
    def __init__(self, why: str = "Sign in first") -> None:
        super().__init__(why)


class BadRequest(DomainError):
    """An argument no form could have sent (a page size over the cap, a foreign cursor)."""


class Problems:
    """Collects every problem of one submission, so all come back at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def required(self, field: str, message: str) -> None:
        self.items.append(Problem(("input", field), ProblemCode.REQUIRED, message))

    def invalid(self, field: str | None, message: str) -> None:
        path = ("input", field) if field else None
        self.items.append(Problem(path, ProblemCode.INVALID, message))

    def invalid_at(self, path: tuple[str, ...], message: str) -> None:
        """A problem in a nested input field, e.g. ("recurrence", "interval")."""
        self.items.append(Problem(("input", *path), ProblemCode.INVALID, message))

    def conflict(self, field: str, message: str) -> None:
        self.items.append(Problem(("input", field), ProblemCode.CONFLICT, message))

    def raise_any(self) -> None:
        if self.items:
            raise InvalidInput(self.items)


class RateLimited(DomainError):
    """Too much asked too fast; retry_after is the whole number of seconds to wait."""

    def __init__(self, retry_after: float, why: str = "Too many requests") -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"{why}; try again in {self.retry_after} seconds")
