"""What the daemon tells `agent status`: DaemonState rows in the database and a JSON status file beside it.

Names written (each value a JSON object): `daemon` (pid, host, started_at, state), `poll`, `send`,
`scan`, `digest` (the last run of each job: at, ok, counts), `errors` (the most recent failures),
`queues` (outbox queued/failed, review open, messages new/quarantined), `next_jobs` (job id ->
next run time) and, while sending is paused, `outbox_pause` (reason, since, until, failures). The
status file holds the same names plus `updated_at`; [daemon] metrics_file the same figures for Prometheus.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from agent.db.models import DaemonState, Message, Outbox, ReviewItem

MAX_ERRORS = 20


def publish(session: Session, name: str, value: dict[str, Any]) -> None:
    """Upsert one named fact in the caller's transaction; two daemons writing the same name never collide."""
    value = json.loads(json.dumps(value, default=_json_default))
    dialect = session.get_bind().dialect.name
    now = utcnow()
    if dialect == "postgresql":
        pg = pg_insert(DaemonState).values(name=name, value=value, updated_at=now)
        session.execute(
            pg.on_conflict_do_update(
                index_elements=[DaemonState.name], set_={"value": pg.excluded.value, "updated_at": pg.excluded.updated_at}
            )
        )
    elif dialect == "sqlite":
        lite = sqlite_insert(DaemonState).values(name=name, value=value, updated_at=now)
        session.execute(
            lite.on_conflict_do_update(
                index_elements=[DaemonState.name],
                set_={"value": lite.excluded.value, "updated_at": lite.excluded.updated_at},
            )
        )
    else:
        row = session.get(DaemonState, name)
        if row is None:
            session.add(DaemonState(name=name, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now
        session.flush()


def record_error(session: Session, job: str, message: str, *, now: dt.datetime | None = None) -> None:
    """Keep the last few failures, newest first, so an operator sees what went wrong without reading logs."""
    row = session.get(DaemonState, "errors", populate_existing=True)
    items = list((row.value or {}).get("items", [])) if row else []
    items.insert(0, {"at": (now or utcnow()).isoformat(), "job": job, "error": message[:500]})
    publish(session, "errors", {"count": int((row.value or {}).get("count", 0) if row else 0) + 1, "items": items[:MAX_ERRORS]})


def queue_sizes(session: Session) -> dict[str, int]:
    def count(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    return {
        "outbox_queued": count(select(func.count()).select_from(Outbox).where(Outbox.state.in_(("queued", "sending")))),
        "outbox_failed": count(select(func.count()).select_from(Outbox).where(Outbox.state.in_(("failed", "uncertain")))),
        "review_open": count(select(func.count()).select_from(ReviewItem).where(ReviewItem.state == "open")),
        "messages_new": count(select(func.count()).select_from(Message).where(Message.status == "new")),
        "messages_quarantined": count(select(func.count()).select_from(Message).where(Message.status == "quarantined")),
    }


def snapshot(session: Session) -> dict[str, Any]:
    """Every DaemonState row as {name: value}, plus when each was written."""
    rows = session.scalars(select(DaemonState).execution_options(populate_existing=True)).all()
    # `worker:*` rows are the outbox's liveness beats, not status.
    return {r.name: {**(r.value or {}), "updated_at": _iso(r.updated_at)} for r in rows if not r.name.startswith("worker:")}


def write_status_file(path: Path, data: dict[str, Any]) -> None:
    """Write to a temporary file in the same folder, fsync, then rename: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({**data, "updated_at": utcnow().isoformat()}, indent=2, default=_json_default, sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(payload + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_status_file(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    return str(value)
