"""services/recurrence.py on its own: rule checks, the RRULE text, and dates from dateutil.

The property tests build the same rule a second way, straight from dateutil's rrule
arguments, and require the stored RRULE text to yield exactly those dates.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import islice

import pytest
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr, weekday
from dateutil.rrule import FR as DU_FR
from dateutil.rrule import MO as DU_MO
from dateutil.rrule import SA as DU_SA
from dateutil.rrule import SU as DU_SU
from dateutil.rrule import TH as DU_TH
from dateutil.rrule import TU as DU_TU
from dateutil.rrule import WE as DU_WE
from hypothesis import given, settings
from hypothesis import strategies as st

from services import recurrence
from services.errors import Problems
from services.recurrence import Frequency, Recurrence, Weekday
from services.validation import InvalidDate

MONDAY = date(2027, 3, 1)
DU_FREQ = {
    Frequency.DAILY: DAILY,
    Frequency.WEEKLY: WEEKLY,
    Frequency.MONTHLY: MONTHLY,
    Frequency.YEARLY: YEARLY,
}
DU_DAY: dict[Weekday, weekday] = {
    Weekday.MO: DU_MO,
    Weekday.TU: DU_TU,
    Weekday.WE: DU_WE,
    Weekday.TH: DU_TH,
    Weekday.FR: DU_FR,
    Weekday.SA: DU_SA,
    Weekday.SU: DU_SU,
}
FAST = settings(max_examples=100, deadline=None, database=None)


def checked(given: Recurrence, first: date | InvalidDate | None = MONDAY) -> recurrence.Rule:
    problems = Problems()
    rule = recurrence.check(problems, given, first)
    assert problems.items == [], problems.items
    assert rule is not None
    return rule


def faults(given: Recurrence, first: date | InvalidDate | None = MONDAY) -> list[tuple[str, ...]]:
    problems = Problems()
    assert recurrence.check(problems, given, first) is None
    return [p.field or () for p in problems.items]


def midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def first_n(text: str, start: date, n: int) -> list[date]:
    return list(islice(recurrence.dates(text, start), n))


# ---------------------------------------------------------------- the rule text


def test_a_weekly_rule_without_weekdays_repeats_on_the_weekday_of_the_first_date() -> None:
    rule = checked(Recurrence(Frequency.WEEKLY), date(2027, 3, 3))
    assert rule.text == "FREQ=WEEKLY;INTERVAL=1;BYDAY=WE"
    assert (rule.start, rule.until, rule.count) == (date(2027, 3, 3), None, None)


def test_the_rule_text_is_rfc_5545_that_dateutil_reads_back() -> None:
    rule = checked(
        Recurrence(
            Frequency.WEEKLY,
            interval=2,
            by_weekday=[Weekday.FR, Weekday.MO, Weekday.FR],
            until=date(2027, 4, 30),
        )
    )
    # Weekdays in calendar order, once each; UNTIL as an RFC 5545 DATE.
    assert rule.text == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;UNTIL=20270430"
    parsed = rrulestr(rule.text, dtstart=midnight(MONDAY))
    assert [d.date() for d in parsed] == [
        date(2027, 3, 1),
        date(2027, 3, 5),
        date(2027, 3, 15),
        date(2027, 3, 19),
        date(2027, 3, 29),
        date(2027, 4, 2),
        date(2027, 4, 12),
        date(2027, 4, 16),
        date(2027, 4, 26),
        date(2027, 4, 30),
    ]


def test_count_and_a_missing_interval() -> None:
    rule = checked(Recurrence(Frequency.DAILY, interval=None, count=3))
    assert rule.text == "FREQ=DAILY;INTERVAL=1;COUNT=3"
    assert rule.count == 3
    assert list(recurrence.dates(rule.text, MONDAY)) == [
        MONDAY + timedelta(days=n) for n in (0, 1, 2)
    ]


def test_monthly_on_the_31st_follows_rfc_5545_and_skips_shorter_months() -> None:
    start = date(2028, 1, 31)
    rule = checked(Recurrence(Frequency.MONTHLY), start)
    assert first_n(rule.text, start, 4) == [
        date(2028, 1, 31),
        date(2028, 3, 31),
        date(2028, 5, 31),
        date(2028, 7, 31),
    ]


def test_yearly_on_29_february_falls_on_leap_years_only() -> None:
    start = date(2028, 2, 29)
    rule = checked(Recurrence(Frequency.YEARLY), start)
    assert first_n(rule.text, start, 3) == [date(2028, 2, 29), date(2032, 2, 29), date(2036, 2, 29)]


# ---------------------------------------------------------------- user errors, naming the field


@pytest.mark.parametrize("interval", [0, -1, recurrence.MAX_INTERVAL + 1])
def test_an_interval_below_one_or_absurd_is_refused_on_interval(interval: int) -> None:
    assert faults(Recurrence(Frequency.DAILY, interval=interval)) == [
        ("input", "recurrence", "interval")
    ]


def test_both_until_and_count_is_refused() -> None:
    found = faults(Recurrence(Frequency.DAILY, until=date(2027, 4, 1), count=3))
    assert len(found) == 1
    assert found[0][:2] == ("input", "recurrence")


def test_until_before_the_first_date_is_refused_on_until() -> None:
    assert faults(Recurrence(Frequency.DAILY, until=date(2027, 2, 28))) == [
        ("input", "recurrence", "until")
    ]
    # The first date itself is a possible last date.
    assert checked(Recurrence(Frequency.DAILY, until=MONDAY)).until == MONDAY


@pytest.mark.parametrize("frequency", [Frequency.DAILY, Frequency.MONTHLY, Frequency.YEARLY])
def test_weekdays_on_a_rule_that_is_not_weekly_are_refused_on_by_weekday(
    frequency: Frequency,
) -> None:
    assert faults(Recurrence(frequency, by_weekday=[Weekday.MO])) == [
        ("input", "recurrence", "byWeekday")
    ]


def test_a_first_date_off_the_chosen_weekdays_is_refused_on_by_weekday() -> None:
    assert faults(Recurrence(Frequency.WEEKLY, by_weekday=[Weekday.TU, Weekday.TH])) == [
        ("input", "recurrence", "byWeekday")
    ]


@pytest.mark.parametrize("count", [0, -2, recurrence.MAX_COUNT + 1])
def test_a_count_below_one_is_refused_on_count(count: int) -> None:
    assert faults(Recurrence(Frequency.DAILY, count=count)) == [("input", "recurrence", "count")]


def test_every_problem_comes_back_at_once() -> None:
    found = faults(
        Recurrence(Frequency.MONTHLY, interval=0, by_weekday=[Weekday.MO], until=date(2027, 1, 1))
    )
    assert sorted(found) == sorted(
        [
            ("input", "recurrence", "interval"),
            ("input", "recurrence", "until"),
            ("input", "recurrence", "byWeekday"),
        ]
    )


def test_without_a_usable_first_date_there_is_no_rule_and_no_crash() -> None:
    for first in (None, InvalidDate("2027-02-30")):
        problems = Problems()
        assert recurrence.check(problems, Recurrence(Frequency.WEEKLY), first) is None
        assert problems.items == []  # the missing/invalid dueDate is reported by the task form
    assert faults(Recurrence(Frequency.DAILY, until=InvalidDate("2027-13-01"))) == [
        ("input", "recurrence", "until")
    ]


# ---------------------------------------------------------------- helpers used by series edits


def test_until_before_ends_the_rule_the_day_before_and_drops_count() -> None:
    text = "FREQ=DAILY;INTERVAL=1;COUNT=10"
    ended = recurrence.until_before(text, date(2027, 3, 4))
    assert ended == "FREQ=DAILY;INTERVAL=1;UNTIL=20270303"
    assert list(recurrence.dates(ended, MONDAY)) == [
        date(2027, 3, 1),
        date(2027, 3, 2),
        date(2027, 3, 3),
    ]


def test_reanchor_keeps_only_the_remaining_count() -> None:
    text = "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=5"
    rest = recurrence.reanchor(text, MONDAY, date(2027, 3, 15), date(2027, 3, 15))
    assert rest.count == 3
    assert list(recurrence.dates(rest.text, rest.start)) == [
        date(2027, 3, 15),
        date(2027, 3, 22),
        date(2027, 3, 29),
    ]


def test_weekdays_of_reads_byday() -> None:
    assert recurrence.weekdays_of("FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TH") == [Weekday.MO, Weekday.TH]
    assert recurrence.weekdays_of("FREQ=DAILY;INTERVAL=3") == []


# ---------------------------------------------------------------- properties


@st.composite
def recurrences(draw: st.DrawFn) -> tuple[Recurrence, date]:
    """Any valid rule and its first date."""
    start = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)))
    frequency = draw(st.sampled_from(list(Frequency)))
    interval = draw(st.integers(min_value=1, max_value=5))
    weekdays: list[Weekday] | None = None
    if frequency == Frequency.WEEKLY and draw(st.booleans()):
        chosen = draw(st.sets(st.sampled_from(list(Weekday)), max_size=6))
        weekdays = [*chosen, recurrence.WEEKDAYS[start.weekday()]]
    end = draw(st.sampled_from(["none", "until", "count"]))
    until = start + timedelta(days=draw(st.integers(0, 800))) if end == "until" else None
    count = draw(st.integers(1, 40)) if end == "count" else None
    return Recurrence(frequency, interval, weekdays, until, count), start


def dateutil_dates(given: Recurrence, start: date, through: date) -> list[date]:
    """The same rule built straight from dateutil's arguments, not from our text."""
    days = given.by_weekday
    if given.frequency == Frequency.WEEKLY and not days:
        days = [recurrence.WEEKDAYS[start.weekday()]]
    built = rrule(
        DU_FREQ[given.frequency],
        dtstart=midnight(start),
        interval=given.interval or 1,
        byweekday=[DU_DAY[d] for d in days] if days else None,
        until=midnight(given.until) if isinstance(given.until, date) else None,
        count=given.count,
    )
    return [m.date() for m in built.between(midnight(start), midnight(through), inc=True)]


