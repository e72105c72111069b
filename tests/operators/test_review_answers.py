"""Answering an agency from review, end to end: CLI → outbox → a real SMTP server (aiosmtpd), exactly once.

Each path checks the letter that arrives (Re: subject, In-Reply-To the agency's message, References, the
agency's number), the request's new state, the item closed, and that running the answer again sends nothing."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import stat
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli import app
from agent.db.models import Event, Message, Outbox, Request, ReviewItem, TrackingNumber
from agent.db.session import make_engine, make_session_factory
from agent.pipeline.apply import apply_message
from agent.pipeline.stage_data import Fee, Understanding

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
runner = CliRunner()
SD = "San Diego County Sheriff's Department"
CBP = "U.S. Customs and Border Protection"
_serial = itertools.count(1)


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str, smtp_server: Any, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A configured agent on SQLite; the paths whose guarantees rest on the database run on both (desk_any)."""
    yield from _desk(tmp_path, sqlite_url, smtp_server, monkeypatch)


@pytest.fixture
def desk_any(tmp_path: Path, db_url: str, smtp_server: Any, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The same on SQLite and on PostgreSQL."""
    yield from _desk(tmp_path, db_url, smtp_server, monkeypatch)


def _desk(tmp_path: Path, db_url: str, smtp_server: Any, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A configured agent with the CA and federal agencies, a sessionmaker on its database, and a CLI runner."""
    monkeypatch.setenv("USER", "dana")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n'
        '[archive]\npath = "mailbox"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "plain"\ntimeout_seconds = 5\n'
        f'[rules]\npath = "{RULES}"\n'
    )

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--config", str(config), *args], input=input)

    assert run("db", "upgrade").exit_code == 0
    for name in ("agencies-ca-alpr.csv", "agencies-federal.csv"):
        assert run("agency", "import", str(ROOT / "examples" / name)).exit_code == 0
    engine = make_engine(db_url)
    run.sessions = make_session_factory(engine)  # type: ignore[attr-defined]
    yield run
    engine.dispose()


def _filed(desk, agency: str = SD) -> int:  # type: ignore[no-untyped-def]
    """A request whose letter the real outbox delivered to the SMTP server."""
    made = desk("request", "new", "--agency", agency, "--template", "alpr", "--var", "years=2020-2024", "--json")
    assert made.exit_code == 0, made.output
    request_id = int(json.loads(made.stdout)["id"])
    assert desk("request", "send", str(request_id)).exit_code == 0
    assert "sent 1" in desk("outbox", "send", "--once").output
    return request_id


def _agency_writes(desk, request_id: int, label: str, *, when: dt.datetime, tracking: str | None = None,  # type: ignore[no-untyped-def]
                   fees: tuple[Fee, ...] = ()) -> tuple[int, str]:
    """The agency's message arrives and the pipeline applies it (what inbound processing does); the review item's id."""
    n = next(_serial)
    mid = f"<agency-{n}@agency.example.gov>"
    with desk.sessions.begin() as session:
        request = session.get(Request, request_id)
        message = Message(direction="in", dedupe_key=mid, message_id=mid, sha256=f"{n:064x}", archive_key=f"in-{n}",
                          request_id=request_id, status="processed", subject=f"Re: {request.subject}",
                          from_addr=request.agency.emails[0], kind="reply", received_at=when, sent_date=when)
        session.add(message)
        if tracking:
            session.add(TrackingNumber(request_id=request_id, agency_id=request.agency_id, value=tracking))
        session.flush()
        apply_message(
            session, request=request, message=message, kind="reply", now=when, rules_dir=RULES,
            understanding=Understanding(label=label, confidence=0.97, rules=("test",), cleaned_text="...", fees=fees),
        )
        session.flush()
        item = session.scalars(select(ReviewItem).where(ReviewItem.message_row_id == message.id)).one()
        return item.id, mid


def _letters(smtp_server: Any, kind_subject: str = "Re: ") -> list[Any]:
    return [m for m in smtp_server.messages if str(m.message["Subject"]).startswith(kind_subject)]


def _state(desk, request_id: int) -> Request:  # type: ignore[no-untyped-def]
    with desk.sessions() as session:
        request = session.get(Request, request_id)
        session.expunge(request)
        return request


def _item(desk, item_id: int) -> ReviewItem:  # type: ignore[no-untyped-def]
    with desk.sessions() as session:
        item = session.get(ReviewItem, item_id)
        session.expunge(item)
        return item


