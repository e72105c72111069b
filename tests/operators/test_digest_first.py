"""The digest names the requests overdue before its week (oldest first, capped, "and N more"), and a new
install does not mail a "quiet week" digest on its first start or for a first week with nothing to say."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import IdentitySettings, RulesSettings, Settings
from agent.db.models import Agency, DigestLog, Outbox, Request
from agent.digest.build import OVERDUE_NAMED, build_digest
from agent.digest.render import render_html, render_text
from agent.digest.send import last_digest_time, queue_weekly_digest
from operators.seed import seed

REPO = Path(__file__).resolve().parents[2]
MONDAY = dt.date(2025, 3, 10)  # the digest day (schedule.digest_day = "mon", 08:00 in Los Angeles)
SINCE = dt.date(2025, 3, 3)
SETTINGS = Settings(
    rules=RulesSettings(path=REPO / "rules"),
    identity=IdentitySettings(operators=["ops@example.org"]),
)
UTC = dt.timezone.utc


def _overdue_requests(session: Session, count: int) -> list[str]:
    """`count` requests the agency owes, each due a day earlier than the last; references in oldest-due order."""
    agency = Agency(name="Slow County Sheriff", jurisdiction="CA", emails=["records@slow.example.gov"])
    session.add(agency)
    session.flush()
    refs = []
    for n in range(count):
        due = SINCE - dt.timedelta(days=3 + n)
        session.add(Request(
            reference=f"RA-2025-{100 + n:04d}", agency_id=agency.id, state="sent", jurisdiction="CA",
            subject="Public records request", body="...", reply_address=f"r+{n}@example.org",
            filed_at=dt.datetime.combine(due - dt.timedelta(days=10), dt.time(17), tzinfo=UTC), due_date=due,
        ))
        refs.append(f"RA-2025-{100 + n:04d}")
    session.flush()
    return refs[::-1]  # the last one made is due first


def test_digest_names_the_oldest_overdue_with_a_cap(lite_sessions: sessionmaker[Session]) -> None:
    total = OVERDUE_NAMED + 4
    with lite_sessions.begin() as session:
        oldest_first = _overdue_requests(session, total)
    with lite_sessions() as session:
        d = build_digest(session, since=SINCE, until=MONDAY, settings=SETTINGS)
    assert d.still_overdue == total
    assert [o.reference for o in d.long_overdue] == oldest_first[:OVERDUE_NAMED]
    assert [o.due for o in d.long_overdue] == sorted(o.due for o in d.long_overdue)
    first = d.long_overdue[0]
    assert first.days_over == (MONDAY - first.due).days and first.agency == "Slow County Sheriff"
    assert d.overdue_unnamed == 4
    text = render_text(d, REPO / "rules")
    positions = [text.index(ref) for ref in oldest_first[:OVERDUE_NAMED]]
    assert positions == sorted(positions)
    assert all(ref not in text for ref in oldest_first[OVERDUE_NAMED:])
    assert "and 4 more." in text
    assert f"{first.reference}  Slow County Sheriff  due {first.due.isoformat()}, {first.days_over} days over (sent)" in text
    html = render_html(d, REPO / "rules")
    assert oldest_first[0] in html and "and 4 more." in html


def test_a_few_overdue_are_all_named_without_and_more(lite_sessions: sessionmaker[Session]) -> None:
    with lite_sessions.begin() as session:
        refs = _overdue_requests(session, 2)
    with lite_sessions() as session:
        d = build_digest(session, since=SINCE, until=MONDAY, settings=SETTINGS)
    text = render_text(d, REPO / "rules")
    assert [o.reference for o in d.long_overdue] == refs and d.overdue_unnamed == 0
    assert all(ref in text for ref in refs) and " more.\n" not in text


def _digests(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as s:
        return (int(s.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == "digest")) or 0),
                int(s.scalar(select(func.count()).select_from(DigestLog)) or 0))


def _file_one(sessions: sessionmaker[Session], filed: dt.datetime) -> None:
    with sessions.begin() as session:
        agency = Agency(name="Town of Newville", jurisdiction="CA", emails=["clerk@newville.example.gov"])
        session.add(agency)
        session.flush()
        session.add(Request(reference="RA-2025-0900", agency_id=agency.id, state="sent", jurisdiction="CA",
                            subject="Public records request", body="...", reply_address="r+900@example.org",
                            filed_at=filed, due_date=(filed + dt.timedelta(days=40)).date()))


def test_first_start_mid_week_mails_no_quiet_digest(lite_sessions: sessionmaker[Session]) -> None:
    # A fresh install started on a Wednesday: Monday's digest time has passed, so the daemon catches it up.
    wednesday = dt.datetime(2025, 3, 12, 19, 0, tzinfo=UTC)
    assert last_digest_time(SETTINGS, wednesday) == dt.datetime(2025, 3, 10, 15, 0, tzinfo=UTC)  # 08:00 PDT
    assert queue_weekly_digest(lite_sessions, SETTINGS, wednesday) is None
    assert _digests(lite_sessions) == (0, 0)  # nothing queued, the week not claimed
    # Its first request goes out that day. The next Monday's week holds nothing to say: still no quiet digest.
    _file_one(lite_sessions, wednesday + dt.timedelta(hours=1))
    monday = dt.datetime(2025, 3, 17, 16, 0, tzinfo=UTC)
    assert queue_weekly_digest(lite_sessions, SETTINGS, monday) is None
    assert _digests(lite_sessions) == (0, 0)
    # A week later the install was active before the week began: a quiet week is now worth saying.
    later = queue_weekly_digest(lite_sessions, SETTINGS, monday + dt.timedelta(days=7))
    assert later is not None and "a quiet week" in later.subject
    assert _digests(lite_sessions) == (1, 1)


def test_first_digest_after_activity_before_the_digest_time_is_mailed(lite_sessions: sessionmaker[Session]) -> None:
    # An install with mail from the week before: its first start on Wednesday catches up Monday's digest.
    with lite_sessions.begin() as session:
        seed(session, MONDAY)
    wednesday = dt.datetime(2025, 3, 12, 19, 0, tzinfo=UTC)
    row = queue_weekly_digest(lite_sessions, SETTINGS, wednesday)
    assert row is not None and "quiet" not in row.subject
    assert _digests(lite_sessions) == (1, 1)


def test_activity_only_after_this_weeks_digest_time_waits_for_the_next(lite_sessions: sessionmaker[Session]) -> None:
    # First request filed Tuesday, after Monday's 08:00 digest time; a restart on Wednesday sends nothing yet.
    _file_one(lite_sessions, dt.datetime(2025, 3, 11, 18, 0, tzinfo=UTC))
    assert queue_weekly_digest(lite_sessions, SETTINGS, dt.datetime(2025, 3, 12, 19, 0, tzinfo=UTC)) is None
    assert _digests(lite_sessions) == (0, 0)
