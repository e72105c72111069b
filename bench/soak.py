"""Soak: a real `agent run` over a database of 100,000 requests and a steady stream of mail in and out.

Prints the daemon's resident memory over time and the throughput; the goal is RSS < 150 MB and flat.
Last line: rss_start_mb=X rss_end_mb=X rss_max_mb=X msgs_per_s=X requests=N

    python bench/soak.py [--requests 100000] [--seconds 120] [--rate 40] [--db sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import mailbox
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text

from agent.compose.message import build_message
from agent.db import migrate
from agent.db.models import Agency, Message, Outbox, Request
from agent.db.session import make_engine, make_session_factory
from agent.demo.postoffice import SmtpServer
from agent.outbox.queue import enqueue

REPO = Path(__file__).resolve().parents[1]
US = "records@example.org"
PG_SERVER = os.environ.get("AGENT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def database_url(kind: str, workdir: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'soak.db'}", None
    name = f"ra_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}", name


def seed_requests(sessions, n: int, agencies: int = 1000) -> list[str]:
    """n open requests spread over `agencies` agencies, their next actions spread over the coming year."""
    today = dt.date.today()
    now = dt.datetime.now(dt.timezone.utc)
    with sessions.begin() as s:
        s.execute(
            insert(Agency),
            [
                {"name": f"Agency {a}", "jurisdiction": "CA", "emails": [f"clerk@agency{a}.example"],
                 "domains": [f"agency{a}.example"], "tracking_patterns": []}
                for a in range(agencies)
            ],
        )
        ids = list(s.scalars(select(Agency.id).order_by(Agency.id)))
    replies: list[str] = []
    rows = []
    for i in range(n):
        ref = f"RA-2025-{i + 1:06d}"
        reply = f"records+{ref.lower()}-s{i}@example.org"
        replies.append(reply)
        rows.append({
            "reference": ref, "agency_id": ids[i % agencies], "state": "sent", "jurisdiction": "CA",
            "subject": f"[{ref}] Records", "body": "", "reply_address": reply, "variables": {}, "flags": {},
            "filed_at": now, "clock_start": today, "due_date": today + dt.timedelta(days=10),
            "next_action_date": today + dt.timedelta(days=30 + i % 330),
        })
    for start in range(0, n, 5000):
        with sessions.begin() as s:
            s.execute(insert(Request), rows[start:start + 5000])
    return replies


def write_config(workdir: Path, url: str, smtp_port: int) -> Path:
    path = workdir / "config.toml"
    path.write_text(
        f"""
