"""Inbound throughput: raw IMAP fetch+parse vs the full pipeline into the DB, and idle-poll latency.

Starts a throwaway Dovecot (tests/support/dovecot.py), seeds N realistic agency replies straight into
the user's Maildir (some with PDF letters), then measures in one run:
  (a) raw: imapclient BODY.PEEK[] in batches + agent.mail.parse.parse on every message;
  (b) pipeline: agent.inbound.poll.poll_once into SQLite or PostgreSQL (archive, rows, match, apply);
  (c) idle poll: poll_once with nothing new on an already open connection.
Last line: raw_msgs_per_s=N pipeline_msgs_per_s=N ratio=X idle_poll_ms=X n=N
`--stages` also prints where the pipeline's time goes, in milliseconds per message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from imapclient import IMAPClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from agent.config import (  # noqa: E402
    ArchiveSettings,
    AttachmentSettings,
    DatabaseSettings,
    ImapSettings,
    InboxSettings,
    RulesSettings,
    Secret,
    Settings,
)
from agent.db import migrate  # noqa: E402
from agent.db.models import Agency, Request  # noqa: E402
from agent.db.session import make_engine, make_session_factory  # noqa: E402
from agent.inbound.poll import poll_once  # noqa: E402
from agent.mail.inbox import Checkpoint, open_inbox  # noqa: E402
from agent.mail.parse import parse  # noqa: E402
from support.dovecot import PASSWORD, DovecotServer  # noqa: E402

AGENCIES = 40
REQUESTS_PER_AGENCY = 5
PDF_SHARE = 0.05
PG_ADMIN = os.environ.get("AGENT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

BODIES = [
    "Dear Records Desk,\n\nYour Public Records Request - {tn} - has been received by the City Clerk's Office.\n"
    "You will be notified on or before {date} regarding the status of your request.\n\nThank you,\nThe City Clerk's Office\n\n"
    "This email is in reference to issue {tn}. In case of any queries, you can respond to this email.\n",
    "Mr. Desk,\n\nThis email is in response to your request under the California Public Records Act. City staff is "
    "working diligently to search for and retrieve records. The City anticipates providing the requested records by "
    "{date}.\n\nIf you have further questions about this matter, please contact me.\n",
    "Dear Records Desk, please find the first batch of responsive records in the attached letter. Additional "
    "documents will be forwarded as they become available. Reference: {tn}\n",
    "Hello,\n\nDue to unusual circumstances an extension of the initial 10-day determination period is necessary "
    "(Government Code Section 7922.535). We expect to respond by {date}.\n\nRegards,\nRecords Unit\n",
]


def make_messages(n: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    pdf = b"%PDF-1.4\n" + bytes(rng.getrandbits(8) for _ in range(100_000)) + b"\n%%EOF\n"
    out = []
    for i in range(n):
        agency = rng.randrange(AGENCIES)
        req = agency * REQUESTS_PER_AGENCY + rng.randrange(REQUESTS_PER_AGENCY) + 1
        msg = EmailMessage()
        msg["From"] = f"Records Unit <records@agency{agency}.example.gov>"
        # Most replies go to the request's own address; some only carry its reference or tracking number.
        style = rng.random()
        msg["To"] = f"records+ra-2025-{req:04d}-bench@example.org" if style < 0.7 else "records@example.org"
        subject = f"RE: [RA-2025-{req:04d}] Public records request" if style < 0.85 else "Public records request update"
        msg["Subject"] = subject
        msg["Date"] = format_datetime(dt.datetime(2025, 2, 11, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i))
        msg["Message-ID"] = f"<bench-{i}-{uuid.uuid4().hex[:8]}@agency{agency}.example.gov>"
        body = rng.choice(BODIES).format(tn=f"CRM-25-{req:04d}", date="03/07/2025")
        msg.set_content(body)
        if rng.random() < PDF_SHARE:
            msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"Response Letter {i}.pdf")
        out.append(msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    return out


def seed_maildir(server: DovecotServer, user: str, messages: list[bytes]) -> None:
    """Write straight into Maildir/cur (much faster than APPEND); Dovecot indexes them on first SELECT."""
    maildir = server.maildir(user)
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    for i, raw in enumerate(messages):
        (maildir / "cur" / f"{now}.M{i}P{os.getpid()}Q{i}.bench,S={len(raw)}:2,").write_bytes(raw)
    if os.geteuid() == 0:
        for path in [server.base / "mail" / user, *(server.base / "mail" / user).rglob("*")]:
            os.chown(path, 65534, 65534)


def seed_db(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        for a in range(AGENCIES):
            agency = Agency(name=f"Agency {a}", jurisdiction="CA", domains=[f"agency{a}.example.gov"])
            s.add(agency)
            s.flush()
            for r in range(REQUESTS_PER_AGENCY):
                number = a * REQUESTS_PER_AGENCY + r + 1
                s.add(Request(reference=f"RA-2025-{number:04d}", agency_id=agency.id, jurisdiction="CA", state="sent",
                              reply_address=f"records+ra-2025-{number:04d}-bench@example.org",
                              message_id=f"<req-{number}@example.org>"))
    engine.dispose()


def database_url(kind: str, work: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{work / 'bench.db'}", None
    name = f"ra_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - say what is missing instead of a driver traceback
        raise SystemExit(f"PostgreSQL not reachable at {PG_ADMIN} (set AGENT_TEST_PG): {exc}".splitlines()[0]) from None
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def drop_pg(name: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def raw_fetch_parse(server: DovecotServer, user: str, batch: int) -> tuple[int, float]:
    started = time.perf_counter()
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(user, PASSWORD)
    client.select_folder("INBOX", readonly=True)
    uids = sorted(client.search(["ALL"]))
    count = 0
    for start in range(0, len(uids), batch):
        response = client.fetch(uids[start : start + batch], ["BODY.PEEK[]"])
        for data in response.values():
            parse(bytes(data[b"BODY[]"]))
            count += 1
    client.logout()
    return count, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="messages to load (default 10000)")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--batch", type=int, default=500, help="UIDs per FETCH")
    parser.add_argument("--stages", action="store_true", help="also print where the pipeline's time goes, per message")
    args = parser.parse_args()
    stage_clock = StageClock() if args.stages else None

    work = Path(tempfile.mkdtemp(prefix="ra-bench-"))
    server = DovecotServer()
    pg_name = None
    try:
        server.start()
        user = f"bench{uuid.uuid4().hex[:6]}"
        t0 = time.perf_counter()
        messages = make_messages(args.n)
        seed_maildir(server, user, messages)
        size_mb = sum(map(len, messages)) / 1e6
        print(f"seeded {args.n} messages ({size_mb:.1f} MB) in {time.perf_counter() - t0:.1f}s", flush=True)

        count, raw_s = raw_fetch_parse(server, user, args.batch)
        raw_rate = count / raw_s
        print(f"(a) raw fetch+parse: {count} msgs in {raw_s:.2f}s = {raw_rate:.0f} msg/s", flush=True)

        url, pg_name = database_url(args.db, work)
        seed_db(url)
        os.environ["AGENT_BENCH_IMAP_PASSWORD"] = PASSWORD
        settings = Settings(
            database=DatabaseSettings(url=url),
            archive=ArchiveSettings(path=work / "mailbox"),
            attachments=AttachmentSettings(path=work / "attachments"),
            inbox=InboxSettings(
                backend="imap",
                account="bench",
                imap=ImapSettings(host=server.host, port=server.port, security="plain", username=user,
                                  password=Secret(env="AGENT_BENCH_IMAP_PASSWORD"), batch_size=args.batch),
            ),
            rules=RulesSettings(path=ROOT / "rules"),
        )
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        inbox = open_inbox(settings)
        rules = _understand_rules(settings)
        started = time.perf_counter()
        report = poll_once(settings, sessions, inbox, rules=rules)
        pipe_s = time.perf_counter() - started
        pipe_rate = report.new / pipe_s if pipe_s else 0.0
        print(f"(b) pipeline ({args.db}): {report.line()} in {pipe_s:.2f}s = {pipe_rate:.0f} msg/s", flush=True)
        if stage_clock is not None:
            print("    " + stage_clock.summary(report.new), flush=True)
            stage_clock.stop()

        samples = []
        for _ in range(200):
            t = time.perf_counter()
            idle = poll_once(settings, sessions, inbox, rules=rules)
            samples.append((time.perf_counter() - t) * 1000)
            assert idle.new == 0 and idle.duplicates == 0
        idle_ms = statistics.median(samples)
        inbox_only = []
        last = inbox.uidvalidity  # type: ignore[attr-defined]
        for _ in range(200):
            t = time.perf_counter()
            inbox.new_uids(Checkpoint(uidvalidity=last, last_uid=args.n))  # type: ignore[attr-defined]
            inbox_only.append((time.perf_counter() - t) * 1000)
        print(f"    of which IMAP NOOP+UID SEARCH: median {statistics.median(inbox_only):.3f} ms", flush=True)
        print(f"(c) idle poll on an open connection: median {idle_ms:.3f} ms, p95 "
              f"{sorted(samples)[int(len(samples) * 0.95)]:.3f} ms", flush=True)
        inbox.close()
        engine.dispose()
        ratio = pipe_rate / raw_rate if raw_rate else 0.0
        print(f"raw_msgs_per_s={raw_rate:.0f} pipeline_msgs_per_s={pipe_rate:.0f} ratio={ratio:.2f} "
              f"idle_poll_ms={idle_ms:.3f} n={args.n}")
        return 0
    finally:
        server.cleanup()
        if pg_name:
            drop_pg(pg_name)
        shutil.rmtree(work, ignore_errors=True)


class StageClock:
    """Wall time spent in each pipeline stage, by wrapping the stage functions for the length of the run."""

    STAGES = (
        ("agent.inbound.poll", "record_batch", "archive+record"),
        ("agent.inbound.process", "parse", "parse"),
        ("agent.inbound.process", "build_match_index", "match lookups"),
        ("agent.inbound.process", "match", "match"),
        ("agent.inbound.process", "understand", "understand"),
        ("agent.inbound.process", "apply_message", "apply"),
        ("agent.inbound.transactions", "_process_in", "per message total"),
        ("agent.inbound.poll", "process_rows", "processing total"),
    )

    def __init__(self) -> None:
        import importlib

        self.spent: dict[str, float] = {}
        self._restore: list[tuple[object, str, object]] = []
        for module_name, name, label in self.STAGES:
            module = importlib.import_module(module_name)
            original = getattr(module, name)
            self._restore.append((module, name, original))
            setattr(module, name, self._timed(original, label))

    def _timed(self, func, label: str):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - started
        return run

    def summary(self, n: int) -> str:
        per = {label: 1000 * self.spent.get(label, 0.0) / max(n, 1) for _, _, label in self.STAGES}
        return "ms per message: " + ", ".join(f"{label} {ms:.2f}" for label, ms in per.items())

    def stop(self) -> None:
        for module, name, original in self._restore:
            setattr(module, name, original)


def _understand_rules(settings: Settings):  # type: ignore[no-untyped-def]
    try:
        from agent.pipeline.understand import load_understand_rules
    except ModuleNotFoundError:
        return None
    return load_understand_rules(settings.rules_path)


if __name__ == "__main__":
    raise SystemExit(main())
