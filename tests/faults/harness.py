"""Run real daemons as subprocesses against Dovecot, aiosmtpd and a database, and check the books afterwards."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from support import configs
from sqlalchemy.orm import Session, sessionmaker

from agent.compose.message import build_message
from agent.db.models import Agency, Event, Message, Outbox, Request
from agent.outbox.queue import enqueue
from agent.requests.lifecycle import mark_sent

REPO = Path(__file__).resolve().parents[2]
PASSWORD_ENV = "AGENT_FAULT_IMAP_PW"
US = "records@example.org"
AGENCY = "clerk@agency.example"


def write_daemon_config(folder: Path, db_url: str, imap, smtp, *, idle: bool = False, ticks: float = 0.2) -> Path:
    """A daemon on the test IMAP account and SMTP server, ticking fast; the deadline scan stays out of the way."""
    imap_section = {
        "host": imap.host, "port": imap.port, "security": "plain", "username": imap.user,
        "password": {"env": PASSWORD_ENV}, "idle": idle, "batch_size": 25, "timeout_seconds": 5,
    }
    return configs.write_config(
        folder,
        db_url,
        inbox={"backend": "imap", "imap": imap_section},
        smtp={"host": smtp.host, "port": smtp.port, "security": "plain", "timeout_seconds": 5, "per_agency_per_hour": 100000,
              "per_minute": 100000, "per_day": 100000},
        identity={"address": US},
        schedule={"poll_seconds": ticks, "outbox_seconds": ticks, "deadline_scan_seconds": 3600},
    )


@dataclass
class Seeded:
    outbound: list[str] = field(default_factory=list)  # Message-IDs queued for sending
    inbound: list[bytes] = field(default_factory=list)  # replies to deliver into the IMAP inbox
    inbound_ids: list[str] = field(default_factory=list)


def seed(sessions: sessionmaker[Session], *, n_out: int, n_in: int, prefix: str = "") -> Seeded:
    """n_out requests waiting in the outbox, and n_in sent requests with an acknowledgment each to deliver."""
    seeded = Seeded()
    now = dt.datetime.now(dt.timezone.utc)
    with sessions.begin() as session:
        agency = session.scalar(select(Agency).where(Agency.name == "Agency"))
        if agency is None:
            agency = Agency(name="Agency", jurisdiction="CA", emails=[AGENCY], domains=["agency.example"])
            session.add(agency)
            session.flush()
        start = session.query(Request).count()
        for i in range(start, start + n_out + n_in):
            ref = f"RA-2025-{i + 1:04d}"
            reply = f"records+{ref.lower()}-{prefix}t{i}@example.org"
            request = Request(
                reference=ref, agency_id=agency.id, state="queued", jurisdiction="CA", reply_address=reply, subject=f"[{ref}] Records"
            )
            session.add(request)
            session.flush()
            msg = build_message(
                sender_name="Records Desk", sender_address=US, to=[AGENCY], subject=request.subject,
                text=f"Please send the records for {ref}.\n", reply_to=reply,
            )
            request.message_id = msg["Message-ID"]
            if len(seeded.outbound) < n_out:
                enqueue(session, msg, kind="request", request_id=request.id, agency_id=agency.id)
                seeded.outbound.append(msg["Message-ID"])
                continue
            # Already sent earlier: its clock runs and the agency's acknowledgment is on its way.
            mark_sent(session, request, now, rules_dir=REPO / "rules")
            answer = build_message(
                sender_name="City Clerk", sender_address=AGENCY, to=[reply], subject=f"RE: {request.subject}",
                text=f"We have received your public records request {ref} and will respond within the time the law allows.\n",
                in_reply_to=request.message_id, references=[request.message_id],
                extra_headers=[("Delivered-To", reply)],
            )
            seeded.inbound.append(answer.as_bytes())
            seeded.inbound_ids.append(answer["Message-ID"])
    return seeded


class Daemon:
    """`agent run` in a subprocess, its JSON log in a file."""

    def __init__(self, config: Path, worker_id: str, log: Path) -> None:
        self.log = log
        env = {**os.environ, PASSWORD_ENV: "pw", "AGENT_WORKER_ID": worker_id}
        self._fh = log.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "--config", str(config), "run"], stdout=self._fh, stderr=self._fh, env=env
        )

    def started(self) -> bool:
        return "daemon started" in self.log.read_text(errors="replace")

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._fh.close()

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(timeout=timeout)
        self._fh.close()
        return code

    def messages(self) -> list[str]:
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line)["msg"])
                except (ValueError, KeyError):
                    continue
        return lines


def wait_until(predicate, seconds: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def all_settled(sessions: sessionmaker[Session], seeded: Seeded) -> bool:
    with sessions() as s:
        open_out = s.scalar(
            select(Outbox.id).where(Outbox.message_id.in_(seeded.outbound), Outbox.state.in_(("queued", "sending"))).limit(1)
        )
        done_in = s.scalars(
            select(Message.message_id).where(Message.direction == "in", Message.status != "new")
        ).all()
    return open_out is None and set(seeded.inbound_ids) <= set(done_in)


@dataclass
class Books:
    sent: int
    uncertain: int
    received_twice: list[str]
    lost_out: list[str]
    lost_in: list[str]
    inbound_rows: int
    processed_twice: list[int]
    not_settled: int


def audit(sessions: sessionmaker[Session], seeded: Seeded, received_ids: list[str | None]) -> Books:
    received = Counter(r for r in received_ids if r)
    with sessions() as s:
        rows = {r.message_id: r for r in s.scalars(select(Outbox).where(Outbox.message_id.in_(seeded.outbound)))}
        inbound = s.scalars(select(Message).where(Message.direction == "in")).all()
        events = Counter(
            (e.message_row_id, e.kind, e.to_state)
            for e in s.scalars(select(Event).where(Event.message_row_id.is_not(None)))
            if e.message_row_id in {m.id for m in inbound}
        )
    by_id = {m.message_id: m for m in inbound}
    return Books(
        sent=sum(1 for r in rows.values() if r.state == "sent"),
        uncertain=sum(1 for r in rows.values() if r.state == "uncertain"),
        received_twice=sorted(mid for mid, n in received.items() if n > 1),
        # Lost: neither delivered nor set aside for a person.
        lost_out=sorted(mid for mid in seeded.outbound if received[mid] == 0 and (rows.get(mid) is None or rows[mid].state != "uncertain")),
        lost_in=sorted(mid for mid in seeded.inbound_ids if mid not in by_id),
        inbound_rows=len(inbound),
        processed_twice=sorted({key[0] for key, n in events.items() if n > 1}),
        not_settled=sum(1 for m in inbound if m.status == "new"),
    )
