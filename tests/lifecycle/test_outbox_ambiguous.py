"""No duplicate letter when the server's answer is ambiguous, and no long wait for a sender known to be dead.

Real aiosmtpd servers that store the message and then stall past our final-reply timeout or drop the
connection: the row is `uncertain`, in review, delivered once, and never resent on its own.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys

import pytest
import time_machine
from sqlalchemy import select

from agent.daemon.status import publish
from agent.db.models import Outbox, ReviewItem
from agent.outbox.send import drain_once
from agent.outbox.workers import PREFIX

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=UTC)


def _row(sessions, request_id: int) -> Outbox:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return s.scalars(select(Outbox).where(Outbox.request_id == request_id)).one()


def _reviews(sessions, kind: str) -> list[ReviewItem]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return list(s.scalars(select(ReviewItem).where(ReviewItem.kind == kind)))


async def _drain(settings, sessions, when: dt.datetime, worker: str = "w1"):  # type: ignore[no-untyped-def]
    with time_machine.travel(when, tick=True):
        return await drain_once(settings, sessions, worker_id=worker, now=when)


def _short_data_timeout(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"smtp": settings.smtp.model_copy(update={"data_end_timeout_seconds": 0.5})})


@pytest.mark.parametrize("fault", ["late_250", "dropped_after_data"])
async def test_no_clear_answer_after_data_is_uncertain_and_never_resent(
    sessions, settings, smtp_server, new_request, load, fault
) -> None:
    settings = _short_data_timeout(settings)
    rid = new_request(now=T0)
    if fault == "late_250":
        smtp_server.stall_after_store(2.0)
    else:
        smtp_server.drop_after_store()
    report = await _drain(settings, sessions, T0)
    assert (report.uncertain, report.sent, report.retried) == (1, 0, 0)
    assert len(smtp_server.messages) == 1  # the server has the letter
    row = _row(sessions, rid)
    assert row.state == "uncertain" and row.next_attempt_at is None
    assert "no clear answer after the message was sent" in (row.last_error or "")
    items = _reviews(sessions, "send_uncertain")
    assert len(items) == 1 and items[0].request_id == rid and f"outbox retry {row.id}" in items[0].reason
    # Nothing brings it back on its own: days later the server still has exactly one copy.
    later = await _drain(settings, sessions, T0 + dt.timedelta(days=2))
    assert later.claimed == 0 and later.uncertain == 0
    assert len(smtp_server.messages) == 1 and smtp_server.data_attempts == 1
    assert load(rid).state == "queued"  # its legal clock does not start on a guess


@pytest.mark.parametrize(("code", "state"), [(451, "queued"), (550, "failed")])
async def test_a_clear_answer_after_data_is_not_uncertain(
    sessions, settings, smtp_server, new_request, code: int, state: str
) -> None:
    settings = _short_data_timeout(settings)
    rid = new_request(now=T0)
    smtp_server.script_data([code])
    report = await _drain(settings, sessions, T0)
    assert report.uncertain == 0 and (report.retried, report.failed) == ((1, 0) if code == 451 else (0, 1))
    row = _row(sessions, rid)
    assert (row.state, row.last_code) == (state, code)
    assert _reviews(sessions, "send_uncertain") == []


async def test_one_uncertain_row_does_not_hold_up_the_rest(sessions, settings, smtp_server, new_request) -> None:
    settings = _short_data_timeout(settings)
    first = new_request(now=T0)
    second = new_request(now=T0, email="clerk@agency-b.example")
    smtp_server.drop_after_store()
    report = await _drain(settings, sessions, T0)
    assert (report.uncertain, report.sent, report.connections) == (1, 1, 2)  # reconnected after the drop
    assert (_row(sessions, first).state, _row(sessions, second).state) == ("uncertain", "sent")
    assert len(smtp_server.messages) == 2


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _claimed_by(sessions, request_id: int, worker: str, *, started: bool, at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        row = s.scalars(select(Outbox).where(Outbox.request_id == request_id)).one()
        row.state, row.claimed_by, row.claimed_at, row.attempts = "sending", worker, at, 1
        row.smtp_started_at = at if started else None


async def test_rows_of_a_dead_worker_on_this_host_are_settled_without_waiting_for_the_lease(
    sessions, settings, smtp_server, new_request
) -> None:
    dead = f"{socket.gethostname()}:{_dead_pid()}"
    unstarted = new_request(now=T0)
    started = new_request(now=T0, email="clerk@agency-b.example")
    _claimed_by(sessions, unstarted, dead, started=False, at=T0)
    _claimed_by(sessions, started, dead, started=True, at=T0)
    report = await _drain(settings, sessions, T0 + dt.timedelta(seconds=30))
    # Never begun: sent now. Begun: nobody knows, so a person decides (never resent).
    assert (report.requeued, report.sent, report.uncertain) == (1, 1, 1)
    assert (_row(sessions, unstarted).state, _row(sessions, started).state) == ("sent", "uncertain")
    assert len(smtp_server.messages) == 1


async def test_a_stale_heartbeat_on_this_host_means_dead_a_fresh_one_or_another_host_does_not(
    sessions, settings, smtp_server, new_request
) -> None:
    stale, fresh, remote = new_request(now=T0), new_request(now=T0), new_request(now=T0)
    now = T0 + dt.timedelta(minutes=2)
    host = socket.gethostname()
    with time_machine.travel(T0, tick=False), sessions.begin() as s:
        # A custom worker id (no pid in it): only its heartbeat tells. Ours is alive as a process, so only
        # the stale beat can condemn it.
        publish(s, PREFIX + "desk-a", {"host": host, "pid": os.getpid()})
        publish(s, PREFIX + "far-away:1", {"host": "another-host.example", "pid": 999999})
    with time_machine.travel(now - dt.timedelta(seconds=5), tick=False), sessions.begin() as s:
        publish(s, PREFIX + "desk-b", {"host": host, "pid": os.getpid()})
    _claimed_by(sessions, stale, "desk-a", started=False, at=T0)
    _claimed_by(sessions, fresh, "desk-b", started=False, at=T0)
    _claimed_by(sessions, remote, "far-away:1", started=False, at=T0)
    report = await _drain(settings, sessions, now)
    assert (report.requeued, report.sent) == (1, 1)
    assert [_row(sessions, r).state for r in (stale, fresh, remote)] == ["sent", "sending", "sending"]
    assert len(smtp_server.messages) == 1


async def test_a_clean_pass_leaves_no_heartbeat_behind(sessions, settings, smtp_server, new_request) -> None:
    new_request(now=T0)
    await _drain(settings, sessions, T0)
    from agent.db.models import DaemonState

    with sessions() as s:
        assert s.scalars(select(DaemonState.name).where(DaemonState.name.startswith(PREFIX))).all() == []
