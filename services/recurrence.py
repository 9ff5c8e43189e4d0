"""Recurrence rules: RFC 5545 text in, scheduled dates out, all through dateutil.

A series stores its rule as RRULE text ("FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"); once a date is
skipped it stores RFC 5545 lines instead, the RRULE and an EXDATE listing the skipped dates
("RRULE:FREQ=...\nEXDATE;VALUE=DATE:20270105,20270112"), which dateutil's rrulestr reads
as an rruleset. `rule_of` and `skipped_of` take either form apart."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice

from dateutil.rrule import rrule, rruleset, rrulestr

from services.errors import Problems
from services.validation import DateInput, InvalidDate, date_problem


class Frequency(enum.StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    YEARLY = "YEARLY"


class Weekday(enum.StrEnum):
    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"


WEEKDAYS = list(Weekday)
MAX_INTERVAL = 1000
MAX_COUNT = 10_000


@dataclass(frozen=True)
class Recurrence:
    frequency: Frequency
    interval: int | None = 1
    by_weekday: Sequence[Weekday] | None = None
    until: DateInput | None = None
    count: int | None = None


@dataclass(frozen=True)
class Rule:
    """A checked rule: the RRULE text and where it starts."""

    text: str
    start: date
    until: date | None
    count: int | None


def check(problems: Problems, recurrence: Recurrence, first: DateInput | None) -> Rule | None:
    """Every problem of the rule at once, each naming its field under input.recurrence."""
    field = "recurrence"
    interval = 1 if recurrence.interval is None else recurrence.interval
    if interval < 1 or interval > MAX_INTERVAL:
        problems.invalid_at((field, "interval"), f"Repeat every must be 1 to {MAX_INTERVAL}")
    if recurrence.until is not None and recurrence.count is not None:
        problems.invalid_at((field,), "Give either an end date or a number of times, not both")
    if isinstance(recurrence.until, InvalidDate):
        problems.invalid_at((field, "until"), f"{recurrence.until.text!r} is not a calendar date")
    elif recurrence.until is not None and (problem := date_problem(recurrence.until, "End date")):
        problems.invalid_at((field, "until"), problem)
    elif recurrence.until is not None and isinstance(first, date) and recurrence.until < first:
        problems.invalid_at((field, "until"), "The end date is before the first due date")
    if recurrence.count is not None and not 1 <= recurrence.count <= MAX_COUNT:
        problems.invalid_at((field, "count"), f"The number of times must be 1 to {MAX_COUNT}")
    weekdays = list(dict.fromkeys(recurrence.by_weekday or []))
    if weekdays and recurrence.frequency != Frequency.WEEKLY:
        problems.invalid_at((field, "byWeekday"), "Weekdays can be chosen for weekly tasks only")
    elif weekdays and isinstance(first, date) and WEEKDAYS[first.weekday()] not in weekdays:
        problems.invalid_at(
            (field, "byWeekday"), "The first due date must fall on one of the chosen weekdays"
        )
    if problems.items or not isinstance(first, date):
        return None
    if recurrence.frequency == Frequency.WEEKLY and not weekdays:
        weekdays = [WEEKDAYS[first.weekday()]]
    parts = [f"FREQ={recurrence.frequency.value}", f"INTERVAL={interval}"]
    if weekdays:
        parts.append("BYDAY=" + ",".join(sorted((d.value for d in weekdays), key=_day_index)))
    until = recurrence.until if isinstance(recurrence.until, date) else None
    if until is not None:
        parts.append(f"UNTIL={until.strftime('%Y%m%d')}")
    if recurrence.count is not None:
        parts.append(f"COUNT={recurrence.count}")
    return Rule(text=";".join(parts), start=first, until=until, count=recurrence.count)


def _day_index(code: str) -> int:
    return WEEKDAYS.index(Weekday(code))


MAX_SKIPPED = 200
_EXDATE = "EXDATE;VALUE=DATE:"


def rule_of(text: str) -> str:
    """The RRULE part of a stored rule, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=MO."""
    first = text.split("\n", 1)[0]
    return first.removeprefix("RRULE:")


def skipped_of(text: str) -> list[date]:
    """The dates a stored rule excludes (its EXDATE), in order."""
    for line in text.split("\n")[1:]:
        if line.startswith(_EXDATE):
            values = line[len(_EXDATE) :].split(",")
            return sorted(datetime.strptime(v, "%Y%m%d").date() for v in values if v)
    return []


def with_skipped(text: str, skipped: Sequence[date]) -> str:
    """The stored form of a rule excluding `skipped`: bare RRULE text when there are none."""
    rule = rule_of(text)
    if not skipped:
        return rule
    values = ",".join(d.strftime("%Y%m%d") for d in sorted(set(skipped)))
    return f"RRULE:{rule}\n{_EXDATE}{values}"


def _rule(text: str, start: date) -> rrule | rruleset:
    parsed = rrulestr(text, dtstart=datetime.combine(start, time()), forceset="\n" in text)
    assert isinstance(parsed, rrule | rruleset)
    return parsed


def produces(text: str, start: date, day: date) -> bool:
    """Whether `day` is a scheduled date of the rule (skipped dates are not)."""
    moment = datetime.combine(day, time())
    return _rule(text, start).after(moment, inc=True) == moment


def dates(text: str, start: date) -> Iterator[date]:
    """Every scheduled date of the rule, in order (endless for a rule without an end)."""
    return (moment.date() for moment in _rule(text, start))


def dates_between(text: str, start: date, after: date | None, through: date) -> list[date]:
    """Scheduled dates d with after < d <= through."""
    low = datetime.combine(after + timedelta(days=1), time()) if after else None
    high = datetime.combine(through, time())
    rule = _rule(text, start)
    if low is None:
        return [m.date() for m in rule.between(datetime.min, high, inc=True)]
    if low > high:
        return []
    return [m.date() for m in rule.between(low, high, inc=True)]


def next_dates(text: str, start: date, from_day: date, limit: int) -> list[date]:
    """The first `limit` scheduled dates on or after from_day."""
    rule = _rule(text, start)
    moment = rule.after(datetime.combine(from_day, time()), inc=True)
    if moment is None:
        return []
    later = rule.xafter(moment, count=limit, inc=True)
    return [m.date() for m in islice(later, limit)]


def until_before(text: str, day: date) -> str:
    """The same rule ending the day before `day` (COUNT replaced by UNTIL); the skipped dates
    before `day` stay skipped."""
    kept = [p for p in rule_of(text).split(";") if not p.startswith(("UNTIL=", "COUNT="))]
    rule = ";".join([*kept, f"UNTIL={(day - timedelta(days=1)).strftime('%Y%m%d')}"])
    return with_skipped(rule, [d for d in skipped_of(text) if d < day])


def weekdays_of(text: str) -> list[Weekday]:
    for part in rule_of(text).split(";"):
        if part.startswith("BYDAY="):
            return [Weekday(code) for code in part[len("BYDAY=") :].split(",") if code]
    return []


def reanchor(text: str, start: date, day: date, new_start: date) -> Rule:
    """The rest of a rule, from the occurrence scheduled on `day`, starting at `new_start`.

    A COUNT keeps only the occurrences not yet scheduled before `day` (skipped ones included,
    as RFC 5545 counts them); skipped dates are not carried over (see keep_skipped).
    """
    text = rule_of(text)
    parts = text.split(";")
    count = next((int(p[6:]) for p in parts if p.startswith("COUNT=")), None)
    until_text = next((p[6:] for p in parts if p.startswith("UNTIL=")), None)
    if count is not None:
        before = sum(1 for scheduled in dates(text, start) if scheduled < day)  # finite
        count = max(count - before, 1)
        parts = [p for p in parts if not p.startswith("COUNT=")] + [f"COUNT={count}"]
    until = datetime.strptime(until_text[:8], "%Y%m%d").date() if until_text else None
    return Rule(text=";".join(parts), start=new_start, until=until, count=count)


def keep_skipped(old_text: str, rule: Rule) -> Rule:
    """A new rule (an edit from an occurrence on) keeps the skipped dates it still produces."""
    kept = [
        day
        for day in skipped_of(old_text)
        if day >= rule.start and produces(rule.text, rule.start, day)
    ]
    if not kept:
        return rule
    return Rule(with_skipped(rule.text, kept), rule.start, rule.until, rule.count)