def _one_reply(desk, smtp_server, request_id: int, in_reply_to: str):  # type: ignore[no-untyped-def]
    """Send what the outbox holds (twice: the second pass must find nothing) and return the one reply letter."""
    assert "sent 1" in desk("outbox", "send", "--once").output
    desk("outbox", "send", "--once")
    replies = _letters(smtp_server)
    assert len(replies) == 1, [str(m.message["Subject"]) for m in replies]
    msg = message_from_bytes(replies[0].data, policy=default_policy)
    request = _state(desk, request_id)
    assert msg["Subject"] == f"Re: {request.subject}"
    assert msg["In-Reply-To"] == in_reply_to
    assert msg["References"].split() == [request.message_id, in_reply_to]
    with desk.sessions() as session:
        row = session.scalars(select(Outbox).where(Outbox.request_id == request_id, Outbox.kind == "reply")).one()
        assert row.state == "sent" and row.message_id == msg["Message-ID"]
    return msg


WHEN = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)


def test_approve_fee_up_to_an_amount_sends_one_letter_and_waits_for_records(desk_any, smtp_server) -> None:
    request_id = _filed(desk_any)
    item_id, asked = _agency_writes(desk_any, request_id, "fee", when=WHEN, tracking="PRR-25-0042",
                                    fees=(Fee(amount=37.5, kind="estimate"),))
    assert _state(desk_any, request_id).state == "fee_required"

    done = desk_any("review", "approve-fee", str(item_id), "--up-to", "50", "--yes")
    assert done.exit_code == 0, done.output
    assert f"item {item_id}: approve-fee → done" in done.output and "is now acknowledged" in done.output

    msg = _one_reply(desk_any, smtp_server, request_id, asked)
    body = msg.get_content()
    assert "$50.00" in body and "$37.50" in body and "PRR-25-0042" in body and _state(desk_any, request_id).reference in body
    item = _item(desk_any, item_id)
    assert item.state == "done" and item.resolved_by == "dana"
    assert _state(desk_any, request_id).state == "acknowledged"
    with desk_any.sessions() as session:
        answered = session.scalars(select(Event).where(Event.kind == "review_answered")).one()
        assert answered.actor == "dana" and answered.detail["up_to"] == "50" and answered.detail["outbox_id"]
        moved = session.scalars(select(Event).where(Event.to_state == "acknowledged")).one()
        assert moved.detail["trigger"] == "fee_approved" and moved.cause == "operator"

    again = desk_any("review", "approve-fee", str(item_id), "--up-to", "50", "--yes")
    assert again.exit_code == 1 and "already decided by dana" in again.output
    desk_any("outbox", "send", "--once")
    assert len(_letters(smtp_server)) == 1


def test_approve_fee_without_amount_asks_for_the_invoice_after_showing_the_letter(desk, smtp_server) -> None:
    request_id = _filed(desk)
    item_id, asked = _agency_writes(desk, request_id, "fee", when=WHEN, fees=(Fee(amount=12.0),))
    declined = desk("review", "approve-fee", str(item_id), input="n\n")
    assert declined.exit_code == 1 and "send me the invoice" in declined.output and "nothing sent" in declined.output
    assert _item(desk, item_id).state == "open"
    shown = desk("review", "approve-fee", str(item_id), input="y\n")
    assert shown.exit_code == 0, shown.output
    body = _one_reply(desk, smtp_server, request_id, asked).get_content()
    assert "invoice" in body and "$12.00" in body


def test_decline_fee_withdraws_and_tells_the_agency_once(desk, smtp_server) -> None:
    request_id = _filed(desk)
    item_id, asked = _agency_writes(desk, request_id, "fee", when=WHEN, fees=(Fee(amount=400.0),))
    done = desk("review", "decline-fee", str(item_id), "--yes")
    assert done.exit_code == 0, done.output
    assert _state(desk, request_id).state == "withdrawn" and _item(desk, item_id).state == "done"
    desk("outbox", "send", "--once")
    desk("outbox", "send", "--once")
    notices = _letters(smtp_server)
    assert len(notices) == 1
    msg = message_from_bytes(notices[0].data, policy=default_policy)
    assert msg["In-Reply-To"] == asked and "not to pay the fee" in msg.get_content()
    assert desk("review", "decline-fee", str(item_id), "--yes").exit_code == 1


