"""Column types: instants are stored as UTC and always read back as aware UTC datetimes, on either database.

SQLite has no time-zone type: SQLAlchemy writes a datetime's wall clock and drops its offset, so a reply dated
12:35:10 -0800 would be stored as 12:35:10 and read back as if it were UTC. Converting to UTC before writing
and marking the value UTC after reading makes both databases mean the same instant. On PostgreSQL the column
is `timestamptz`, which already stores the instant; reading converts it to UTC so no value carries the
server's session zone.
"""

from __future__ import annotations

import datetime as dt
from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

UTC = dt.timezone.utc


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware instant; naive values given to it are taken as UTC (everything the agent makes is UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # SQLite would drop the offset anyway; give it the UTC wall clock explicitly.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: object, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
