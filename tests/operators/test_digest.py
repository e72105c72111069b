"""The weekly digest for a known week, section by section; its HTML is valid and self-contained; once per week."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from agent.cli import app
from agent.config import IdentitySettings, RulesSettings, Settings
from agent.db.models import DigestLog, Outbox
from agent.db.session import make_session_factory
from agent.digest.build import Digest, build_digest
from agent.digest.render import render_html, render_text, subject
from agent.digest.send import digest_week, queue_weekly_digest
from operators.seed import Seeded, seed

REPO = Path(__file__).resolve().parents[2]
MONDAY = dt.date(2025, 3, 10)
SINCE = dt.date(2025, 3, 3)
SETTINGS = Settings(
    rules=RulesSettings(path=REPO / "rules"),
    identity=IdentitySettings(operators=["ops@example.org", "lead@example.org"]),
)


@pytest.fixture
def week(sessions: sessionmaker[Session]) -> Seeded:
    with sessions.begin() as session:
        return seed(session, MONDAY)


@pytest.fixture
def lite_week(lite_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with lite_sessions.begin() as session:
        seed(session, MONDAY)
    return lite_sessions


def _digest(sessions: sessionmaker[Session]) -> Digest:
    with sessions() as session:
        return build_digest(session, since=SINCE, until=MONDAY, settings=SETTINGS)


def test_digest_sections_for_a_known_week(week: Seeded, sessions: sessionmaker[Session]) -> None:
    d = _digest(sessions)
    # New replies by label, in label order; the orphan is there, unmatched.
    assert [(g.label, [r.reference for r in g.replies]) for g in d.replies] == [
        ("acknowledgment", ["RA-2025-0003"]),
        ("extension", ["RA-2025-0001"]),
        ("batch", ["RA-2025-0002"]),
        ("fee", ["RA-2025-0006"]),
        ("bounce", ["RA-2025-0004"]),
        ("other", [None]),
    ]
    assert d.reply_count == 6
    assert d.replies[0].replies[0].received == dt.date(2025, 3, 8)
    # Overdue: RA-0002 passed its promised date (Mar 5) this week; RA-0004 was overdue before; fee-pending is ours.
    assert [(o.reference, o.due, o.days_over) for o in d.became_overdue] == [("RA-2025-0002", dt.date(2025, 3, 5), 5)]
    assert d.still_overdue == 1
    # Due this week (Mar 10 – 16).
    assert [(s.reference, s.due, s.basis) for s in d.due_soon] == [
        ("RA-2025-0003", dt.date(2025, 3, 13), "statutory"),
        ("RA-2025-0001", dt.date(2025, 3, 14), "extended"),
    ]
    # Waiting for a person: most urgent kind first.
    assert [(w.kind, w.reference, w.days_waiting) for w in d.waiting] == [
        ("bounce", "RA-2025-0004", 4), ("fee", "RA-2025-0006", 5), ("orphan", None, 1),
        ("low_confidence", "RA-2025-0003", 2)]
    # Records received: the batch's attachments; its link is not a record (nothing was fetched from it).
    assert [(r.reference, r.files, r.fetched, r.links) for r in d.received] == [
        ("RA-2025-0002", (("incident_reports.pdf", 482_113), ("policy_300.pdf", 90_500)), (), ())]
    # Campaign progress: RA-0001 waiting (extended), RA-0002 overdue, RA-0004 held for a person (bounced).
    [camp] = d.campaigns
    assert (camp.name, camp.done, camp.waiting, camp.overdue, camp.needs_us, camp.total) == (
        "Use of force 2025", 0, 1, 1, 1, 3)
    # Median days to first real answer, for agencies that answered this week (a bounce is not an answer).
    assert [(t.agency, t.median_days, t.answered, t.unanswered) for t in d.response_times] == [
        ("Beverly Hills Police Department", 10.5, 2, 0),
        ("Desert Hot Springs City Clerk", 5.0, 2, 0),
        ("Federal Bureau of Examples", 4.0, 1, 0),
    ]
    assert not d.empty
    assert d.headline() == "6 new replies, 1 newly overdue, 2 due this week, 4 waiting for you"


def test_text_rendering_shows_each_section(lite_week: sessionmaker[Session]) -> None:
    sessions = lite_week
    text = render_text(_digest(sessions), REPO / "rules")
    heads = ["NEW REPLIES (6)", "OVERDUE", "DUE THIS WEEK", "WAITING FOR YOU (4)", "RECORDS RECEIVED",
             "CAMPAIGN PROGRESS", "MEDIAN RESPONSE TIME"]
    positions = [text.index(h) for h in heads]
    assert positions == sorted(positions)
    assert "RA-2025-0002  Desert Hot Springs City Clerk  due 2025-03-05, 5 days over (partial)" in text
    assert "1 more request was already overdue before this week." in text
    assert "Thu 2025-03-13  RA-2025-0003  Federal Bureau of Examples (needs_review)" in text
    assert "Fri 2025-03-14  RA-2025-0001  Beverly Hills Police Department (extended date)" in text
    assert "- incident_reports.pdf (471 KB)" in text
    assert "Use of force 2025: 0/3 done, 1 waiting, 1 overdue, 1 need us" in text
    assert "10.5 days  Beverly Hills Police Department (2 answered)" in text
    assert "(unmatched)" in text


def test_empty_sections_are_left_out(lite_week: sessionmaker[Session]) -> None:
    sessions = lite_week
    # The week before: only the extension's predecessor events... and nothing else matched in it.
    with sessions() as session:
        d = build_digest(session, since=dt.date(2025, 2, 3), until=dt.date(2025, 2, 10), settings=SETTINGS)
    text = render_text(d, REPO / "rules")
    assert "RECORDS RECEIVED" not in text and "CAMPAIGN PROGRESS" not in text and "WAITING FOR YOU" not in text


class _Collector(HTMLParser):
    VOID = {"meta", "br", "img", "hr", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _parse(html: str) -> _Collector:
    p = _Collector()
    p.feed(html)
    p.close()
    return p


def test_html_is_well_formed_and_self_contained(lite_week: sessionmaker[Session]) -> None:
    sessions = lite_week
    html = render_html(_digest(sessions), REPO / "rules")
    p = _parse(html)
    assert p.errors == [] and p.stack == []
    names = [t for t, _ in p.tags]
    assert "script" not in names and "img" not in names and "link" not in names and "iframe" not in names
    external = [
        (t, k, v) for t, attrs in p.tags for k, v in attrs.items()
        if k in ("src", "href", "background", "srcset") and v
    ]
    # No outside reference at all: the agency's links are not records, and the digest lists records.
    assert external == []
    assert "url(" not in html and "@import" not in html
    # The campaign bar: one coloured cell per non-empty bucket, widths that add up to 100%.
    widths = [float(a["width"].rstrip("%")) for t, a in p.tags if t == "td" and (a.get("title") or "").startswith(
        ("done", "waiting", "needs us", "overdue", "not filed"))]
    assert len(widths) == 3 and abs(sum(widths) - 100) < 0.5
    for section in ("New replies (6)", "Overdue", "Due this week", "Waiting for you (4)", "Records received",
                    "Campaign progress", "Median response time"):
        assert section in html


def test_html_escapes_agency_text(lite_sessions: sessionmaker[Session]) -> None:
    sessions = lite_sessions
    with sessions.begin() as session:
        seeded = seed(session, MONDAY)
        from agent.db.models import Agency, Request

        req = session.get(Request, seeded.requests["RA-2025-0002"])
        session.get(Agency, req.agency_id).name = "Clerk <script>alert(1)</script> & Co"
        from agent.db.models import Message

        batch = session.get(Message, seeded.messages["r2-batch"])
        batch.facts = {**batch.facts, "links": ["javascript:alert(1)", "https://dhs.example.gov/r?a=1&b=\"2\""]}
    html = render_html(_digest(sessions), REPO / "rules")
    assert "<script>" not in html and "&lt;script&gt;" in html
    hrefs = [a.get("href") for t, a in _parse(html).tags if t == "a"]
    # The agency's links are not records: none reaches the digest, as a link or as text.
    assert hrefs == []
    assert "javascript:alert(1)" not in html and "dhs.example.gov/r?" not in html


def test_an_empty_week_says_so_in_one_line(lite_sessions: sessionmaker[Session]) -> None:
    sessions = lite_sessions
    d = _digest(sessions)
    assert d.empty
    text = render_text(d, REPO / "rules")
    body = [line for line in text.splitlines() if line.strip()]
    assert body == ["Records digest, 2025-03-03 to 2025-03-09 (days in America/Los_Angeles)",
                    "A quiet week (Mar 03 – Mar 09): no replies, nothing overdue, nothing due, nothing waiting for you."]
    html = render_html(d, REPO / "rules")
    assert "A quiet week" in html and "<h2" not in html
    assert _parse(html).errors == []
    assert subject(d).endswith(": a quiet week")


def test_digest_week_is_the_seven_days_before_the_local_day() -> None:
    # Monday 08:00 in Los Angeles is 16:00 UTC; Sunday 23:30 there is already Monday in UTC.
    assert digest_week(SETTINGS, dt.datetime(2025, 3, 10, 16, tzinfo=dt.timezone.utc)) == (
        "2025-W11", SINCE, MONDAY)
    assert digest_week(SETTINGS, dt.datetime(2025, 3, 10, 6, 30, tzinfo=dt.timezone.utc))[0] == "2025-W10"
    # Sent on a Thursday (schedule.digest_day = "thu"): the seven days before, not last Monday's week.
    assert digest_week(SETTINGS, dt.datetime(2025, 3, 13, 16, tzinfo=dt.timezone.utc)) == (
        "2025-W11", dt.date(2025, 3, 6), dt.date(2025, 3, 13))


def test_weekly_digest_is_queued_once_per_week_across_restarts(
    week: Seeded, sessions: sessionmaker[Session], engine
) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime(2025, 3, 10, 16, 0, tzinfo=dt.timezone.utc)
    first = queue_weekly_digest(sessions, SETTINGS, now)
    assert first is not None and first.kind == "digest"
    assert first.recipients == ["ops@example.org", "lead@example.org"]
    # A "restart": a new session factory, a little later the same week.
    again = queue_weekly_digest(make_session_factory(engine), SETTINGS, now + dt.timedelta(hours=5))
    assert again is None
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == "digest")) == 1
        log = s.scalars(select(DigestLog)).one()
        assert (log.week, log.outbox_id) == ("2025-W11", first.id)
        raw = s.get(Outbox, first.id).raw
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Subject"] == ("Records digest 2025-03-03 to 2025-03-09: "
                              "6 new replies, 1 newly overdue, 2 due this week, 4 waiting for you")
    assert "NEW REPLIES (6)" in msg.get_body(("plain",)).get_content()
    assert "Campaign progress" in msg.get_body(("html",)).get_content()
    # Next week is a new week.
    assert queue_weekly_digest(sessions, SETTINGS, now + dt.timedelta(days=7)) is not None


def test_digest_command(week: Seeded, config_file: Path, tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    runner = CliRunner()
    base = ["--config", str(config_file), "digest"]
    text = runner.invoke(app, [*base, "--since", "2025-03-03"])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("Records digest, 2025-03-03 to 2025-03-09")
    out = tmp_path / "digest.html"
    html = runner.invoke(app, [*base, "--since", "2025-03-03", "--until", "2025-03-10", "--format", "html",
                               "--out", str(out)])
    assert html.exit_code == 0, html.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert runner.invoke(app, [*base, "--format", "pdf"]).exit_code == 2
    assert runner.invoke(app, [*base, "--since", "2025-03-10", "--until", "2025-03-03"]).exit_code == 2
    first = runner.invoke(app, [*base, "--send"])
    assert first.exit_code == 0 and "Queued the" in first.output
    second = runner.invoke(app, [*base, "--send"])
    assert second.exit_code == 0 and "already queued" in second.output
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == "digest")) == 1


def test_arrival_is_the_date_header_unless_it_is_later_than_our_receipt() -> None:
    from agent.db.models import Message
    from agent.digest.build import arrived

    got = dt.datetime(2025, 3, 20, 12, tzinfo=dt.timezone.utc)
    sent = dt.datetime(2025, 3, 7, 9, tzinfo=dt.timezone.utc)
    # Fetched late (a backlog, or the demo's fast clock): the week is the one the agency wrote in.
    assert arrived(Message(sent_date=sent, received_at=got)) == sent
    # A Date header from the future is a wrong clock: our receipt time wins.
    assert arrived(Message(sent_date=got + dt.timedelta(days=30), received_at=got)) == got
    # SQLite hands back naive values; they are UTC.
    assert arrived(Message(sent_date=None, received_at=got.replace(tzinfo=None))) == got


def test_two_daemons_racing_queue_one_digest(week: Seeded, sessions: sessionmaker[Session], engine,
                                             monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import threading
    import time

    import agent.digest.send as send

    real_build = send.build_digest
    started = threading.Event()

    def slow_build(*args, **kwargs):  # type: ignore[no-untyped-def]
        # The first daemon holds its claim on the week while the second one tries for it.
        started.set()
        time.sleep(1.0)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(send, "build_digest", slow_build)
    now = dt.datetime(2025, 3, 10, 16, 0, tzinfo=dt.timezone.utc)
    results: dict[str, object] = {}

    def first() -> None:
        results["first"] = queue_weekly_digest(sessions, SETTINGS, now)

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(10)
    results["second"] = queue_weekly_digest(make_session_factory(engine), SETTINGS, now)
    thread.join(30)
    assert results["second"] is None and results["first"] is not None
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == "digest")) == 1
