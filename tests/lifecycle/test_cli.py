"""`agent outbox ...` and `agent deadlines scan --once` through the real CLI, against a real SMTP server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import time_machine
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli import app
from agent.compose.message import build_message
from agent.db import migrate
from agent.db.models import Agency, Outbox, Request
from agent.db.session import make_engine, make_session_factory
from agent.outbox.queue import enqueue

RULES = Path(__file__).resolve().parents[2] / "rules"
UTC = dt.timezone.utc


def _setup(tmp_path: Path, smtp_server) -> tuple[Path, object]:  # type: ignore[no-untyped-def]
    db = tmp_path / "agent.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n'
        f'[archive]\npath = "{tmp_path / "mailbox"}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "plain"\ntimeout_seconds = 5\n'
        f'[rules]\npath = "{RULES}"\n'
    )
    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        agency = Agency(name="Beverly Hills PD", jurisdiction="CA", emails=["clerk@bh.example"])
        s.add(agency)
        s.flush()
        req = Request(reference="RA-2025-0001", agency_id=agency.id, state="queued", jurisdiction="CA", subject="[RA-2025-0001] CPRA request")
        s.add(req)
        s.flush()
        msg = build_message(sender_name="Records Desk", sender_address="records@example.org", to=["clerk@bh.example"], subject=req.subject, text="Please.")
        req.message_id = msg["Message-ID"]
        enqueue(s, msg, kind="request", request_id=req.id, agency_id=agency.id)
    return config, sessions


def test_outbox_and_deadline_commands(tmp_path: Path, smtp_server) -> None:  # type: ignore[no-untyped-def]
    config, sessions = _setup(tmp_path, smtp_server)
    runner = CliRunner()

    def agent(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--config", str(config), *args])
        return result.exit_code, result.output

    code, output = agent("outbox", "list", "--json")
    assert code == 0 and [r["state"] for r in json.loads(output)] == ["queued"]
    code, output = agent("outbox", "send", "--once", "--json")
    assert code == 0 and json.loads(output)["sent"] == 1
    assert len(smtp_server.messages) == 1
    code, output = agent("outbox", "retry", "1")
    assert code == 1 and "only failed" in output

    with sessions() as s:  # type: ignore[attr-defined]
        due = s.scalars(select(Request.next_action_date)).one()
    code, output = agent("deadlines", "scan", "--once", "--today", (due - dt.timedelta(days=1)).isoformat(), "--json")
    assert code == 0 and json.loads(output)["queued"] == 0
    code, output = agent("deadlines", "due", "--today", due.isoformat(), "--json")
    assert [r["reference"] for r in json.loads(output)] == ["RA-2025-0001"]
    with time_machine.travel(dt.datetime.combine(due, dt.time(17), UTC), tick=True):
        code, output = agent("deadlines", "scan", "--once", "--today", due.isoformat(), "--json")
    assert code == 0 and json.loads(output)["queued"] == 1

    with sessions() as s:  # type: ignore[attr-defined]
        followup_id = s.scalars(select(Outbox.id).where(Outbox.kind == "followup")).one()
    code, _ = agent("outbox", "cancel", str(followup_id))
    assert code == 0
    code, output = agent("outbox", "list", "--state", "cancelled", "--json")
    assert [r["id"] for r in json.loads(output)] == [followup_id]
    code, _ = agent("outbox", "retry", str(followup_id))
    assert code == 0
    code, output = agent("outbox", "cancel", "999")
    assert code == 1 and "no outbox row 999" in output