[database]
url = "{url}"
[inbox]
backend = "maildir"
maildir = "inbox"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "plain"
per_agency_per_hour = 100000
per_minute = 100000
per_day = 100000
[identity]
address = "{US}"
[schedule]
poll_seconds = 0.5
outbox_seconds = 0.5
deadline_scan_seconds = 10
[rules]
path = "{REPO / 'rules'}"
[daemon]
status_file = "status.json"
log_format = "json"
log_level = "WARNING"
""",
        encoding="utf-8",
    )
    return path


class Feeder(threading.Thread):
    """Delivers agency replies into the Maildir inbox and queues outgoing letters at a steady rate."""

    def __init__(self, workdir: Path, sessions, replies: list[str], rate: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.inbox = mailbox.Maildir(workdir / "inbox", factory=None, create=True)
        self.sessions = sessions
        self.replies = replies
        self.rate = rate
        self.stop = stop
        self.delivered = 0
        self.queued = 0
        self.rng = random.Random(7)
        self.bodies = [
            "We have received your public records request and will respond within the time the law allows.",
            "Due to unusual circumstances we need more time; we will respond on or before {date}.",
            "Please find the first batch of responsive records attached. More records will follow.",
            "After a diligent search, we found no records responsive to your request.",
            "The estimated cost to fulfil your request is $25.00. Please send a deposit before we proceed.",
        ]

    def run(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self.stop.is_set():
            i = self.rng.randrange(len(self.replies))
            reply = self.replies[i]
            body = self.rng.choice(self.bodies).format(date=(dt.date.today() + dt.timedelta(days=14)).strftime("%m/%d/%Y"))
            msg = build_message(
                sender_name="City Clerk", sender_address=f"clerk@agency{i % 1000}.example", to=[reply],
                subject=f"RE: [RA-2025-{i + 1:06d}] Records", text=f"Dear requester,\n\n{body}\n\nCity Clerk\n",
                extra_headers=[("Delivered-To", reply)],
            )
            self.inbox.add(msg.as_bytes())
            self.delivered += 1
            if self.delivered % 4 == 0:  # one outgoing letter for every four replies
                out = build_message(
                    sender_name="Records Desk", sender_address=US, to=[f"clerk@agency{i % 1000}.example"],
                    subject=f"[RA-2025-{i + 1:06d}] Follow-up", text="A polite reminder.\n",
                )
                with self.sessions.begin() as s:
                    enqueue(s, out, kind="reply", request_id=None, agency_id=None)
                self.queued += 1
            next_at += interval
            self.stop.wait(max(0.0, next_at - time.monotonic()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--rate", type=float, default=40, help="inbound messages per second (plus one outgoing per four)")
    ap.add_argument("--sample", type=float, default=10, help="seconds between RSS samples")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = ap.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="ra-soak-"))
    url, pg_name = database_url(args.db, workdir)
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    t0 = time.monotonic()
    replies = seed_requests(sessions, args.requests)
    print(f"seeded {args.requests} requests in {time.monotonic() - t0:.1f}s ({args.db}, {workdir})", flush=True)

    smtp = SmtpServer()
    port = smtp.start()
    config = write_config(workdir, url, port)
    log = (workdir / "daemon.log").open("w")
    daemon = subprocess.Popen([sys.executable, "-m", "agent", "--config", str(config), "run"], stdout=log, stderr=log)
    stop = threading.Event()
    feeder = Feeder(workdir, sessions, replies, args.rate, stop)
    samples: list[float] = []
    try:
        time.sleep(3)  # imports and the first ticks
        if daemon.poll() is not None:
            raise SystemExit(f"daemon exited early: see {workdir / 'daemon.log'}")
        samples.append(rss_mb(daemon.pid))
        print(f"t=0s rss_mb={samples[-1]:.1f}", flush=True)
        feeder.start()
        start = time.monotonic()
        with sessions() as s:
            base_in = s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in", Message.status != "new")) or 0
        while time.monotonic() - start < args.seconds:
            time.sleep(min(args.sample, args.seconds - (time.monotonic() - start)))
            samples.append(rss_mb(daemon.pid))
            with sessions() as s:
                done_in = (s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in", Message.status != "new")) or 0) - base_in
                sent = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.state == "sent")) or 0
            print(
                f"t={time.monotonic() - start:.0f}s rss_mb={samples[-1]:.1f} delivered={feeder.delivered} "
                f"processed={done_in} queued_out={feeder.queued} sent={sent}",
                flush=True,
            )
        stop.set()
        feeder.join()
        # Let the daemon catch up with what was delivered, then measure what it got through.
        elapsed = time.monotonic() - start
        catch_up = time.monotonic() + 60
        while time.monotonic() < catch_up:
            with sessions() as s:
                done_in = (s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in", Message.status != "new")) or 0) - base_in
                sent = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.state == "sent")) or 0
            if done_in >= feeder.delivered and sent >= feeder.queued:
                break
            time.sleep(0.5)
        total_elapsed = time.monotonic() - start
        samples.append(rss_mb(daemon.pid))
    finally:
        stop.set()
        daemon.terminate()
        code = daemon.wait(timeout=120)
        log.close()
        smtp.stop()
        engine.dispose()
        if pg_name:
            admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()
    msgs = done_in + sent
    print(f"daemon exit code {code}; {done_in} inbound processed, {sent} sent in {total_elapsed:.1f}s (feed ran {elapsed:.0f}s)")
    print(
        f"rss_start_mb={samples[0]:.1f} rss_end_mb={samples[-1]:.1f} rss_max_mb={max(samples):.1f} "
        f"msgs_per_s={msgs / total_elapsed:.1f} requests={args.requests}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
