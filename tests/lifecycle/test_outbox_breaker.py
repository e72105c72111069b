"""Sending like a good citizen: one SMTP session per pass, account limits, and a breaker that pauses, not spends.

Real aiosmtpd servers: one that refuses every login (535), a closed port, and the recording server.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli import app
from agent.db.models import DaemonState, Outbox, ReviewItem
from agent.operators.status import read_health
from agent.outbox import breaker
from agent.outbox.send import drain_due, drain_once
from support.smtp import SmtpServer, _free_port, _Handler

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=UTC)


def _refuse_everyone(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


@pytest.fixture
def locked_server() -> Iterator[SmtpServer]:
    """A server that requires a login and refuses every one with 535."""
    handler = _Handler()
    controller = Controller(
        handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=10,
        authenticator=_refuse_everyone, auth_require_tls=False, auth_required=True,
    )
    controller.start()
    try:
        yield SmtpServer(controller, handler)
    finally:
        controller.stop()


def _rows(sessions) -> list[Outbox]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.id)))


def _open_items(sessions, kind: str) -> list[ReviewItem]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return list(s.scalars(select(ReviewItem).where(ReviewItem.kind == kind, ReviewItem.state == "open")))


async def _drain(settings, sessions, when: dt.datetime, **kwargs: Any):  # type: ignore[no-untyped-def]
    with time_machine.travel(when, tick=True):
        return await drain_once(settings, sessions, worker_id="w1", now=when, **kwargs)


def _smtp(settings, **changes: Any):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"smtp": settings.smtp.model_copy(update=changes)})


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_a_refused_login_pauses_the_outbox_without_spending_attempts(
    sessions, settings, smtp_server, locked_server, new_request, monkeypatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    from agent.config import Secret

    locked = _smtp(
        settings, port=locked_server.port, username="desk", password=Secret(env="TEST_SMTP_PASSWORD"), pause_seconds=60
    )
    new_request(now=T0)
    new_request(now=T0)
    first = await _drain(locked, sessions, T0)
    assert first.paused and first.released == 2 and (first.sent, first.retried, first.failed) == (0, 0, 0)
    assert "535" in (first.pause_reason or "") and first.remaining == 2
    assert all((r.state, r.attempts) == ("queued", 0) for r in _rows(sessions))
    assert len(_open_items(sessions, breaker.REVIEW_KIND)) == 1
    # Persisted: another pass (or daemon) sees the pause and does not even connect.
    during = await _drain(locked, sessions, T0 + dt.timedelta(seconds=30))
    assert during.paused and during.claimed == 0 and during.connections == 0
    # After the pause the next pass tries again; still refused, the pause doubles.
    again = await _drain(locked, sessions, T0 + dt.timedelta(seconds=61))
    assert again.paused and again.paused_until == (T0 + dt.timedelta(seconds=61 + 120)).isoformat()
    assert all(r.attempts == 0 for r in _rows(sessions))
    with sessions() as s:
        health = read_health(s, None, now=T0 + dt.timedelta(seconds=70))
    assert any("outbox is paused" in n and "535" in n for n in health.notes)
    # Credentials fixed (here: a server that takes us): everything goes, the pause and its review item end.
    fixed = _smtp(settings, pause_seconds=60)
    done = await _drain(fixed, sessions, T0 + dt.timedelta(minutes=10))
    assert (done.sent, done.paused, done.connections) == (2, False, 1)
    assert [(r.state, r.attempts) for r in _rows(sessions)] == [("sent", 1), ("sent", 1)]
    assert _open_items(sessions, breaker.REVIEW_KIND) == []
    with sessions() as s:
        assert s.get(DaemonState, breaker.NAME) is None


async def test_a_refused_connection_pauses_too(sessions, settings, smtp_server, new_request) -> None:
    closed = _smtp(settings, port=_free_port())
    new_request(now=T0)
    report = await _drain(closed, sessions, T0)
    assert report.paused and report.released == 1 and "refused" in (report.pause_reason or "").lower()
    assert _rows(sessions)[0].attempts == 0


async def test_one_connection_carries_the_whole_pass(sessions, settings, smtp_server, new_request) -> None:
    for n in range(4):
        new_request(now=T0, email=f"clerk{n}@agency-{n}.example")
    smtp_server.script_rcpt([550])  # a refused recipient does not cost the connection
    report = await _drain(settings, sessions, T0)
    assert (report.sent, report.failed, report.connections) == (3, 1, 1)
    assert len(smtp_server.messages) == 3 and smtp_server.connections_used == 1


async def test_a_connection_the_server_closes_is_reopened_for_the_next_row(
    sessions, settings, smtp_server, new_request
) -> None:
    for n in range(3):
        new_request(now=T0, email=f"clerk{n}@agency-{n}.example")
    smtp_server.script_data([421])  # "closing channel" after the first letter: a clear temporary answer
    report = await _drain(settings, sessions, T0)
    assert (report.sent, report.retried, report.connections) == (2, 1, 2)
    assert [r.state for r in _rows(sessions)] == ["queued", "sent", "sent"]


async def test_account_limits_per_minute_and_per_day(sessions, settings, smtp_server, new_request) -> None:
    limited = _smtp(settings, per_minute=2, per_day=3)
    for n in range(5):
        new_request(now=T0, email=f"clerk{n}@agency-{n}.example")
    first = await _drain(limited, sessions, T0)
    assert (first.sent, first.account_limited, first.account_limit, first.remaining) == (2, 3, "per_minute", 3)
    second = await _drain(limited, sessions, T0 + dt.timedelta(seconds=61))
    assert (second.sent, second.account_limited, second.account_limit) == (1, 2, "per_day")
    assert (await _drain(limited, sessions, T0 + dt.timedelta(hours=12))).sent == 0
    later = await _drain(limited, sessions, T0 + dt.timedelta(days=1, minutes=2))
    assert later.sent == 2 and len(smtp_server.messages) == 5


async def test_drain_due_sends_every_batch_and_stops_at_a_limit(sessions, settings, smtp_server, new_request) -> None:
    for n in range(5):
        new_request(now=T0, email=f"clerk{n}@agency-{n}.example")
    with time_machine.travel(T0, tick=True):
        report = await drain_due(_smtp(settings, per_minute=4), sessions, worker_id="w1", now=T0, batch_size=2)
    assert (report.sent, report.remaining, report.account_limited) == (4, 1, 1)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the CLI's wording; the storage is tested above
def test_outbox_send_once_says_what_remains_and_why(tmp_path: Path, sessions, db_url: str, smtp_server, new_request) -> None:
    for n in range(3):
        new_request(now=T0, email=f"clerk{n}@agency-{n}.example")
    config = tmp_path / "config.toml"
    body = (
        f'[database]\nurl = "{db_url}"\n[archive]\npath = "{tmp_path / "mailbox"}"\n'
        f'[rules]\npath = "{Path(__file__).resolve().parents[2] / "rules"}"\n'
        '[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "plain"\ntimeout_seconds = 5\nper_minute = {limit}\n'
    )
    config.write_text(body.replace("{port}", str(smtp_server.port)).replace("{limit}", "2"))
    runner = CliRunner()
    result = runner.invoke(app, ["--config", str(config), "outbox", "send", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output and "1 due remain" in result.output and "per_minute" in result.output
    # The server refuses us: the command says so and exits 1 for scripts and monitoring.
    config.write_text(body.replace("{port}", str(_free_port())).replace("{limit}", "20"))
    result = runner.invoke(app, ["--config", str(config), "outbox", "send", "--once", "--json"])
    report = json.loads(result.output)
    assert result.exit_code == 1 and report["paused"] is True and report["remaining"] == 1
