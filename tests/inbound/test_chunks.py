"""A poll pass processes recorded mail in chunks, one transaction each: the result must equal one message per
transaction, and a message that fails must cost only itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from inbound_helpers import BH_REPLY, DHS_REPLY, make_settings, mail, seed_world
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent.db import migrate
from agent.db.models import BoilerplateStat, Event, Message, Request, ReviewItem, TrackingNumber
from agent.db.session import make_engine, make_session_factory
from agent.inbound import process, transactions
from agent.inbound.poll import poll_once
from agent.mail.maildir_inbox import MaildirInbox

FOOTER = (
    "The Records Center at 455 N. Rexford Drive is open Monday through Thursday, 8 am to 5 pm; "
    "file {tn} stays listed under Recent Activity while staff work on it."
)


def _stream() -> list[bytes]:
    """Replies that lean on what earlier ones taught: tracking numbers, a portal footer in many threads."""
    out = []
    for n in range(6):
        tn = f"CRM-25-{300 + n}"
        out.append(mail(sender="noreply@beverlyhills.org", to=_extra_reply(n % 3),
                        subject=f"Public Records Request :: {tn}",
                        body=f"Your request {tn} has been received and is being processed.\n\n{FOOTER.format(tn=tn)}"))
        out.append(mail(sender="noreply@beverlyhills.org", to="records@example.org", subject=f"Update on {tn}",
                        body=f"We expect to respond on or before 03/{10 + n:02d}/2025.\n\n{FOOTER.format(tn=tn)}"))
        out.append(mail(sender="records@cityofdhs.org", to=DHS_REPLY, subject="RE: California ALPR",
                        body=f"Please find batch {n + 1} of the responsive records attached. More will follow."))
    out.append(mail(sender="clerk@la.example.gov", subject="Your request", body="No responsive records were found."))
    out.append(mail(sender="noreply@beverlyhills.org", to=BH_REPLY, subject="Closing CRM-25-300",
                    body=f"Your request has been completed.\n\n{FOOTER.format(tn='CRM-25-300')}"))
    return out


def _extra_reply(i: int) -> str:
    return f"records+ra-2025-010{i}-zz@example.org"


def _run(tmp_path: Path, stream: list[bytes], chunk: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    tmp_path.mkdir(parents=True)
    engine = make_engine(f"sqlite:///{tmp_path / 'agent.db'}")
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    world = seed_world(sessions)
    with sessions.begin() as s:  # three more Beverly Hills threads, so its portal footer is seen in several
        s.add_all(Request(reference=f"RA-2025-010{i}", agency_id=world.bh, jurisdiction="CA", state="sent",
                          reply_address=_extra_reply(i)) for i in range(3))
    settings = make_settings(tmp_path, str(engine.url))
    inbox = MaildirInbox(settings.inbox.maildir, account="test")
    for n, raw in enumerate(stream):
        (settings.inbox.maildir / "new").mkdir(parents=True, exist_ok=True)
        (settings.inbox.maildir / "new" / f"{1700000000 + n}.M{n}P1.test").write_bytes(raw)
    monkeypatch.setattr(transactions, "CHUNK", chunk)
    report = poll_once(settings, sessions, inbox)
    with sessions() as s:
        messages = [
            (m.message_id, m.status, m.request_id, m.label, m.confidence, m.cleaned_text, m.folded, m.facts, m.rule_hits)
            for m in s.scalars(select(Message).order_by(Message.id))
        ]
        stats = sorted((b.domain, b.fingerprint, b.seen, tuple(b.threads)) for b in s.scalars(select(BoilerplateStat)))
        numbers = sorted(s.execute(select(TrackingNumber.request_id, TrackingNumber.value)).all())
        states = sorted(s.execute(select(Request.id, Request.state, Request.promised_date)).all())
        events = s.scalar(select(func.count()).select_from(Event))
    engine.dispose()
    return {"report": report.line(), "messages": messages, "stats": stats, "numbers": numbers, "states": states,
            "events": events}


def test_chunked_processing_equals_one_message_per_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _stream()
    one_by_one = _run(tmp_path / "single", stream, 1, monkeypatch)
    for chunk in (4, 50):
        chunked = _run(tmp_path / f"chunk{chunk}", stream, chunk, monkeypatch)
        for key in one_by_one:
            assert chunked[key] == one_by_one[key], f"chunk={chunk}: {key} differs"
    # The stream does exercise what the chunk remembers: a learned footer and learned numbers.
    assert any(len(threads) >= 3 for *_, threads in one_by_one["stats"])  # type: ignore[union-attr]
    assert len(one_by_one["numbers"]) >= 6  # type: ignore[arg-type]
    assert any(any(f["reason"] == "learned_boilerplate" for f in m[6] or []) for m in one_by_one["messages"])  # type: ignore[union-attr]


def test_a_failing_message_costs_only_itself(
    tmp_path: Path, sessions: sessionmaker[Session], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = seed_world(sessions)
    settings = make_settings(tmp_path, db_url)
    inbox = MaildirInbox(settings.inbox.maildir, account="test")
    (settings.inbox.maildir / "new").mkdir(parents=True, exist_ok=True)
    bodies = ["We received your request.", "POISON", "Records attached.", "We need more time."]
    for n, body in enumerate(bodies):
        raw = mail(sender="records@cityofdhs.org", to=DHS_REPLY, subject="RE: California ALPR", body=body)
        (settings.inbox.maildir / "new" / f"{1700000000 + n}.M{n}P1.test").write_bytes(raw)
    real_apply = process.apply_message

    def apply_or_fail(session, *, message, **kw):  # type: ignore[no-untyped-def]
        if "POISON" in (message.cleaned_text or ""):
            raise RuntimeError("simulated failure while applying")
        return real_apply(session, message=message, **kw)

    monkeypatch.setattr(process, "apply_message", apply_or_fail)
    report = poll_once(settings, sessions, inbox)
    assert (report.new, report.quarantined, report.matched) == (4, 1, 3)
    with sessions() as s:
        rows = list(s.scalars(select(Message).order_by(Message.id)))
        assert [m.status for m in rows] == ["processed", "quarantined", "processed", "processed"]
        assert "simulated failure" in (rows[1].error or "")
        # Each good message was applied once, although its chunk was rolled back and redone.
        per_message = dict(
            s.execute(select(Event.message_row_id, func.count()).where(Event.message_row_id.is_not(None))
                      .group_by(Event.message_row_id)).all()
        )
        assert all(per_message.get(m.id, 0) <= 1 for m in rows)
        assert s.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.kind == "quarantined")) == 1
        assert all(m.request_id == world.r_dhs for m in rows if m.status == "processed")
