"""Small checks shared by the forms."""

from __future__ import annotations

import enum
import re
from datetime import date
from typing import Final

from services.errors import Problems

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_MAX = 200
TASK_NAME_MAX = 500
DETAILS_MAX = 10_000


class Keep(enum.Enum):
    """A field left out of an edit: keep what is stored."""

    KEEP = "KEEP"


KEEP: Final = Keep.KEEP


class InvalidDate:
    """What the person typed in a date field when it is not a calendar date (e.g. 2027-02-30)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"InvalidDate({self.text!r})"


DateInput = date | InvalidDate


def blank(value: str | None) -> bool:
    return value is None or not value.strip()


def clean(value: str | None) -> str | None:
    """Trimmed text, or None for nothing but white space."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def email_problem(email: str | None) -> str | None:
    if blank(email):
        return "Email must be entered"
    assert email is not None
    if not EMAIL.match(email.strip()) or len(email) > 320:
        return "Email is not a valid email address"
    return None


def contains_pattern(text: str) -> str:
    """A case-folded LIKE pattern matching text anywhere (escape character: backslash)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_person_name(problems: Problems, name: str | None, label: str = "Name") -> None:
    if blank(name):
        problems.required("name", f"{label} must be entered")
    elif len(name or "") > NAME_MAX:
        problems.invalid("name", f"{label} must be at most {NAME_MAX} characters")
