"""The daemon's health as operators need it: what it published (DaemonState rows, status file) plus live queue counts.

The daemon writes, through agent.daemon.status.publish: `daemon` (state, pid, at), one row per job (`poll`,
`send`, `scan`, `digest`: at, ok, counts or error), `errors` (count, items), `queues` and `next_jobs`.
"""

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

JOBS = ("poll", "send", "scan", "digest", "ocr")
JOB_TITLES = {"poll": "last poll", "send": "last send", "scan": "last deadline scan", "digest": "last digest", "ocr": "last OCR"}
# Names we lay out ourselves; anything else the daemon publishes is shown as it is.
KNOWN = frozenset({"daemon", "errors", "queues", "next_jobs", "updated_at", "process", "outbox_pause", *JOBS})
# Published by the outbox for its own use (which sender is alive), not for operators.
PRIVATE_PREFIX = "worker:"
EXIT_UNHEALTHY = 1


@dataclass(frozen=True)
class Health:
    published: dict[str, dict[str, Any]]  # name -> value, DB rows first, the status file filling gaps
    updated: dict[str, dt.datetime | None]  # name -> when it was written
    status_file_error: str | None
    outbox: dict[str, int]  # state -> count, counted now
    review_open: int
    orphans: int
    quarantined: int
    checked_at: dt.datetime
    last_heard: dt.datetime | None
    notes: tuple[str, ...] = field(default=())
    # Why monitoring should page someone (stale poll, a failed job, a paused outbox); empty when healthy.
    problems: tuple[str, ...] = field(default=())
    awaiting_ocr: int = 0  # replies held until the OCR job reads their attached scan

    @property
    def healthy(self) -> bool:
        return not self.problems

    def job(self, name: str) -> dict[str, Any] | None:
        return self.published.get(name)

    def as_json(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "last_heard": self.last_heard.isoformat() if self.last_heard else None,
            "published": self.published,
            "status_file_error": self.status_file_error,
            "queues": {
                "outbox": self.outbox,
                "review_open": self.review_open,
                "orphans": self.orphans,
                "quarantined": self.quarantined,
                "awaiting_ocr": self.awaiting_ocr,
            },
            "notes": list(self.notes),
            "healthy": self.healthy,
            "problems": list(self.problems),
        }


def read_health(
    session: Session,
    status_file: Path | None,
    *,
    now: dt.datetime,
    stale_after: dt.timedelta = dt.timedelta(minutes=10),
    poll_stale_after: dt.timedelta | None = None,
) -> Health:
    """Never fails on a missing or damaged status file: that itself is news for the operator.

    poll_stale_after: a last poll older than this makes the daemon unhealthy (default: stale_after)."""
    published: dict[str, dict[str, Any]] = {}
    updated: dict[str, dt.datetime | None] = {}
    for row in session.scalars(select(DaemonState).order_by(DaemonState.name)):
        if row.name.startswith(PRIVATE_PREFIX):
            continue
        published[row.name] = dict(row.value or {}) if isinstance(row.value, dict) else {"value": row.value}
        updated[row.name] = as_utc(row.updated_at)
    data, problem = _read_status_file(status_file)
    for name, value in (data or {}).items():
        # The file is a copy of the rows; it matters when the database is another daemon's or lags behind.
        if name not in published and isinstance(value, dict) and not name.startswith(PRIVATE_PREFIX):
            published[name] = {k: v for k, v in value.items() if k != "updated_at"}
            updated[name] = parse_time(value.get("updated_at")) or parse_time((data or {}).get("updated_at"))
    outbox = dict(session.execute(select(Outbox.state, func.count()).group_by(Outbox.state)).all())
    review_open = session.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.state == "open")) or 0
    orphans = session.scalar(select(func.count()).select_from(Message).where(Message.status == "orphan")) or 0
    quarantined = session.scalar(select(func.count()).select_from(Message).where(Message.status == "quarantined")) or 0
    awaiting_ocr = session.scalar(select(func.count()).select_from(Message).where(Message.status == "awaiting_ocr")) or 0
    heard = [t for t in updated.values() if t is not None]
    last_heard = max(heard) if heard else None
    notes: list[str] = []
    state = published.get("daemon", {}).get("state")
    if not published:
        notes.append("the daemon has published nothing yet: is `agent run` running?")
    elif state == "stopped":
        notes.append("the daemon says it stopped" + (f" ({published['daemon'].get('signal')})" if published["daemon"].get("signal") else ""))
    elif last_heard is not None and now - last_heard > stale_after:
        notes.append(f"nothing heard from the daemon for {_span(int((now - last_heard).total_seconds()))}: is it still running?")
    for job in JOBS:
        if published.get(job, {}).get("ok") is False:
            notes.append(f"the last {job} failed: {published[job].get('error', 'no detail')}")
    pause = outbox_pause(published.get("outbox_pause"), now)
    if pause:
        notes.append(pause)
    problems = _problems(published, notes, now, poll_stale_after or stale_after)
    return Health(
        published=published,
        updated=updated,
        status_file_error=problem,
        outbox={str(k): int(v) for k, v in outbox.items()},
        review_open=int(review_open),
        orphans=int(orphans),
        quarantined=int(quarantined),
        checked_at=now,
        last_heard=last_heard,
        notes=tuple(notes),
        problems=tuple(problems),
        awaiting_ocr=int(awaiting_ocr),
    )


def outbox_pause(value: dict[str, Any] | None, now: dt.datetime) -> str | None:
    """The circuit breaker's pause as one line while it holds; None when sending is not paused."""
    if not value or not value.get("paused"):
        return None
    until = parse_time(value.get("until"))
    if until is None or until <= now:
        return None
    return f"the outbox is paused until {until:%Y-%m-%d %H:%M:%S} UTC ({age(until, now)}): {value.get('reason', 'no detail')}"


def _problems(published: dict[str, dict[str, Any]], notes: list[str], now: dt.datetime, poll_stale: dt.timedelta) -> list[str]:
    """What makes the daemon unhealthy for monitoring: a stale or missing poll, a failed job, a paused outbox."""
    if not published:
        return ["the daemon has published nothing yet"]
    problems: list[str] = []
    poll_at = parse_time((published.get("poll") or {}).get("at"))
    if poll_at is None:
        problems.append("no inbox poll recorded")
    elif now - poll_at > poll_stale:
        problems.append(f"the last inbox poll was {_span(int((now - poll_at).total_seconds()))} ago")
    problems += [n for n in notes if n.startswith(("the last ", "the outbox is paused"))]
    return problems


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


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return as_utc(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


def age(value: Any, now: dt.datetime) -> str | None:
    """'3 min ago' or 'in 5 min' for a timestamp (or ISO text); None when it is not one."""
    when = value if isinstance(value, dt.datetime) else parse_time(value)
    if when is None:
        return None
    seconds = int((now - (as_utc(when) or when)).total_seconds())
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
