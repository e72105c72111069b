"""Business days per jurisdiction: weekends, public holidays from `holidays`, and operator overrides."""

from __future__ import annotations

import tomllib
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays

from agent.deadlines.statutes import JURISDICTIONS, StatuteError

# Holidays are computed a block of years at a time, so a scan over many requests reuses one table.
_BLOCK = 8


@dataclass(frozen=True)
class Override:
    """Dates the holiday package gets wrong for one jurisdiction."""

    closed: frozenset[date] = frozenset()  # extra days the offices are shut (a furlough, a snow day)
    open: frozenset[date] = frozenset()  # listed holidays the offices in fact keep


_NO_OVERRIDE = Override()


@lru_cache(maxsize=512)
def _holiday_dates(jurisdiction: str, first_year: int) -> frozenset[date]:
    years = range(first_year, first_year + _BLOCK)
    if jurisdiction == "US":
        # Federal agencies keep the federal holidays only.
        table = holidays.country_holidays("US", years=years)
    else:
        table = holidays.country_holidays("US", subdiv=jurisdiction, years=years)
    return frozenset(table)


@lru_cache(maxsize=512)
def _business_days(jurisdiction: str, first_year: int, override: Override) -> tuple[int, ...]:
    """Sorted ordinals of every business day in the block; bisect makes counting O(log n)."""
    closed = (_holiday_dates(jurisdiction, first_year) | override.closed) - override.open
    day = date(first_year, 1, 1)
    end = date(first_year + _BLOCK, 1, 1)
    ordinals: list[int] = []
    while day < end:
        if day.weekday() < 5 and day not in closed:
            ordinals.append(day.toordinal())
        day += timedelta(days=1)
    return tuple(ordinals)


def _block_start(year: int) -> int:
    return year - year % _BLOCK


@dataclass(frozen=True)
class BusinessCalendar:
    """One calendar for all jurisdictions; overrides are data (see rules/statutes/calendar.toml)."""

    overrides: Mapping[str, Override] = field(default_factory=dict)
    # Per-instance memo in front of the shared lru_cache: a plain dict hit is the hot path in a scan.
    _tables: dict[tuple[str, int], tuple[int, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def _table(self, jurisdiction: str, year: int) -> tuple[int, ...]:
        key = (jurisdiction, year - year % _BLOCK)
        table = self._tables.get(key)
        if table is None:
            if jurisdiction not in JURISDICTIONS:
                raise KeyError(f"unknown jurisdiction {jurisdiction!r}")
            table = _business_days(jurisdiction, key[1], self.overrides.get(jurisdiction, _NO_OVERRIDE))
            self._tables[key] = table
        return table

    def is_business_day(self, d: date, jurisdiction: str) -> bool:
        table = self._table(jurisdiction, d.year)
        i = bisect_left(table, d.toordinal())
        return i < len(table) and table[i] == d.toordinal()

    def next_business_day(self, d: date, jurisdiction: str) -> date:
        """The first business day strictly after `d`."""
        return self.add_business_days(d, 1, jurisdiction)

    def roll_forward(self, d: date, jurisdiction: str) -> date:
        """`d` itself when it is a business day, else the next one."""
        return d if self.is_business_day(d, jurisdiction) else self.next_business_day(d, jurisdiction)

    def add_business_days(self, start: date, n: int, jurisdiction: str) -> date:
        """The n-th business day after `start` (`start` is day 0 and need not be a business day)."""
        if n < 0:
            raise ValueError("n must not be negative")
        if n == 0:
            return start
        ordinal, year = start.toordinal(), start.year
        while True:
            table = self._table(jurisdiction, year)
            i = bisect_right(table, ordinal)  # index of the first business day after `ordinal`
            if i + n - 1 < len(table):
                return date.fromordinal(table[i + n - 1])
            # Not enough business days left in this block: spend what there is and move on.
            n -= len(table) - i
            year = _block_start(year) + _BLOCK
            ordinal = date(year, 1, 1).toordinal() - 1

    def business_days_between(self, a: date, b: date, jurisdiction: str) -> int:
        """Business days after `a` up to and including `b`; negative when `b` is before `a`."""
        if b < a:
            return -self.business_days_between(b, a, jurisdiction)
        count, ordinal, year = 0, a.toordinal(), a.year
        while True:
            table = self._table(jurisdiction, year)
            lo = bisect_right(table, ordinal)
            end_of_block = date(_block_start(year) + _BLOCK, 1, 1)
            if b < end_of_block:
                return count + bisect_right(table, b.toordinal()) - lo
            count += len(table) - lo
            year = end_of_block.year
            ordinal = end_of_block.toordinal() - 1


DEFAULT_CALENDAR = BusinessCalendar()


def is_business_day(d: date, jurisdiction: str) -> bool:
    return DEFAULT_CALENDAR.is_business_day(d, jurisdiction)


def add_business_days(start: date, n: int, jurisdiction: str) -> date:
    return DEFAULT_CALENDAR.add_business_days(start, n, jurisdiction)


def next_business_day(d: date, jurisdiction: str) -> date:
    return DEFAULT_CALENDAR.next_business_day(d, jurisdiction)


def business_days_between(a: date, b: date, jurisdiction: str) -> int:
    return DEFAULT_CALENDAR.business_days_between(a, b, jurisdiction)


def _dates(value: Any, where: str) -> frozenset[date]:
    if not isinstance(value, list) or not all(isinstance(v, date) and not hasattr(v, "hour") for v in value):
        raise StatuteError(f"{where}: expected a list of dates (e.g. [2025-12-24])")
    return frozenset(value)


def load_calendar(directory: Path) -> BusinessCalendar:
    """Read `calendar.toml` beside the statutes, if present: `[JURISDICTION] closed = [...] open = [...]`."""
    path = directory / "calendar.toml"
    if not path.is_file():
        return BusinessCalendar()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StatuteError(f"{path}: not valid TOML: {exc}") from exc
    overrides: dict[str, Override] = {}
    for jurisdiction, table in data.items():
        if jurisdiction not in JURISDICTIONS or not isinstance(table, dict):
            raise StatuteError(f"{path}: `{jurisdiction}` is not a jurisdiction table")
        for key in table:
            if key not in ("closed", "open"):
                raise StatuteError(f"{path}: unknown key `{jurisdiction}.{key}`")
        overrides[jurisdiction] = Override(
            closed=_dates(table.get("closed", []), f"{path}: `{jurisdiction}.closed`"),
            open=_dates(table.get("open", []), f"{path}: `{jurisdiction}.open`"),
        )
    return BusinessCalendar(overrides=overrides)
