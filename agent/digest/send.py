"""Queue the digest mail: text + HTML to the operators, once per ISO week even across restarts (DigestLog)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agent.compose.message import build_message
from agent.config import Settings
from agent.db.models import DigestLog, Outbox
from agent.digest.build import build_digest
from agent.digest.render import render_html, render_text, subject
from agent.digest.sections import Digest
from agent.operators.clock import as_utc
from agent.outbox.queue import enqueue


def digest_week(settings: Settings, now: dt.datetime) -> tuple[str, dt.date, dt.date]:
    """The ISO week `now` falls in where the operators are (the once-a-week key) and the seven whole days
    before today, which the digest covers: Monday to Sunday when it goes out on a Monday (the default), and
    never days-old news when schedule.digest_day is another day."""
    local = (as_utc(now) or now).astimezone(ZoneInfo(settings.schedule.timezone)).date()
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}", local - dt.timedelta(days=7), local


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
    """Queue last week's digest unless this week's was already queued; None when it was (or nobody receives it).

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
            outbox = queue_digest(session, settings, digest, now, week=week)
            log.outbox_id = outbox.id
            return outbox
    except IntegrityError:
        return None
