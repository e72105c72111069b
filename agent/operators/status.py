"""The daemon's health as operators need it: what it published, plus queue sizes counted from the database."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.db.models import DaemonState, Message, Outbox, ReviewItem
from agent.operators.clock import as_utc


@dataclass(frozen=True)
class Health:
    published: dict[str, Any]  # DaemonState name -> value (with its updated_at)
    status_file: dict[str, Any] | None  # the daemon's status file, None when absent
    status_file_error: str | None
    outbox: dict[str, int]  # state -> count
    review_open: int
    orphans: int
    quarantined: int
    checked_at: dt.datetime
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "published": self.published,
            "status_file": self.status_file,
            "status_file_error": self.status_file_error,
            "queues": {
                "outbox": self.outbox,
                "review_open": self.review_open,
                "orphans": self.orphans,
                "quarantined": self.quarantined,
            },
            "notes": list(self.notes),
        }


def read_health(session: Session, status_file: Path | None, *, now: dt.datetime) -> Health:
    """Never fails for a missing or half-written status file: that itself is news for the operator."""
    published: dict[str, Any] = {}
    for row in session.scalars(select(DaemonState).order_by(DaemonState.name)):
        stamp = as_utc(row.updated_at)
        published[row.name] = {"value": row.value, "updated_at": stamp.isoformat() if stamp else None}
    data, problem = _read_status_file(status_file)
    outbox = dict(session.execute(select(Outbox.state, func.count()).group_by(Outbox.state)).all())
    review_open = session.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.state == "open")) or 0
    orphans = session.scalar(select(func.count()).select_from(Message).where(Message.status == "orphan")) or 0
    quarantined = session.scalar(select(func.count()).select_from(Message).where(Message.status == "quarantined")) or 0
    notes = []
    if not published and data is None:
        notes.append("the daemon has published nothing yet: is `agent run` running?")
    return Health(
        published=published,
        status_file=data,
        status_file_error=problem,
        outbox={str(k): int(v) for k, v in outbox.items()},
        review_open=int(review_open),
        orphans=int(orphans),
        quarantined=int(quarantined),
        checked_at=now,
        notes=tuple(notes),
    )


def _read_status_file(path: Path | None) -> tuple[dict[str, Any] | None, str | None]:
    if path is None or not Path(path).exists():
        return None, None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{path}: {exc}"
    if not isinstance(data, dict):
        return None, f"{path}: expected a JSON object"
    return data, None


def age(value: Any, now: dt.datetime) -> str | None:
    """'3 min ago' for an ISO timestamp; None when the value is not one."""
    if not isinstance(value, str):
        return None
    try:
        when = as_utc(dt.datetime.fromisoformat(value))
    except ValueError:
        return None
    if when is None:
        return None
    seconds = int((now - when).total_seconds())
    if seconds < 0:
        return "in " + _span(-seconds)
    return _span(seconds) + " ago"


def _span(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