@FAST
@given(
    frequency=st.sampled_from(list(Frequency)),
    interval=st.one_of(st.none(), st.integers(-3, 1003)),
    weekdays=st.lists(st.sampled_from(list(Weekday)), max_size=3),
    until=st.one_of(st.none(), st.integers(-5, 5)),
    count=st.one_of(st.none(), st.integers(-1, 3)),
)
def test_exactly_the_invalid_rules_are_refused_each_on_its_field(
    frequency: Frequency,
    interval: int | None,
    weekdays: list[Weekday],
    until: int | None,
    count: int | None,
) -> None:
    given_rule = Recurrence(
        frequency,
        interval,
        weekdays or None,
        None if until is None else MONDAY + timedelta(days=until),
        count,
    )
    expected = set()
    if interval is not None and not 1 <= interval <= recurrence.MAX_INTERVAL:
        expected.add(("input", "recurrence", "interval"))
    if until is not None and count is not None:
        expected.add(("input", "recurrence"))
    if until is not None and until < 0:
        expected.add(("input", "recurrence", "until"))
    if count is not None and count < 1:
        expected.add(("input", "recurrence", "count"))
    if weekdays and (frequency != Frequency.WEEKLY or Weekday.MO not in weekdays):
        expected.add(("input", "recurrence", "byWeekday"))
    problems = Problems()
    rule = recurrence.check(problems, given_rule, MONDAY)
    assert {p.field for p in problems.items} == expected
    assert (rule is None) == bool(expected)
    if rule is not None:
        assert next(recurrence.dates(rule.text, rule.start)) == MONDAY


