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

# Dates a caseworker can mean: anything else (0001-01-01, 9999-12-31) is a typing slip, and
# dates near the ends of Python's range overflow when months are added to them.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
DATE_RANGE = f"between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"

# Control characters (Unicode category Cc) and the bidirectional embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069), which make a name display as something else.
_BIDI = "\u202a-\u202e\u2066-\u2069"
_NOT_IN_NAMES = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
# Multi-line text (details) keeps tabs and line breaks.
_NOT_IN_TEXT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


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


def date_problem(value: date, label: str) -> str | None:
    if EARLIEST_DATE <= value <= LATEST_DATE:
        return None
    return f"{label} must be {DATE_RANGE}"


def text_problem(value: str | None, label: str, multiline: bool = False) -> str | None:
    """Why a name (or, multiline, a text such as details) cannot be stored as typed."""
    if value is None:
        return None
    found = (_NOT_IN_TEXT if multiline else _NOT_IN_NAMES).search(value)
    if found is None:
        return None
    what = "control characters" if found.group() < "\u00a0" else "text direction controls"
    return f"{label} must not contain {what} (U+{ord(found.group()):04X})"


def check_person_name(
    problems: Problems, name: str | None, label: str = "Name", field: str = "name"
) -> None:
    if blank(name):
        problems.required(field, f"{label} must be entered")
    elif len(name or "") > NAME_MAX:
        problems.invalid(field, f"{label} must be at most {NAME_MAX} characters")
    elif problem := text_problem(name, label):
        problems.invalid(field, problem)
