"""Deadline arithmetic against dates worked out by hand from the statutes and the 2025 calendars."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from agent.deadlines.business_days import BusinessCalendar, Override
from agent.deadlines.compute import business_days_between, compute_deadline, days_overdue


def test_california_required_example(statutes, calendar):
    d = compute_deadline(statutes["CA"], date(2025, 2, 11), calendar)
    assert d.due == date(2025, 2, 21)
    assert d.extended_due == date(2025, 3, 7)
    assert d.citation.startswith("Cal. Gov. Code § 7922.535")
    assert d.basis == "10 calendar days from receipt"


def test_foia_required_example_skips_presidents_day(statutes, calendar):
    d = compute_deadline(statutes["US"], date(2025, 2, 11), calendar)
    assert d.due == date(2025, 3, 12)
    assert d.basis == "20 business days from receipt"


def test_foia_extension_is_ten_more_business_days(statutes, calendar):
    d = compute_deadline(statutes["US"], date(2025, 2, 11), calendar)
    assert d.extended_due == date(2025, 3, 26)
    assert calendar.business_days_between(d.due, d.extended_due, "US") == 10


def test_calendar_due_on_saturday_rolls_to_monday(statutes, calendar):
    d = compute_deadline(statutes["CA"], date(2025, 3, 5), calendar)  # +10 = Sat 15 March
    assert d.due == date(2025, 3, 17)
    assert d.basis == "10 calendar days from receipt, rolled to next business day"


def test_calendar_due_on_monday_holiday_rolls_to_tuesday(statutes, calendar):
    d = compute_deadline(statutes["CA"], date(2025, 5, 16), calendar)  # +10 = Memorial Day
    assert d.due == date(2025, 5, 27)
    d = compute_deadline(statutes["CA"], date(2025, 5, 14), calendar)  # +10 = Sat before Memorial Day
    assert d.due == date(2025, 5, 27)


def test_extension_counts_from_the_unrolled_end(statutes, calendar):
    # Received Wed 5 March: day 10 is Sat 15 March (due rolls to Mon 17); 14 more days from day 10 is
    # Sat 29 March, which rolls to Mon 31 March -- Cesar Chavez Day in California -- so Tue 1 April.
    d = compute_deadline(statutes["CA"], date(2025, 3, 5), calendar)
    assert d.extended_due == date(2025, 4, 1)


def test_roll_none_keeps_a_weekend_day(statutes, calendar):
    ca = replace(statutes["CA"], roll="none")
    assert compute_deadline(ca, date(2025, 3, 5), calendar).due == date(2025, 3, 15)


def test_calendar_days_versus_business_days(statutes, calendar):
    start = date(2025, 2, 11)
    calendar_ten = compute_deadline(statutes["CA"], start, calendar).due
    business_ten = compute_deadline(replace(statutes["CA"], day_type="business"), start, calendar).due
    assert calendar_ten == date(2025, 2, 21)
    # 10 business days in California skip 17 Feb (Presidents' Day) and both weekends.
    assert business_ten == date(2025, 2, 26)


def test_business_days_start_on_a_weekend(statutes, calendar):
    # Received Saturday: Monday is day 1.
    il = statutes["IL"]
    assert (il.days, il.day_type) == (5, "business")
    assert compute_deadline(il, date(2025, 3, 8), calendar).due == date(2025, 3, 14)


def test_no_extension_gives_none(statutes, calendar):
    assert statutes["GA"].extension.days == 0
    assert compute_deadline(statutes["GA"], date(2025, 2, 11), calendar).extended_due is None


def test_mixed_units_pennsylvania(statutes, calendar):
    pa = statutes["PA"]
    if (pa.days, pa.day_type, pa.extension.days, pa.extension.day_type) != (5, "business", 30, "calendar"):
        pytest.skip("PA entry changed")
    d = compute_deadline(pa, date(2025, 2, 11), calendar)
    assert d.due == date(2025, 2, 19)  # 12, 13, 14, (17 is Presidents' Day), 18, 19 February
    assert d.extended_due == date(2025, 3, 21)  # 30 calendar days after the fifth business day


def test_override_closes_a_day(statutes):
    closed = BusinessCalendar({"CA": Override(closed=frozenset({date(2025, 2, 21)}))})
    assert compute_deadline(statutes["CA"], date(2025, 2, 11), closed).due == date(2025, 2, 24)


def test_override_opens_a_holiday(statutes):
    opened = BusinessCalendar({"US": Override(open=frozenset({date(2025, 2, 17)}))})
    assert compute_deadline(statutes["US"], date(2025, 2, 11), opened).due == date(2025, 3, 11)


def test_vague_basis_says_so(statutes, calendar):
    d = compute_deadline(statutes["AZ"], date(2025, 2, 11), calendar)
    assert d.vague and "configured default" in d.basis


def test_business_days_between_and_overdue(calendar):
    assert business_days_between(date(2025, 2, 11), date(2025, 3, 12), "US") == 20
    assert business_days_between(date(2025, 3, 12), date(2025, 2, 11), "US") == -20
    assert business_days_between(date(2025, 2, 11), date(2025, 2, 11), "US") == 0
    assert days_overdue(date(2025, 3, 12), date(2025, 3, 12)) == 0
    assert days_overdue(date(2025, 3, 12), date(2025, 3, 1)) == 0
    assert days_overdue(date(2025, 3, 12), date(2025, 3, 15)) == 3
