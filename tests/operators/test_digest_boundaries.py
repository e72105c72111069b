"""The digest at the edges of its week: requests due on each side of every boundary, states that never count,
campaigns active by a reply, by an event or not at all, and the SQL form of the effective due date.

The digest filters requests in SQL (it never reads them all); these pin the exact sections it must still produce.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import IdentitySettings, RulesSettings, Settings
from agent.db.models import Agency, Attachment, Campaign, Event, Message, Request, ReviewItem
from agent.digest.build import build_digest
from agent.operators.clock import day_start
from agent.operators.queries import effective_due, effective_due_sql
from operators.seed import at, facts

REPO = Path(__file__).resolve().parents[2]
SINCE, UNTIL = dt.date(2025, 3, 3), dt.date(2025, 3, 10)  # Mon Mar 3 .. Sun Mar 9; DST starts Mar 9 in LA
SETTINGS = Settings(rules=RulesSettings(path=REPO / "rules"), identity=IdentitySettings(operators=["ops@example.org"]))
ZONE = SETTINGS.schedule.timezone
START, END = day_start(SINCE, ZONE), day_start(UNTIL, ZONE)
FILED = dt.datetime(2025, 2, 1, 16, tzinfo=dt.timezone.utc)
SECOND = dt.timedelta(seconds=1)


def d(n: int) -> dt.date:
    """A day relative to the digest day (`until`): d(-7) is `since`, d(-1) the week's last day."""
    return UNTIL + dt.timedelta(days=n)


def _seed(session: Session) -> None:
    alpha, beta, gamma = (Agency(name=f"Agency {n}", jurisdiction="CA") for n in ("Alpha", "Beta", "Gamma"))
    session.add_all([alpha, beta, gamma])
    k1, k2, k3 = (Campaign(name=n, template="cpra_basic.txt.j2") for n in ("Boundary", "Idle", "Event only"))
    session.add_all([k1, k2, k3])
    session.flush()
    reqs: dict[str, Request] = {}

    def req(ref: str, state: str, due: dt.date | None = None, *, agency: Agency = gamma, camp: Campaign | None = None,
            filed: dt.datetime | None = FILED, **kw: Any) -> None:
        reqs[ref] = Request(reference=ref, agency_id=agency.id, campaign_id=camp.id if camp else None, state=state,
                            jurisdiction="CA", body="a letter " * 50, filed_at=filed, due_date=due, **kw)
        session.add(reqs[ref])

    req("STILL-1", "sent", d(-9), camp=k3)  # first overdue day since - 1: before the week
    req("STILL-2", "acknowledged", dt.date(2025, 2, 1), agency=beta, extended_due=d(-10))
    req("BECAME-SINCE-1", "sent", d(-8), agency=alpha, camp=k1)  # first overdue day == since: last digest's news
    req("BECAME-SINCE", "extended", dt.date(2025, 2, 10), agency=alpha, extended_due=d(-7))
    req("BECAME-PROMISED", "partial", None, promised_date=d(-4))
    req("BECAME-LAST", "needs_review", d(-2), camp=k1)  # first overdue day == until - 1
    req("EDGE-UNTIL-1", "sent", d(-1), camp=k1)  # due on the week's last day: overdue on the digest day itself
    req("SOON-UNTIL", "sent", d(0), agency=alpha, camp=k1)
    req("SOON-PROMISED", "acknowledged", d(-20), promised_date=d(2))
    req("SOON-EXTENDED", "extended", d(-3), extended_due=d(3), promised_date=d(1))
    req("SOON-LAST", "sent", d(6))
    req("LATER", "sent", d(7), agency=alpha, camp=k2)
    req("NO-DATES", "sent", camp=k1)
    req("CLOSED", "completed", d(-4), camp=k1)
    req("FEE", "fee_required", d(-4), camp=k1)
    req("CLARIFY", "clarification_needed", d(2), camp=k2)
    req("DRAFT", "draft", d(-4), agency=alpha, camp=k1, filed=None)
    session.flush()

    def msg(name: str, ref: str | None, sent: dt.datetime, received: dt.datetime | None = None, *,
            direction: str = "in", kind: str | None = "reply", label: str | None = None, **kw: Any) -> Message:
        m = Message(direction=direction, dedupe_key=name, message_id=name, sha256=name.ljust(64, "0"),
                    archive_key=name, request_id=reqs[ref].id if ref else None, subject=f"About {ref}",
                    from_addr=kw.pop("from_addr", "clerk@agency.example"), sent_date=sent,
                    received_at=received or sent, kind=kind, label=label, cleaned_text="text " * 100, **kw)
        session.add(m)
        return m

    m1 = msg("m1", "SOON-UNTIL", at(d(-5), 16), label="acknowledgment", confidence=0.9,
             facts=facts(links=["https://alpha.example/r/1"]))
    msg("m2", "STILL-2", at(d(-4)), kind="auto_reply")  # in the week, but not an answer
    msg("m3", None, at(d(-1)), from_addr="someone@else.example", facts=facts(links=["https://else.example/x"]))
    # Written an hour before the week, fetched an hour into it: the Date header decides, so last week's.
    msg("m4", "BECAME-SINCE", START - 3600 * SECOND, START + 3600 * SECOND, label="acknowledgment")
    msg("m5", "BECAME-SINCE-1", at(dt.date(2025, 2, 11), 16), label="acknowledgment")
    msg("m6", "SOON-UNTIL", at(dt.date(2025, 2, 2), 16), kind="auto_reply")  # not its first answer
    msg("m7", "LATER", END + 3600 * SECOND, label="acknowledgment")  # after the week: LATER is unanswered
    msg("m8", "LATER", at(d(-3)), direction="out", kind="ours")
    session.flush()
    session.add(Attachment(message_row_id=m1.id, filename="letter.pdf", size=1234))
    for ref, when in (("STILL-1", START), ("LATER", END), ("CLARIFY", START - SECOND)):
        session.add(Event(request_id=reqs[ref].id, kind="note", cause="operator", created_at=when))
    for kind, ref, state, when in (("fee", "STILL-1", "open", at(d(-6), 18)),
                                   ("orphan", None, "skipped", at(d(-1), 18)),
                                   ("bounce", "LATER", "open", at(dt.date(2025, 2, 20), 18)),
                                   ("fee", "FEE", "done", at(d(-4), 18)),
                                   ("low_confidence", "SOON-LAST", "open", END)):
        session.add(ReviewItem(kind=kind, state=state, request_id=reqs[ref].id if ref else None, reason=kind,
                               created_at=when))