@FAST
@given(recurrences(), st.integers(min_value=0, max_value=1200))
def test_the_stored_text_yields_exactly_the_dates_of_the_rule(
    drawn: tuple[Recurrence, date], days: int
) -> None:
    given_rule, start = drawn
    rule = checked(given_rule, start)
    through = start + timedelta(days=days)
    expected = dateutil_dates(given_rule, start, through)
    stored = rrulestr(rule.text, dtstart=midnight(rule.start))
    assert [m.date() for m in stored.between(midnight(start), midnight(through), inc=True)] == (
        expected
    )
    assert recurrence.dates_between(rule.text, rule.start, None, through) == expected
    # The first due date is always the first occurrence.
    assert expected[0] == start


@FAST
@given(recurrences(), st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=25))
def test_walking_in_any_steps_makes_each_date_once_and_misses_none(
    drawn: tuple[Recurrence, date], steps: list[int]
) -> None:
    given_rule, start = drawn
    rule = checked(given_rule, start)
    made: list[date] = []
    done_through: date | None = None
    through = start - timedelta(days=1)
    for step in steps:
        through += timedelta(days=step)
        made += recurrence.dates_between(rule.text, rule.start, done_through, through)
        done_through = through if done_through is None else max(done_through, through)
    assert len(made) == len(set(made))
    assert made == dateutil_dates(given_rule, start, through)


@FAST
@given(recurrences(), st.integers(min_value=-30, max_value=900), st.integers(1, 12))
def test_next_dates_are_the_first_scheduled_dates_on_or_after_a_day(
    drawn: tuple[Recurrence, date], offset: int, limit: int
) -> None:
    given_rule, start = drawn
    rule = checked(given_rule, start)
    day = start + timedelta(days=offset)
    wanted = [d for d in islice(recurrence.dates(rule.text, rule.start), 2000) if d >= day][:limit]
    assert recurrence.next_dates(rule.text, rule.start, day, limit) == wanted


@FAST
@given(recurrences(), st.integers(min_value=1, max_value=60))
def test_ending_a_rule_before_an_occurrence_keeps_exactly_the_earlier_dates(
    drawn: tuple[Recurrence, date], nth: int
) -> None:
    given_rule, start = drawn
    rule = checked(given_rule, start)
    everything = list(islice(recurrence.dates(rule.text, rule.start), 200))
    if nth >= len(everything):
        return
    day = everything[nth]  # series edits end a rule at one of its own occurrences
    ended = recurrence.until_before(rule.text, day)
    assert list(recurrence.dates(ended, rule.start)) == everything[:nth]


@FAST
@given(recurrences(), st.integers(min_value=1, max_value=60))
def test_reanchoring_at_an_occurrence_continues_the_same_dates(
    drawn: tuple[Recurrence, date], nth: int
) -> None:
    given_rule, start = drawn
    rule = checked(given_rule, start)
    everything = list(islice(recurrence.dates(rule.text, rule.start), 400))
    if nth >= len(everything):
        return
    day = everything[nth]
    rest = recurrence.reanchor(rule.text, rule.start, day, day)
    continued = list(islice(recurrence.dates(rest.text, rest.start), 400 - nth))
    assert continued == everything[nth:]
    if rule.count is not None:
        assert nth + len(continued) == rule.count