def test_reply_from_a_template_restarts_or_tolls_the_clock_as_the_statute_says(desk, smtp_server) -> None:
    request_id = _filed(desk, CBP)  # federal FOIA: a clarification tolls the clock
    before = _state(desk, request_id)
    asked_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=14)
    item_id, asked = _agency_writes(desk, request_id, "clarification", when=asked_at)
    assert _state(desk, request_id).state == "clarification_needed"

    done = desk("review", "reply", str(item_id), "--template", "clarification_answer",
                "--var", "answer=Only the 2023 audit logs, please.", "--yes")
    assert done.exit_code == 0, done.output
    body = _one_reply(desk, smtp_server, request_id, asked).get_content()
    assert "Only the 2023 audit logs, please." in body
    after = _state(desk, request_id)
    assert after.state == "acknowledged" and after.due_date is not None and before.due_date is not None
    assert after.due_date > before.due_date  # tolled: the days the question waited are added
    with desk.sessions() as session:
        clock = session.scalars(select(Event).where(Event.kind == "review_answered")).one().detail["clock"]
        assert clock["rule"] == "toll" and clock["due"] == after.due_date.isoformat()


@pytest.mark.parametrize("bad", [
    ("review", "reply", "999", "--template", "clarification_answer", "--var", "answer=x", "--yes"),
    ("review", "confirm-interest", "999", "--yes"),
])
def test_a_missing_item_is_one_line_and_non_zero(desk, bad) -> None:
    result = desk(*bad)
    assert result.exit_code == 1 and "no review item 999" in result.output


def test_wrong_kind_and_missing_variable_are_refused_without_sending(desk, smtp_server) -> None:
    request_id = _filed(desk)
    item_id, _ = _agency_writes(desk, request_id, "fee", when=WHEN, fees=(Fee(amount=5.0),))
    wrong = desk("review", "confirm-interest", str(item_id), "--yes")
    assert wrong.exit_code == 1 and "is a fee item" in wrong.output
    missing = desk("review", "reply", str(item_id), "--template", "clarification_answer", "--yes")
    assert missing.exit_code == 1 and "answer" in missing.output
    assert _item(desk, item_id).state == "open"
    desk("outbox", "send", "--once")
    assert _letters(smtp_server) == []


def test_confirm_interest_in_one_keystroke_of_the_walk(desk, smtp_server) -> None:
    request_id = _filed(desk)
    item_id, asked = _agency_writes(desk, request_id, "clarification", when=WHEN, tracking="R000123-021525")
    walked = desk("review", input="y\nq\n")
    assert walked.exit_code == 0, walked.output
    assert f"item {item_id}: confirm-interest → done" in walked.output
    body = _one_reply(desk, smtp_server, request_id, asked).get_content()
    assert "still interested" in body and "R000123-021525" in body
    assert _state(desk, request_id).state == "acknowledged"


def _editor(tmp_path: Path, script: str) -> str:
    path = tmp_path / "fake-editor.sh"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_the_walk_answers_in_the_editor_and_an_untouched_letter_sends_nothing(desk, smtp_server, tmp_path, monkeypatch) -> None:
    request_id = _filed(desk)
    item_id, asked = _agency_writes(desk, request_id, "clarification", when=WHEN)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "exit 0\n"))  # saves the letter as it was prefilled
    untouched = desk("review", input="e\nq\n")
    assert "nothing sent: the letter was left empty or unchanged" in untouched.output
    monkeypatch.setenv("EDITOR", _editor(tmp_path, ": > \"$1\"\n"))  # empties it
    emptied = desk("review", input="e\nq\n")
    assert "nothing sent" in emptied.output
    assert _item(desk, item_id).state == "open"

    monkeypatch.setenv("EDITOR", _editor(
        tmp_path, "sed -i 's/\\[write here\\]/We mean the ALPR audit logs only./' \"$1\"\n"))
    answered = desk("review", input="e\ny\nq\n")
    assert answered.exit_code == 0, answered.output
    assert f"item {item_id}: reply → done" in answered.output
    body = _one_reply(desk, smtp_server, request_id, asked).get_content()
    assert "We mean the ALPR audit logs only." in body and "#|" not in body and "[write here]" not in body


