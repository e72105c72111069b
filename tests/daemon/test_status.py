"""Status: DaemonState rows upserted in the caller's transaction, the status file replaced atomically."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from agent.daemon import status
from agent.db.models import DaemonState, Outbox


def test_publish_upserts_rows(sessions) -> None:
    with sessions.begin() as s:
        status.publish(s, "poll", {"new": 2})
    with sessions.begin() as s:
        status.publish(s, "poll", {"new": 5})
    with sessions() as s:
        rows = s.scalars(select(DaemonState)).all()
        assert [(r.name, r.value) for r in rows] == [("poll", {"new": 5})]
        assert status.snapshot(s)["poll"]["new"] == 5


def test_errors_keep_the_most_recent(sessions) -> None:
    for i in range(status.MAX_ERRORS + 5):
        with sessions.begin() as s:
            status.record_error(s, "send", f"boom {i}")
    with sessions() as s:
        errors = s.get(DaemonState, "errors").value
    assert errors["count"] == status.MAX_ERRORS + 5
    assert len(errors["items"]) == status.MAX_ERRORS
    assert errors["items"][0]["error"] == f"boom {status.MAX_ERRORS + 4}"


def test_queue_sizes_count_rows(sessions) -> None:
    with sessions.begin() as s:
        for i, state in enumerate(["queued", "queued", "sent", "failed"]):
            s.add(Outbox(message_id=f"<m{i}@x>", kind="request", sender="a@x", recipients=["b@y"], raw=b"x", state=state))
    with sessions() as s:
        sizes = status.queue_sizes(s)
    assert sizes["outbox_queued"] == 2 and sizes["outbox_failed"] == 1 and sizes["review_open"] == 0


def test_status_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "run" / "status.json"
    status.write_status_file(path, {"poll": {"new": 1}})
    status.write_status_file(path, {"poll": {"new": 2}, "when": status.utcnow()})
    data = json.loads(path.read_text())
    assert data["poll"] == {"new": 2} and "updated_at" in data
    assert [p.name for p in path.parent.iterdir()] == ["status.json"]  # no temporary file left behind
    assert status.read_status_file(path) == data
    assert status.read_status_file(tmp_path / "missing.json") is None


# ---- health for monitoring, and the Prometheus textfile ------------------------------------------

import datetime as dt  # noqa: E402

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from agent.daemon.metrics import write_metrics_file  # noqa: E402
from agent.operators.status import read_health  # noqa: E402

NOW = dt.datetime(2025, 3, 3, 17, 0, tzinfo=dt.timezone.utc)


def _publish_healthy(sessions, poll_age: dt.timedelta) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        status.publish(s, "daemon", {"state": "running", "pid": 7, "at": NOW.isoformat()})
        status.publish(s, "poll", {"at": (NOW - poll_age).isoformat(), "ok": True, "new": 2})
        status.publish(s, "send", {"at": NOW.isoformat(), "ok": True, "sent": 3, "seconds": 0.25})


def _health(sessions):  # type: ignore[no-untyped-def]
    with sessions() as s:
        return read_health(s, None, now=NOW, stale_after=dt.timedelta(days=1), poll_stale_after=dt.timedelta(minutes=3))


def test_health_is_good_with_a_recent_poll_and_no_failure(sessions) -> None:
    _publish_healthy(sessions, dt.timedelta(minutes=1))
    health = _health(sessions)
    assert health.healthy and health.problems == () and health.as_json()["healthy"] is True


def test_a_stale_poll_a_failed_job_and_a_paused_outbox_are_each_unhealthy(sessions) -> None:
    _publish_healthy(sessions, dt.timedelta(minutes=10))
    assert _health(sessions).problems == ("the last inbox poll was 10 min ago",)
    _publish_healthy(sessions, dt.timedelta(minutes=1))
    with sessions.begin() as s:
        status.publish(s, "scan", {"at": NOW.isoformat(), "ok": False, "error": "OperationalError: disk full"})
    assert _health(sessions).problems == ("the last scan failed: OperationalError: disk full",)
    with sessions.begin() as s:
        status.publish(s, "scan", {"at": NOW.isoformat(), "ok": True})
        status.publish(s, "outbox_pause", {"paused": True, "reason": "login refused: 535", "since": NOW.isoformat(),
                                           "until": (NOW + dt.timedelta(minutes=2)).isoformat(), "failures": 1})
    (problem,) = _health(sessions).problems
    assert problem.startswith("the outbox is paused until 2025-03-03 17:02:00 UTC") and "535" in problem
    with sessions.begin() as s:  # a pause that has run out is no longer news
        status.publish(s, "outbox_pause", {"paused": True, "reason": "x", "since": NOW.isoformat(),
                                           "until": (NOW - dt.timedelta(seconds=1)).isoformat(), "failures": 1})
    assert _health(sessions).healthy


def test_nothing_published_is_unhealthy(sessions) -> None:
    assert _health(sessions).problems == ("the daemon has published nothing yet",)


def test_metrics_textfile_carries_the_status_figures(sessions, tmp_path: Path) -> None:
    _publish_healthy(sessions, dt.timedelta(minutes=1))
    with sessions.begin() as s:
        status.record_error(s, "poll", "TimeoutError: slow")
        status.publish(s, "queues", {"outbox_queued": 4, "review_open": 2})
        status.publish(s, "outbox_pause", {"paused": True, "reason": "refused", "since": NOW.isoformat(),
                                           "until": (NOW + dt.timedelta(minutes=5)).isoformat(), "failures": 2})
        status.publish(s, "worker:host:1", {"host": "host", "pid": 1})
    with sessions() as s:
        snap = status.snapshot(s)
    assert "worker:host:1" not in snap  # liveness beats are not status
    path = tmp_path / "textfile" / "records_agent.prom"
    write_metrics_file(path, {**snap, "process": {"counters": {"polls": 5}}}, NOW)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(path.read_text())
        for sample in family.samples
    }
    assert samples[("records_agent_up", ())] == 1
    assert samples[("records_agent_job_last_run_ok", (("job", "send"),))] == 1
    assert samples[("records_agent_job_last_run_items", (("figure", "sent"), ("job", "send")))] == 3
    assert samples[("records_agent_job_last_run_timestamp_seconds", (("job", "poll"),))] == (NOW - dt.timedelta(minutes=1)).timestamp()
    assert samples[("records_agent_queue_size", (("queue", "outbox_queued"),))] == 4
    assert samples[("records_agent_errors_total", ())] == 1
    assert samples[("records_agent_outbox_paused", ())] == 1
    assert samples[("records_agent_process_runs_total", (("counter", "polls"),))] == 5
    assert [p.name for p in path.parent.iterdir()] == ["records_agent.prom"]  # no temporary file left behind


async def test_the_daemon_writes_the_textfile_with_its_status(sqlite_url: str, tmp_path: Path) -> None:
    from agent.config import load_settings
    from agent.daemon.run import build_jobs
    from agent.db import migrate
    from support.configs import write_config

    daemon = {"status_file": "status.json", "metrics_file": "metrics/agent.prom", "log_format": "json"}
    settings = load_settings(write_config(tmp_path / "cfg", sqlite_url, daemon=daemon))
    assert settings.daemon.metrics_file == tmp_path / "cfg" / "metrics" / "agent.prom"  # beside the config
    jobs = build_jobs(settings, worker_id="w1")
    migrate.upgrade(jobs.engine)
    try:
        jobs._poll_sync = lambda: {"new": 4}  # type: ignore[method-assign]
        await jobs.poll()
    finally:
        jobs.close()
        jobs.engine.dispose()
    text = settings.daemon.metrics_file.read_text()
    assert 'records_agent_job_last_run_items{figure="new",job="poll"} 4.0' in text
    assert 'records_agent_process_runs_total{counter="polls"} 1.0' in text
