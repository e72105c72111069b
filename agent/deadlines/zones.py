"""Each jurisdiction's time zone, so "the day" an agency replied is its own calendar day, not UTC's.

A reply sent at 6:30 pm in California is dated the next day in UTC; counting business days from that UTC
date would push a reminder a day late. States that span zones use the zone of their capital; federal
agencies use Eastern time (Washington, D.C.).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from agent.operators.clock import as_utc

EASTERN, CENTRAL, MOUNTAIN, PACIFIC = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"

ZONES: dict[str, str] = {
    "US": EASTERN, "DC": EASTERN,
    "AL": CENTRAL, "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": CENTRAL, "CA": PACIFIC,
    "CO": MOUNTAIN, "CT": EASTERN, "DE": EASTERN, "FL": EASTERN, "GA": EASTERN, "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": CENTRAL, "IN": "America/Indiana/Indianapolis", "IA": CENTRAL, "KS": CENTRAL,
    "KY": EASTERN, "LA": CENTRAL, "ME": EASTERN, "MD": EASTERN, "MA": EASTERN, "MI": "America/Detroit",
    "MN": CENTRAL, "MS": CENTRAL, "MO": CENTRAL, "MT": MOUNTAIN, "NE": CENTRAL, "NV": PACIFIC, "NH": EASTERN,
    "NJ": EASTERN, "NM": MOUNTAIN, "NY": EASTERN, "NC": EASTERN, "ND": CENTRAL, "OH": EASTERN, "OK": CENTRAL,
    "OR": PACIFIC, "PA": EASTERN, "RI": EASTERN, "SC": EASTERN, "SD": CENTRAL, "TN": CENTRAL, "TX": CENTRAL,
    "UT": MOUNTAIN, "VT": EASTERN, "VA": EASTERN, "WA": PACIFIC, "WV": EASTERN, "WI": CENTRAL, "WY": MOUNTAIN,
}


@lru_cache(maxsize=64)
def zone_for(jurisdiction: str) -> ZoneInfo:
    """The jurisdiction's zone; an unknown id falls back to federal (Eastern) time, as the calendar does."""
    return ZoneInfo(ZONES.get((jurisdiction or "").upper(), EASTERN))


def local_day(value: dt.datetime | None, jurisdiction: str) -> dt.date | None:
    """The agency's calendar day of a moment; a naive value (SQLite drops the zone) is taken as UTC."""
    moment = as_utc(value)
    return moment.astimezone(zone_for(jurisdiction)).date() if moment is not None else None
