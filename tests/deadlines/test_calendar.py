"""The business-day calendar: weekends, state and federal holidays, block boundaries, overrides."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from agent.deadlines import business_days as cal
from agent.deadlines.business_days import BusinessCalendar, load_calendar
from agent.deadlines.statutes import StatuteError


def test_weekends_and_holidays():
    assert not cal.is_business_day(date(2025, 2, 15), "US")  # Saturday
    assert not cal.is_business_day(date(2025, 2, 17), "US")  # Presidents' Day
    assert cal.is_business_day(date(2025, 2, 18), "US")


def test_state_holidays_differ_from_federal():
    assert not cal.is_business_day(date(2025, 3, 31), "CA")  # Cesar Chavez Day
    assert cal.is_business_day(date(2025, 3, 31), "US")
    assert not cal.is_business_day(date(2025, 11, 28), "CA")  # Day after Thanksgiving
    assert cal.is_business_day(date(2025, 11, 28), "US")


def test_next_business_day_is_strictly_after():
    assert cal.next_business_day(date(2025, 2, 14), "US") == date(2025, 2, 18)
    assert cal.next_business_day(date(2025, 2, 18), "US") == date(2025, 2, 19)


def test_add_business_days_crosses_year_and_cache_block():
    # 2031-12-31 is the last day of an 8-year block; the count must continue into 2032.
    start = date(2031, 12, 30)
    assert cal.add_business_days(start, 3, "US") == date(2032, 1, 5)  # 31 Dec, (1 Jan), 2 Jan, 5 Jan
    assert cal.business_days_between(start, date(2032, 1, 5), "US") == 3


def test_add_zero_and_negative():
    assert cal.add_business_days(date(2025, 2, 15), 0, "US") == date(2025, 2, 15)
    with pytest.raises(ValueError):
        cal.add_business_days(date(2025, 2, 15), -1, "US")


def test_long_count_matches_day_by_day_walk():
    start, n = date(2024, 6, 1), 700  # spans two cache blocks
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if cal.is_business_day(day, "NY"):
            left -= 1
    assert cal.add_business_days(start, n, "NY") == day
    assert cal.business_days_between(start, day, "NY") == n


def test_unknown_jurisdiction():
    with pytest.raises(KeyError):
        cal.is_business_day(date(2025, 1, 2), "XX")


def test_load_calendar_file(tmp_path: Path):
    (tmp_path / "calendar.toml").write_text("[US]\nclosed = [2025-02-18]\nopen = [2025-02-17]\n")
    calendar = load_calendar(tmp_path)
    assert calendar.is_business_day(date(2025, 2, 17), "US")
    assert not calendar.is_business_day(date(2025, 2, 18), "US")


@pytest.mark.parametrize(
    "text",
    ["[XX]\nclosed = [2025-01-02]\n", "[US]\nshut = [2025-01-02]\n", '[US]\nclosed = ["2025-01-02"]\n'],
)
def test_bad_calendar_file(tmp_path: Path, text: str):
    (tmp_path / "calendar.toml").write_text(text)
    with pytest.raises(StatuteError, match="calendar.toml"):
        load_calendar(tmp_path)


def test_no_calendar_file_means_no_overrides(tmp_path: Path):
    assert load_calendar(tmp_path) == BusinessCalendar()
