"""Queue the digest mail: text + HTML to the operators, once per ISO week even across restarts (DigestLog).

When a new install mails its first digest: on the first scheduled digest time (schedule.digest_day at
digest_time, in the desk's zone) after its first activity, a request filed or a message received. Before
that there is nothing to report, and a daemon first started mid-week (which catches up a digest time that
passed while it was not running) must not greet the operators with a "quiet week". And a week with nothing
to say is mailed only once the install was active before that week began: a first week with news is
mailed, a first week without is not. A skipped week is not claimed, so it never blocks a later digest.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agent.compose.message import build_message
from agent.config import Settings
from agent.db.models import DigestLog, Message, Outbox, Request
from agent.digest.build import build_digest
from agent.digest.render import render_html, render_text, subject
from agent.digest.sections import Digest
from agent.operators.clock import as_utc, day_start
from agent.outbox.queue import enqueue


def digest_week(settings: Settings, now: dt.datetime) -> tuple[str, dt.date, dt.date]:
    """The ISO week `now` falls in where the operators are (the once-a-week key) and the seven whole days
    before today, which the digest covers: Monday to Sunday when it goes out on a Monday (the default), and
    never days-old news when schedule.digest_day is another day."""
    local = (as_utc(now) or now).astimezone(ZoneInfo(settings.schedule.timezone)).date()
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}", local - dt.timedelta(days=7), local


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def last_digest_time(settings: Settings, now: dt.datetime) -> dt.datetime:
    """The latest scheduled digest time at or before `now` (this week's if it has passed, else last week's), in UTC."""
    zone = ZoneInfo(settings.schedule.timezone)
    local = (as_utc(now) or now).astimezone(zone)
    hour, minute = (int(part) for part in settings.schedule.digest_time.split(":"))
    day = local.date() - dt.timedelta(days=(local.weekday() - WEEKDAYS.index(settings.schedule.digest_day)) % 7)
    slot = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
    if slot > local:
        slot = dt.datetime.combine(day - dt.timedelta(days=7), dt.time(hour, minute), tzinfo=zone)
    return slot.astimezone(dt.timezone.utc)


def first_activity(session: Session) -> dt.datetime | None:
    """When the install first did something worth a digest: its first request filed or message received."""
    moments = [as_utc(session.scalar(select(func.min(Request.filed_at)))),
               as_utc(session.scalar(select(func.min(Message.received_at))))]
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def worth_mailing(digest: Digest, settings: Settings, now: dt.datetime, first: dt.datetime | None) -> bool:
    """The rule in the module docstring: nothing before the first digest time after the first activity, and
    no quiet week until the install was active before the week began."""
    if first is None or first >= last_digest_time(settings, now):
        return False
    return not digest.empty or first < day_start(digest.since, settings.schedule.timezone)


def queue_digest(session: Session, settings: Settings, digest: Digest, now: dt.datetime, *, week: str | None = None) -> Outbox:
    """Build the multipart mail for one digest and put it in the outbox, in the caller's transaction."""
    rules = settings.rules_path
    msg = build_message(
        sender_name=settings.identity.name,
        sender_address=settings.identity.address,
        to=list(settings.identity.operators),
        subject=subject(digest),
        text=render_text(digest, rules),
        html=render_html(digest, rules),
        date=as_utc(now),
        zone=settings.schedule.timezone,
        # Auto-Submitted keeps vacation responders from answering the digest (RFC 3834).
        extra_headers=[("Auto-Submitted", "auto-generated")] + ([("X-Records-Digest-Week", week)] if week else []),
    )
    return enqueue(session, msg, kind="digest")


def queue_weekly_digest(sessions: sessionmaker[Session], settings: Settings, now: dt.datetime) -> Outbox | None:
    """Queue last week's digest unless this week's was already queued; None when it was, when nobody receives it,
    or when the install has nothing to report yet (see the module docstring).

    The DigestLog row is claimed first, in the same transaction as the outbox row: two daemons racing, or a
    restart after a crash, find the week taken (unique key) and queue nothing.
    """
    if not settings.identity.operators:
        return None
    week, since, until = digest_week(settings, now)
    try:
        with sessions.begin() as session:
            if session.scalar(select(DigestLog.id).where(DigestLog.week == week)) is not None:
                return None
            log = DigestLog(week=week)
            session.add(log)
            session.flush()  # a concurrent claim of the same week fails here, before any work
            digest = build_digest(session, since=since, until=until, settings=settings)
            if not worth_mailing(digest, settings, now, first_activity(session)):
                session.delete(log)  # the week stays unclaimed: a later digest time decides again
                return None
            outbox = queue_digest(session, settings, digest, now, week=week)
            log.outbox_id = outbox.id
            return outbox
    except IntegrityError:
        return None
