"""What a person's decision on a stranger's mail or a bounce does, through the real `agent review` commands.

Mail goes through the real poll path (Maildir, SQLite and PostgreSQL); the decisions go through the `agent` app
with a config file naming the same database. Confirming an unknown sender applies its reading as the agency's
answer exactly once; dismissing or skipping leaves the request as it was; only a confirmed bounce marks a
request undeliverable.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from spoof_mail import CLERK, EVIDENCE, Target, fee_body, raw_mail
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from test_spoof import OUR_MTA, Mailroom, _dsn
from typer.testing import CliRunner

from agent.cli import app
from agent.db.models import Event, Message, Request, ReviewItem, TrackingNumber
from agent.pipeline.thread_context import build_thread_context

runner = CliRunner()
STRANGER = [("From", "Temp Clerk <temp.clerk@gmail.com>")]
CAME = dt.datetime(2025, 2, 20, 9, 0, tzinfo=dt.timezone.utc)  # the Date of every message raw_mail builds


@pytest.fixture
def room(tmp_path: Path, sessions: sessionmaker[Session], db_url: str) -> Mailroom:
    return Mailroom(tmp_path, sessions, db_url)


@pytest.fixture
def config(room: Mailroom, tmp_path: Path) -> Path:
    s = room.settings
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{s.database.url}"\n[rules]\npath = "{s.rules_path}"\n'
        f'[archive]\npath = "{s.archive.path}"\n[attachments]\npath = "{s.attachments.path}"\n'
        f'[schedule]\ntimezone = "America/Los_Angeles"\n[daemon]\nstatus_file = "{tmp_path / "status.json"}"\n',
        encoding="utf-8",
    )
    return path


def agent(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--config", str(config), *args], env={"COLUMNS": "200", "USER": "ana"})
    return result.exit_code, result.output


def queue(config: Path) -> list[dict[str, object]]:
    code, output = agent(config, "review", "list", "--all", "--json")
    assert code == 0, output
    return list(json.loads(output))


def item_for(config: Path, target: Target, kind: str) -> int:
    (item,) = [i for i in queue(config) if i["kind"] == kind and i["request"] == target.reference]
    return int(item["id"])  # type: ignore[call-overload]


def moves(room: Mailroom, target: Target) -> list[tuple[str | None, str | None]]:
    with room.sessions() as s:
        rows = s.execute(select(Event.from_state, Event.to_state).where(
            Event.request_id == target.request_id, Event.kind == "state_change").order_by(Event.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def count(room: Mailroom, model: type, *where: object) -> int:
    with room.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_confirm_applies_the_held_fee_once(room: Mailroom, config: Path) -> None:
    target = room.target()
    extra, subject = EVIDENCE["in_reply_to"](target)
    body = fee_body(target) + "\n\nOur new reference for this request is CRM-25-7777."
    room.deliver(raw_mail(STRANGER, extra, subject, body))
    room.poll()
    assert room.request(target.request_id).state == "sent"
    item = item_for(config, target, "unknown_sender")

    code, output = agent(config, "review", "confirm", str(item), "--json")
    assert code == 0, output
    assert json.loads(output)["request_state"] == "fee_required"
    req = room.request(target.request_id)
    # The agency answered when the mail came, not when ana decided; its fee waits for a person as usual.
    assert (req.state, req.last_reply_at) == ("fee_required", CAME)
    fees = [i for i in queue(config) if i["kind"] == "fee" and i["request"] == target.reference]
    assert len(fees) == 1 and fees[0]["suggestions"][0]["amount"] == 850.0  # type: ignore[index]
    with room.sessions() as s:
        numbers = set(s.scalars(select(TrackingNumber.value).where(TrackingNumber.request_id == target.request_id)))
        assert "CRM-25-7777" in numbers  # what the vouched-for sender quotes now finds the request
        events = s.scalars(select(Event).where(Event.kind == "review_confirmed", Event.request_id == target.request_id))
        assert [(e.actor, e.detail["review_kind"]) for e in events] == [("ana", "unknown_sender")]
    # The operator vouched for the sender, not for a label: no training example was recorded from it.
    code, output = agent(config, "corrections", "list", "--json")
    assert code == 0 and json.loads(output) == [], output

    # Exactly once: the same decision again is refused and changes nothing.
    code, output = agent(config, "review", "confirm", str(item))
    assert code == 1 and "already decided by ana" in output
    assert moves(room, target) == [("sent", "fee_required")]
    assert count(room, ReviewItem, ReviewItem.request_id == target.request_id, ReviewItem.kind == "fee") == 1


def test_confirm_applies_the_held_extension_dates(room: Mailroom, config: Path) -> None:
    target = room.target()
    extra, subject = EVIDENCE["reply_address"](target)
    body = (f"Regarding request {target.tracking_number}: because of the volume of records, we need additional "
            "time to respond. We are extending the time to respond until March 31, 2025.\n\nCity Clerk")
    room.deliver(raw_mail(STRANGER, extra, subject, body))
    room.poll()
    before = room.request(target.request_id)
    assert (before.state, before.extended_due, before.last_reply_at) == ("sent", None, None)
    code, output = agent(config, "review", "confirm", str(item_for(config, target, "unknown_sender")))
    assert code == 0, output
    after = room.request(target.request_id)
    assert (after.state, after.extended_due, after.last_reply_at) == ("extended", dt.date(2025, 3, 31), CAME)


@pytest.mark.parametrize("action", ["dismiss", "skip"])
def test_dismiss_or_skip_leaves_the_request_as_it_was(room: Mailroom, config: Path, action: str) -> None:
    target = room.target()
    extra, subject = EVIDENCE["reply_address"](target)
    room.deliver(raw_mail([("From", "clerk@beverlyhi11s.org")], extra, subject, fee_body(target)))
    room.poll()
    before = room.request(target.request_id)
    item = item_for(config, target, "unknown_sender")

    code, output = agent(config, "review", action, str(item))
    assert code == 0, output
    after = room.request(target.request_id)
    fields = ("state", "last_reply_at", "next_action_date", "promised_date", "extended_due", "flags")
    assert [getattr(after, f) for f in fields] == [getattr(before, f) for f in fields]
    assert moves(room, target) == []
    assert count(room, ReviewItem, ReviewItem.request_id == target.request_id, ReviewItem.kind == "fee") == 0
    (shown,) = [i for i in queue(config) if i["id"] == item]
    assert shown["state"] == ("done" if action == "dismiss" else "skipped")
    with room.sessions() as s:
        # The stranger's words never became the thread's: they cannot fold the agency's next reply.
        assert build_thread_context(s, target.request_id, "beverlyhills.org").earlier_texts == ()
        message = s.scalars(select(Message).where(Message.request_id == target.request_id)).one()
        assert message.status == "processed"  # kept in the thread, for the record
    if action == "dismiss":
        code, output = agent(config, "review", "confirm", str(item))
        assert code == 1 and "already decided" in output
        assert room.request(target.request_id).state == "sent"


def test_only_a_confirmed_bounce_marks_undeliverable(room: Mailroom, config: Path) -> None:
    confirmed, dismissed, suspect = (room.target(sent_letter=True) for _ in range(3))
    for target in (confirmed, dismissed):
        room.deliver(_dsn(sender=f"MAILER-DAEMON@{OUR_MTA}", to=target.reply_address,
                          subject=f"Undelivered Mail {target.reference[-4:]}", reporting_mta=OUR_MTA, final=CLERK,
                          returned_id=target.message_id))
    room.deliver(raw_mail([("From", "MAILER-DAEMON@evil.example")], [("To", suspect.reply_address)],
                          "Undelivered Mail Returned to Sender", "Your mail could not be delivered."))
    room.poll()
    for target in (confirmed, dismissed, suspect):
        req = room.request(target.request_id)
        assert req.state == "sent" and "undeliverable" not in req.flags, target.reference

    code, output = agent(config, "review", "confirm", str(item_for(config, confirmed, "bounce")))
    assert code == 0, output
    req = room.request(confirmed.request_id)
    assert (req.state, req.flags.get("undeliverable")) == ("undeliverable", True)
    (move,) = [e for e in _state_events(room, confirmed) if e.to_state == "undeliverable"]
    assert (move.cause, move.actor) == ("operator", "ana")

    assert agent(config, "review", "dismiss", str(item_for(config, dismissed, "bounce")))[0] == 0
    # Confirming a suspect bounce agrees with what it says: the request was left as it is.
    assert agent(config, "review", "confirm", str(item_for(config, suspect, "suspect_bounce")))[0] == 0
    for target in (dismissed, suspect):
        req = room.request(target.request_id)
        assert req.state == "sent" and "undeliverable" not in req.flags, target.reference
        assert moves(room, target) == []


def _state_events(room: Mailroom, target: Target) -> list[Event]:
    with room.sessions() as s:
        rows = list(s.scalars(select(Event).where(Event.request_id == target.request_id, Event.kind == "state_change")))
        for row in rows:
            s.expunge(row)
        return rows


def test_the_walk_dismisses_with_d(room: Mailroom, config: Path) -> None:
    target = room.target()
    extra, subject = EVIDENCE["tracking_number"](target)
    room.deliver(raw_mail(STRANGER, [("To", target.reply_address), *extra], subject, fee_body(target)))
    room.poll()
    item = item_for(config, target, "unknown_sender")
    result = runner.invoke(app, ["--config", str(config), "review"], input="d\n", env={"COLUMNS": "200", "USER": "ana"})
    assert result.exit_code == 0, result.output
    assert "[d]ismiss" in result.output
    (shown,) = [i for i in queue(config) if i["id"] == item]
    assert (shown["state"], shown["resolved_by"]) == ("done", "ana")
    assert room.request(target.request_id).state == "sent"
