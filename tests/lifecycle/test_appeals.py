"""Appeals end to end: offered on a denial, drafted citing the law, sent once through aiosmtpd, reminded, chased, answered."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli import app
from agent.db.models import Appeal, Event, Message, Outbox, Request, ReviewItem
from agent.filing.appeals import AppealError, draft_appeal, send_appeal
from agent.followups.scan import scan_once
from agent.inbound.match_index import build_match_index
from agent.mail.parse import parse
from agent.outbox.send import drain_once
from agent.pipeline.match import match

UTC = dt.timezone.utc
RULES = Path(__file__).resolve().parents[2] / "rules"


def at(day: str, hour: int = 17) -> dt.datetime:
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


async def _drain(settings, sessions, day: str):  # type: ignore[no-untyped-def]
    with time_machine.travel(at(day, 18), tick=True):
        return await drain_once(settings, sessions, worker_id="w1")


async def _file(settings, sessions, new_request, day: str, **kw) -> int:  # type: ignore[no-untyped-def]
    rid = new_request(now=at(day), **kw)
    assert (await _drain(settings, sessions, day)).sent == 1
    return rid


def _scan(sessions, settings, day: str):  # type: ignore[no-untyped-def]
    with time_machine.travel(at(day), tick=True):
        return scan_once(sessions, settings, today=dt.date.fromisoformat(day))


def _appeal(sessions, rid: int) -> Appeal:  # type: ignore[no-untyped-def]
    with sessions() as s:
        row = s.scalars(select(Appeal).where(Appeal.request_id == rid).order_by(Appeal.id.desc())).first()
        assert row is not None
        s.expunge(row)
        return row


def _items(sessions, rid: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return [(i.kind, i.state) for i in s.scalars(select(ReviewItem).where(ReviewItem.request_id == rid).order_by(ReviewItem.id))]


def _outbox(sessions, rid: int, kind: str) -> list[Outbox]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        rows = list(s.scalars(select(Outbox).where(Outbox.request_id == rid, Outbox.kind == kind).order_by(Outbox.id)))
        for r in rows:
            s.expunge(r)
        return rows


def _send(sessions, settings, rid: int, day: str, **kw) -> Appeal:  # type: ignore[no-untyped-def]
    # The outbox stamps "send now" from the clock, so the clock is on the day of sending.
    with time_machine.travel(at(day), tick=True), sessions.begin() as s:
        req = s.get(Request, rid)
        appeal = send_appeal(s, req, settings=settings, now=at(day), operator="tester", **kw)
        s.flush()
        s.expunge(appeal)
        return appeal


FOIA = dict(agency="Federal Records Office", jurisdiction="US", email="foia@records.example")


async def test_federal_appeal_sent_once_and_answered(sessions, settings, smtp_server, new_request, reply, load) -> None:
    rid = await _file(settings, sessions, new_request, "2025-05-12", **FOIA)
    events = reply(rid, now=at("2025-06-02"), label="denial")
    assert ("state_change", "sent", "rejected") in events
    assert ("appeal_offer", "open") in _items(sessions, rid)
    offered = _appeal(sessions, rid)
    # Decision of Monday 2 June 2025 + 90 days = Sunday 31 August; Labor Day; so Tuesday 2 September.
    assert (offered.state, offered.decision_kind, offered.window_closes) == ("offered", "denial", dt.date(2025, 9, 2))

    with sessions() as s:
        draft = draft_appeal(s, s.get(Request, rid), settings=settings, now=at("2025-06-10"), grounds="The records are public.")
    ref = load(rid).reference
    for words in ("5 U.S.C. § 552(a)(6)(A)", "June 2, 2025", "May 12, 2025", ref, "The records are public.",
                  # 20 business days from Tuesday 10 June: Juneteenth and 4 July are not counted.
                  "July 10, 2025", "Federal Records Office"):
        assert words in draft.text, words
    assert draft.decision_kind == "denial" and draft.verified

    appeal = _send(sessions, settings, rid, "2025-06-10")
    assert appeal.state == "filed" and appeal.body_due == dt.date(2025, 7, 10)
    assert load(rid).state == "appealed"
    assert ("appeal_offer", "done") in _items(sessions, rid)
    with pytest.raises(AppealError, match="already appealed"):
        _send(sessions, settings, rid, "2025-06-11")

    assert (await _drain(settings, sessions, "2025-06-10")).sent == 1
    assert (await _drain(settings, sessions, "2025-06-11")).sent == 0
    sent = [m for m in smtp_server.messages if m.message_id == appeal.message_id]
    assert len(sent) == 1 and len(_outbox(sessions, rid, "appeal")) == 1
    letter = sent[0].message
    with sessions() as s:
        denial_id = s.scalars(select(Message.message_id).where(Message.request_id == rid, Message.direction == "in")).one()
    assert letter["In-Reply-To"] == denial_id and ref in letter["Subject"] and letter["Subject"].startswith("Re:")
    assert "552(a)(6)(A)" in letter.get_payload(decode=True).decode()

    # The body answers in the same thread: matched by In-Reply-To alone (no reference, no reply address).
    answer = EmailMessage()
    answer["From"] = "FOIA Appeals <foia@records.example>"
    answer["To"] = "records@example.org"
    answer["Subject"] = "Your appeal"
    answer["Date"] = format_datetime(at("2025-07-01"))
    answer["Message-ID"] = make_msgid(domain="records.example")
    answer["In-Reply-To"] = appeal.message_id
    answer.set_content("On appeal the denial is reversed; the records are attached.")
    parsed = parse(answer.as_bytes())
    with sessions() as s:
        found = match(parsed, build_match_index(s, parsed, tracking_rules=None, reference_prefix="RA"))
    assert found.request_id == rid, found.reason
    events = reply(rid, now=at("2025-07-01"), label="final_records")
    assert ("state_change", "appealed", "completed") in events
    answered = _appeal(sessions, rid)
    assert (answered.state, answered.outcome) == ("answered", "final_records")
    # Answered: the timer sends nothing more, even long after the body's due date.
    report = _scan(sessions, settings, "2025-08-01")
    assert report.appeal_followups == 0 and _outbox(sessions, rid, "appeal_followup") == []


async def test_window_reminder_then_expiry(sessions, settings, new_request, reply) -> None:
    rid = await _file(settings, sessions, new_request, "2025-05-12", **FOIA)
    reply(rid, now=at("2025-06-02"), label="denial")  # window closes 2025-09-02; reminder 7 days before
    assert _scan(sessions, settings, "2025-08-25").appeal_reminders == 0
    assert _scan(sessions, settings, "2025-08-26").appeal_reminders == 1
    assert _scan(sessions, settings, "2025-08-27").appeal_reminders == 0  # once, not daily
    assert [k for k, _ in _items(sessions, rid)].count("appeal_deadline") == 1
    assert _appeal(sessions, rid).reminded_on == dt.date(2025, 8, 26)
    _scan(sessions, settings, "2025-09-02")
    assert _appeal(sessions, rid).state == "offered"  # the last day is still open
    _scan(sessions, settings, "2025-09-03")
    assert _appeal(sessions, rid).state == "expired"
    with pytest.raises(AppealError, match="closed on 2025-09-02"):
        _send(sessions, settings, rid, "2025-09-03")


async def test_late_body_gets_followups_then_review(sessions, settings, smtp_server, new_request, reply, load) -> None:
    rid = await _file(settings, sessions, new_request, "2025-10-01", agency="NYPD Records", jurisdiction="NY",
                      email="foil@nypd.example")
    reply(rid, now=at("2025-10-20"), label="denial")
    assert _appeal(sessions, rid).window_closes == dt.date(2025, 11, 19)  # 30 days, a Wednesday
    appeal = _send(sessions, settings, rid, "2025-11-06")
    # 10 business days from Thursday 6 November, Veterans Day not counted.
    assert appeal.body_due == dt.date(2025, 11, 21)
    await _drain(settings, sessions, "2025-11-06")
    assert _scan(sessions, settings, "2025-11-21").appeal_followups == 0  # the due date itself is still the body's
    assert _scan(sessions, settings, "2025-11-24").appeal_followups == 1
    assert _scan(sessions, settings, "2025-11-25").appeal_followups == 0
    chased = _outbox(sessions, rid, "appeal_followup")
    assert len(chased) == 1
    text = chased[0].raw.decode()
    assert "November 21, 2025" in text and "89(4)(a)" in text
    assert (await _drain(settings, sessions, "2025-11-24")).sent == 1
    assert _scan(sessions, settings, "2025-12-15").appeal_followups == 1
    _scan(sessions, settings, "2026-01-15")
    assert _appeal(sessions, rid).state == "overdue" and ("appeal_overdue", "open") in _items(sessions, rid)
    # The request's own follow-up timer never mailed the agency about the appealed request.
    assert _outbox(sessions, rid, "followup") == []
    # A late answer still closes the appeal.
    reply(rid, now=at("2026-01-20"), label="denial")
    assert (_appeal(sessions, rid).state, load(rid).state) == ("answered", "rejected")
    assert [k for k, _ in _items(sessions, rid)].count("appeal_offer") == 1  # no second appeal offered


async def test_no_appeal_in_california_says_why(tmp_path, sessions, settings, new_request, reply) -> None:
    rid = await _file(settings, sessions, new_request, "2025-05-12")  # CA by default
    reply(rid, now=at("2025-05-20"), label="denial")
    assert "appeal_offer" not in [k for k, _ in _items(sessions, rid)]
    with sessions() as s:
        why = s.scalars(select(Event.detail).where(Event.request_id == rid, Event.kind == "appeal_unavailable")).one()
        assert "no administrative appeal" in why["reason"] and "court" in why["reason"]
        with pytest.raises(AppealError, match="California Public Records Act: no administrative appeal"):
            draft_appeal(s, s.get(Request, rid), settings=settings, now=at("2025-05-21"))


async def test_dismissing_the_offer_declines_it(sessions, settings, new_request, reply) -> None:
    from agent.operators.review import ReviewError, confirm, dismiss

    rid = await _file(settings, sessions, new_request, "2025-05-12", **FOIA)
    reply(rid, now=at("2025-06-02"), label="no_records")
    with sessions.begin() as s:
        item = s.scalars(select(ReviewItem).where(ReviewItem.request_id == rid, ReviewItem.kind == "appeal_offer")).one()
        with pytest.raises(ReviewError, match="agent appeal send"):
            confirm(s, item.id, operator="tester", now=at("2025-06-03"), rules_dir=RULES)
        dismiss(s, item.id, operator="tester", now=at("2025-06-03"), rules_dir=RULES)
    assert _appeal(sessions, rid).state == "declined"
    assert _scan(sessions, settings, "2025-08-26").appeal_reminders == 0


async def test_cli_draft_and_send(tmp_path, sessions, settings, smtp_server, new_request, reply, db_url) -> None:
    rid = await _file(settings, sessions, new_request, "2025-05-12", **FOIA)
    reply(rid, now=at("2025-06-02"), label="denial")
    with sessions() as s:
        ref = s.get(Request, rid).reference
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[archive]\npath = "{tmp_path / "mailbox"}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "plain"\ntimeout_seconds = 5\n'
        f'[identity]\nname = "Records Desk"\naddress = "records@example.org"\n[rules]\npath = "{RULES}"\n'
    )
    runner = CliRunner()
    late = runner.invoke(app, ["--config", str(config), "appeal", "send", ref, "--yes"])  # today: long after the window
    assert late.exit_code == 1 and "window to appeal closed on 2025-09-02" in late.output
    traveller = time_machine.travel(at("2025-06-10"), tick=True)
    traveller.start()
    draft = runner.invoke(app, ["--config", str(config), "appeal", "draft", ref])
    assert draft.exit_code == 0, draft.output
    assert "552(a)(6)(A)" in draft.output and "June 2, 2025" in draft.output
    sent = runner.invoke(app, ["--config", str(config), "appeal", "send", ref, "--yes"])
    assert sent.exit_code == 0 and "queued" in sent.output, sent.output
    again = runner.invoke(app, ["--config", str(config), "appeal", "send", ref, "--yes"])
    assert again.exit_code == 1 and "already appealed" in again.output
    assert len(_outbox(sessions, rid, "appeal")) == 1
    missing = runner.invoke(app, ["--config", str(config), "appeal", "draft", "RA-1999-9999"])
    assert missing.exit_code == 1 and "no request" in missing.output
    traveller.stop()


async def test_connecticut_appeal_goes_to_the_commission_not_the_thread(sessions, settings, new_request, reply) -> None:
    rid = await _file(settings, sessions, new_request, "2025-05-12", agency="Hartford Police", jurisdiction="CT",
                      email="foi@hartford.example")
    reply(rid, now=at("2025-06-04"), label="denial")
    assert _appeal(sessions, rid).window_closes == dt.date(2025, 7, 7)  # 4 July is a Friday holiday
    with sessions() as s:
        draft = draft_appeal(s, s.get(Request, rid), settings=settings, now=at("2025-06-05"))
    assert not draft.in_thread and "Freedom of Information Commission" in draft.text and "1-206(b)(1)" in draft.text
    with pytest.raises(AppealError, match="not to the agency's thread"):
        _send(sessions, settings, rid, "2025-06-05")
    assert _outbox(sessions, rid, "appeal") == [] and _appeal(sessions, rid).state == "offered"