def test_every_section_at_the_week_boundaries(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _seed(session)
    with sessions() as session:
        dg = build_digest(session, since=SINCE, until=UNTIL, settings=SETTINGS)
    assert [(g.label, [(r.reference, r.agency, r.received) for r in g.replies]) for g in dg.replies] == [
        ("acknowledgment", [("SOON-UNTIL", "Agency Alpha", d(-5))]),
        ("unlabelled", [("STILL-2", "Agency Beta", d(-4))]),
        ("unmatched", [(None, "someone@else.example", d(-1))]),
    ]
    assert [(o.reference, o.agency, o.due, o.days_over, o.state) for o in dg.became_overdue] == [
        ("BECAME-SINCE", "Agency Alpha", d(-7), 7, "extended"),
        ("BECAME-PROMISED", "Agency Gamma", d(-4), 4, "partial"),
        ("BECAME-LAST", "Agency Gamma", d(-2), 2, "needs_review"),
        ("EDGE-UNTIL-1", "Agency Gamma", d(-1), 1, "sent"),
    ]
    assert dg.still_overdue == 3  # STILL-1, STILL-2, and BECAME-SINCE-1 (newly overdue in last week's digest)
    assert [(s.reference, s.due, s.basis, s.state) for s in dg.due_soon] == [
        ("SOON-UNTIL", d(0), "statutory", "sent"),
        ("SOON-PROMISED", d(2), "promised", "acknowledged"),
        ("SOON-EXTENDED", d(3), "extended", "extended"),
        ("SOON-LAST", d(6), "statutory", "sent"),
    ]
    assert [(w.kind, w.reference, w.reason, w.days_waiting) for w in dg.waiting] == [
        ("bounce", "LATER", "bounce", 18), ("fee", "STILL-1", "fee", 6), ("orphan", None, "orphan", 1)]
    # Records, not links: m1's file (not read yet, so not known to be a letter) is; m3's bare link is not.
    assert [(r.reference, r.agency, r.received, r.files, r.fetched) for r in dg.received] == [
        ("SOON-UNTIL", "Agency Alpha", d(-5), (("letter.pdf", 1234),), ()),
    ]
    # Boundary: active by a reply; Event only: by an event at the week's first instant; Idle: events just outside.
    assert [(c.name, c.done, c.waiting, c.overdue, c.needs_us, c.not_filed) for c in dg.campaigns] == [
        ("Boundary", 1, 2, 2, 2, 1),
        ("Event only", 0, 0, 1, 0, 0),
    ]
    # Alpha answered this week (Beta only auto-replied): 10 days, 29.6 days (m4, last week), 32 days; LATER's
    # answer came after the week and DRAFT was never filed.
    assert [(t.agency, t.median_days, t.answered, t.unanswered) for t in dg.response_times] == [
        ("Agency Alpha", 29.6, 3, 1)]


def test_effective_due_in_sql_agrees_with_python(sessions: sessionmaker[Session]) -> None:
    days = (None, dt.date(2025, 3, 1), dt.date(2025, 3, 5), dt.date(2025, 3, 9))
    with sessions.begin() as session:
        agency = Agency(name="Any", jurisdiction="CA")
        session.add(agency)
        session.flush()
        for i, (due, ext, prom) in enumerate(itertools.product(days, repeat=3)):
            session.add(Request(reference=f"E-{i}", agency_id=agency.id, jurisdiction="CA", due_date=due,
                                extended_due=ext, promised_date=prom))
    with sessions() as session:
        rows = session.execute(select(Request, effective_due_sql()).order_by(Request.id)).all()
        assert len(rows) == 64
        assert [(r.reference, got) for r, got in rows] == [(r.reference, effective_due(r)) for r, _ in rows]
        # Compared with a date parameter, as the digest filters: the same rows as Python picks.
        cut = dt.date(2025, 3, 5)
        picked = session.scalars(select(Request.reference).where(effective_due_sql() >= cut)).all()
        assert sorted(picked) == sorted(r.reference for r, _ in rows if (effective_due(r) or dt.date.min) >= cut)


def test_each_overdue_request_is_news_in_exactly_one_weekly_digest(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _seed(session)
    seen: list[str] = []
    with sessions() as session:
        for weeks in (-2, -1, 0, 1):
            since = SINCE + dt.timedelta(days=7 * weeks)
            dg = build_digest(session, since=since, until=since + dt.timedelta(days=7), settings=SETTINGS)
            seen += [o.reference for o in dg.became_overdue]
    assert sorted(seen) == sorted(set(seen))  # never twice
    # Every request owed and due in the four weeks before the last digest day was news once.
    assert {"BECAME-SINCE-1", "BECAME-SINCE", "BECAME-PROMISED", "BECAME-LAST", "EDGE-UNTIL-1", "SOON-UNTIL"} <= set(seen)