def test_narrow_through_the_editor_script(desk, smtp_server, tmp_path, monkeypatch) -> None:
    request_id = _filed(desk)
    item_id, asked = _agency_writes(desk, request_id, "fee", when=WHEN, fees=(Fee(amount=900.0),))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "sed -i 's/\\[write here\\]/Only the 2024 sharing agreements./' \"$1\"\n"))
    done = desk("review", "narrow", str(item_id), "--yes")
    assert done.exit_code == 0, done.output
    body = _one_reply(desk, smtp_server, request_id, asked).get_content()
    assert "Only the 2024 sharing agreements." in body and "$900.00" in body
    assert _state(desk, request_id).state == "acknowledged"


def test_portal_number_is_learned_and_no_letter_goes(desk, smtp_server) -> None:
    request_id = _filed(desk)
    item_id, _ = _agency_writes(desk, request_id, "portal_redirect", when=WHEN)
    assert _state(desk, request_id).state == "portal"
    done = desk("review", "portal", str(item_id), "--number", "ABC-123")
    assert done.exit_code == 0, done.output
    with desk.sessions() as session:
        numbers = session.scalars(select(TrackingNumber.value).where(TrackingNumber.request_id == request_id)).all()
        assert numbers == ["ABC-123"]
        event = session.scalars(select(Event).where(Event.kind == "review_answered")).one()
        assert event.detail["note"] == "filed through the portal as ABC-123" and event.actor == "dana"
    assert _state(desk, request_id).state == "acknowledged"
    assert desk("review", "portal", str(item_id), "--number", "ABC-123").exit_code == 1
    desk("outbox", "send", "--once")
    assert _letters(smtp_server) == []


def test_a_crash_before_the_commit_queues_nothing_and_the_retry_sends_once(desk_any, smtp_server, monkeypatch) -> None:
    from agent.operators import replies

    request_id = _filed(desk_any)
    item_id, asked = _agency_writes(desk_any, request_id, "fee", when=WHEN, fees=(Fee(amount=20.0),))

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit(9)  # the process dies after the letter was composed and queued in the transaction

    monkeypatch.setattr(replies, "_move", crash)
    died = desk_any("review", "approve-fee", str(item_id), "--up-to", "25", "--yes")
    assert died.exit_code == 9
    with desk_any.sessions() as session:
        assert session.scalars(select(Outbox).where(Outbox.kind == "reply")).all() == []
    assert _item(desk_any, item_id).state == "open"
    monkeypatch.undo()
    desk_any("outbox", "send", "--once")
    assert _letters(smtp_server) == []

    assert desk_any("review", "approve-fee", str(item_id), "--up-to", "25", "--yes").exit_code == 0
    # After the commit the process may die at once: the row is there, and every later pass sends it once.
    _one_reply(desk_any, smtp_server, request_id, asked)


def test_the_rules_check_renders_every_answer_template(tmp_path: Path) -> None:
    import shutil

    from agent.compose.answers import ANSWER_TEMPLATES
    from agent.compose.render import TemplateError
    from agent.followups.check import check_rules

    check_rules(RULES, fresh=True)
    for name in ANSWER_TEMPLATES:
        broken = tmp_path / name / "rules"
        shutil.copytree(RULES, broken)
        (broken / "templates" / name).write_text("Dear {{ agency_nmae }},\n")
        with pytest.raises(TemplateError, match=name):
            check_rules(broken, fresh=True)


def test_the_walk_pays_a_fee_and_asks_before_declining_one(desk, smtp_server) -> None:
    paid_id = _filed(desk)
    pay_item, asked = _agency_writes(desk, paid_id, "fee", when=WHEN, fees=(Fee(amount=30.0),))
    walked = desk("review", input="p\n45\ny\nq\n")
    assert walked.exit_code == 0, walked.output
    assert f"item {pay_item}: approve-fee → done" in walked.output
    assert "$45.00" in _one_reply(desk, smtp_server, paid_id, asked).get_content()

    kept_id = _filed(desk)
    kept_item, _ = _agency_writes(desk, kept_id, "fee", when=WHEN, fees=(Fee(amount=300.0),))
    kept = desk("review", input="x\nn\nq\n")
    assert "nothing sent" in kept.output and _state(desk, kept_id).state == "fee_required"
    gone = desk("review", input="x\ny\nq\n")
    assert f"item {kept_item}: decline-fee → done" in gone.output and _state(desk, kept_id).state == "withdrawn"
