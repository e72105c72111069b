"""Instants are stored as UTC and read back aware on both databases; the desk sees them in its own zone."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from agent.cli import app
from agent.config import load_settings
from agent.db.models import Message, ReviewItem
from agent.db.session import make_engine, make_session_factory
from agent.operators.clock import local_time
from support.configs import REPO, write_config
from support.smtp import SmtpServer

UTC = dt.timezone.utc
PACIFIC_OFFSET = dt.timezone(dt.timedelta(hours=-8))
runner = CliRunner()


def _message(key: str, sent: dt.datetime | None) -> Message:
    return Message(direction="in", dedupe_key=key, message_id=key, sha256="0" * 64, archive_key=key, sent_date=sent)


def test_offset_is_honoured_and_values_come_back_aware(sessions: sessionmaker[Session]) -> None:
    dated = dt.datetime(2025, 2, 11, 12, 35, 10, tzinfo=PACIFIC_OFFSET)
    with sessions.begin() as session:
        session.add(_message("<pacific@x>", dated))
        session.add(_message("<naive@x>", dt.datetime(2025, 2, 11, 20, 0)))  # naive: taken as UTC
    with sessions() as session:
        stored = session.scalars(select(Message).order_by(Message.id)).all()
        assert stored[0].sent_date == dt.datetime(2025, 2, 11, 20, 35, 10, tzinfo=UTC)
        assert stored[0].sent_date is not None and stored[0].sent_date.utcoffset() == dt.timedelta(0)
        assert stored[1].sent_date == dt.datetime(2025, 2, 11, 20, 0, tzinfo=UTC)
        # The database orders and compares instants, not wall clocks: 20:35 UTC is after 20:00 UTC.
        later = session.scalars(
            select(Message.message_id).where(Message.sent_date > dt.datetime(2025, 2, 11, 12, 10, tzinfo=PACIFIC_OFFSET))
        ).all()
        assert later == ["<pacific@x>"]
        assert all(m.received_at.tzinfo is not None for m in stored)  # server defaults come back aware too


def test_local_time_is_labelled() -> None:
    moment = dt.datetime(2025, 2, 11, 20, 35, 10, tzinfo=UTC)
    assert local_time(moment, "America/Los_Angeles") == "2025-02-11 12:35 PST"
    assert local_time(moment.replace(month=7), "America/Los_Angeles") == "2025-07-11 13:35 PDT"
    assert local_time(moment, "UTC", seconds=True) == "2025-02-11 20:35:10 UTC"
    assert local_time(None, "UTC") == "—"


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def test_a_pacific_reply_is_shown_after_our_letter_in_the_desk_zone(
    tmp_path: Path, db_url: str, smtp_server: SmtpServer
) -> None:
    config = write_config(tmp_path, db_url, smtp={"host": smtp_server.host, "port": smtp_server.port,
                                                   "security": "plain"})

    def agent(*args: str) -> str:
        result = runner.invoke(app, ["--config", str(config), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    agent("db", "upgrade")
    agent("agency", "import", str(REPO / "examples" / "agencies-federal.csv"))
    agent("request", "new", "--agency", "Federal Bureau of Investigation", "--template", "foia_general",
          "--var", "topic=t", "--var", "records=r")
    agent("request", "send", "1")
    agent("outbox", "send", "--once")
    ours = smtp_server.messages[0].message
    # Our letter went out just now; the agency answers tomorrow at 12:35:10 on a UTC-8 clock.
    tomorrow = (dt.datetime.now(PACIFIC_OFFSET) + dt.timedelta(days=1)).replace(hour=12, minute=35, second=10,
                                                                                microsecond=0)
    reply = (
        f"From: FOIA Office <foia@fbi.example.gov>\r\nTo: {ours['From']}\r\nSubject: Re: {ours['Subject']}\r\n"
        f"Date: {tomorrow:%a, %d %b %Y %H:%M:%S} -0800\r\nMessage-ID: <reply-1@fbi.example.gov>\r\n"
        f"In-Reply-To: {ours['Message-ID']}\r\nReferences: {ours['Message-ID']}\r\n\r\n"
        "We received your request and assigned it number 1234-5678.\r\n"
    ).encode()
    (tmp_path / "inbox" / "new").mkdir(parents=True, exist_ok=True)
    (tmp_path / "inbox" / "new" / "1.reply").write_bytes(reply)
    agent("poll", "--once")

    explained = json.loads(agent("explain", "<reply-1@fbi.example.gov>", "--json"))
    expected_utc = tomorrow.astimezone(UTC)
    assert expected_utc.hour == 20 and expected_utc.minute == 35
    assert dt.datetime.fromisoformat(explained["sent_date"]) == expected_utc
    assert explained["request"] is not None

    zone = ZoneInfo("America/Los_Angeles")
    shown = local_time(expected_utc, zone)  # "... 12:35 PST" in winter, "... 13:35 PDT" in summer
    thread = agent("thread", "1")
    assert shown in thread
    ours_at = thread.index("→ out")
    assert ours_at < thread.index(shown)  # the reply comes after our letter
    assert shown in agent("explain", "<reply-1@fbi.example.gov>")


def test_review_and_explain_label_the_desk_zone(tmp_path: Path, db_url: str) -> None:
    # The desk is in Los Angeles (the default); a stray letter dated on a UTC-8 clock waits in review.
    config = write_config(tmp_path, db_url)

    def agent(*args: str) -> str:
        result = runner.invoke(app, ["--config", str(config), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    agent("db", "upgrade")
    (tmp_path / "inbox" / "new").mkdir(parents=True)
    (tmp_path / "inbox" / "new" / "1.stray").write_bytes(
        b"From: Someone <clerk@town.example.gov>\r\nTo: records@example.org\r\nSubject: your letter\r\n"
        b"Date: Tue, 11 Feb 2025 12:35:10 -0800\r\nMessage-ID: <stray-1@town.example.gov>\r\n\r\n"
        b"We have your letter and will answer soon.\r\n"
    )
    agent("poll", "--once")
    assert "2025-02-11 12:35 PST" in agent("explain", "<stray-1@town.example.gov>")
    listed = agent("review", "list")
    engine = make_engine(load_settings(config).database.url)
    try:
        with make_session_factory(engine)() as session:
            created = session.scalars(select(ReviewItem.created_at)).one()
    finally:
        engine.dispose()
    assert local_time(created, "America/Los_Angeles") in listed
    assert local_time(created, "America/Los_Angeles")[-3:] in ("PST", "PDT")
