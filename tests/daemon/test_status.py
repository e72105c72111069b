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
