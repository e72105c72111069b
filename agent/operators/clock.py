"""Dates as an operator means them: local calendar days, while the database stores UTC instants."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC, so naive means UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_today(zone: str, now: dt.datetime | None = None) -> dt.date:
    now = now or dt.datetime.now(UTC)
    return (as_utc(now) or now).astimezone(ZoneInfo(zone)).date()


def local_date(value: dt.datetime | None, zone: str) -> dt.date | None:
    """The calendar day an instant falls on where the operators are."""
    value = as_utc(value)
    return value.astimezone(ZoneInfo(zone)).date() if value else None


def day_start(day: dt.date, zone: str) -> dt.datetime:
    """Local midnight of a day, as a UTC instant: the bound to compare stored timestamps with."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local_time(value: dt.datetime | None, zone: str | dt.tzinfo, *, seconds: bool = False) -> str:
    """An instant as the desk reads it: local wall clock labelled with the zone (e.g. "2025-02-11 12:35 PST")."""
    moment = as_utc(value)
    if moment is None:
        return "—"
    local = moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
    label = local.strftime("%Z") or str(zone)
    return f"{local:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {label}"
