"""Run the demo: file requests with simulated agencies, then let the daemon's own jobs work through the weeks.

The clock is accelerated with time-machine: every simulated day the agencies deliver what they
would have sent that day, then the daemon's jobs (the same objects `agent run` schedules) poll,
scan deadlines and send. The simulation ends at the present moment, so timestamps the database
writes itself agree with the simulated ones.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from rich.console import Console
from sqlalchemy import func, select

from agent.config import Settings, load_settings
from agent.daemon.jobs import Jobs, stage
from agent.daemon.logging_setup import setup_logging
from agent.daemon.run import build_jobs
from agent.db import migrate
from agent.db.models import Agency, Message, Outbox, Request
from agent.demo import postoffice
from agent.demo.agencies import AGENCIES, Filed, Reply, SimAgency
from agent.demo.workspace import OPERATOR, Workspace, create_workspace

TEMPLATE = "cpra_general"
VARIABLES = {
    "topic": "automated license plate reader (ALPR) data sharing and audits",
    "records": (
        "1. The names of agencies and organizations with which the agency shares ALPR data, and from which it receives it.\n"
        "2. The aggregate number of ALPR detections and hits for each year from 2022 to today.\n"
        "3. Audits of ALPR searches, including the stated reason for each search."
    ),
}


@dataclass(frozen=True)
class DemoResult:
    requests: int
    replies: int
    classified: int
    folded: int
    followups: int
    digest: Path | None
    config: Path
    seconds: float

    def last_line(self) -> str:
        digest = str(self.digest) if self.digest else "none"
        return (
            f"demo: requests={self.requests} replies={self.replies} classified={self.classified} "
            f"folded={self.folded} followups={self.followups} digest={digest} config={self.config}"
        )


@dataclass
class _World:
    """The simulated side: who has our request, and which replies are still to come."""

    by_email: dict[str, SimAgency]
    filed: dict[str, Filed] = field(default_factory=dict)
    pending: list[tuple[dt.datetime, SimAgency, Filed, Reply]] = field(default_factory=list)
    followups_received: dict[str, int] = field(default_factory=dict)
    digest_path: Path | None = None


def run_demo(*, workdir: Path | None = None, days: int = 24, console: Console | None = None) -> DemoResult:
    console = console or Console(highlight=False)
    started = time.monotonic()
    smtp = postoffice.SmtpServer()
    port = smtp.start()
    try:
        ws = create_workspace(workdir, port)
        settings = load_settings(ws.config)
        log_stream = ws.log.open("a", encoding="utf-8")
        try:
            setup_logging(settings, stream=log_stream)
            tz = ZoneInfo(settings.schedule.timezone)
            end = dt.datetime.now(tz)
            first_day = end.date() - dt.timedelta(days=days)
            console.print(f"[bold]records-agent demo[/] · workspace {ws.root}")
            console.print(
                f"  {len(AGENCIES)} simulated agencies, {days} simulated days "
                f"({first_day.isoformat()} → {end.date().isoformat()}), SMTP on 127.0.0.1:{port}, Maildir inbox"
            )
            # Requests go out at 08:30 on the first day; the simulation ends at the real present moment.
            with time_machine.travel(dt.datetime.combine(first_day, dt.time(8, 30), tz), tick=True) as traveller:
                world = asyncio.run(_simulate(ws, settings, smtp, traveller, first_day, end, tz, console))
        finally:
            log_stream.close()
    finally:
        smtp.stop()
    result = _tally(settings, ws, world.digest_path, time.monotonic() - started)
    _explore_hints(console, ws, settings)
    return result


async def _simulate(
    ws: Workspace,
    settings: Settings,
    smtp: postoffice.SmtpServer,
    traveller: time_machine.Traveller,
    first_day: dt.date,
    end: dt.datetime,
    tz: ZoneInfo,
    console: Console,
) -> _World:
    jobs = build_jobs(settings)
    migrate.upgrade(jobs.engine)
    world = _World(by_email={a.email: a for a in AGENCIES})
    _file_requests(jobs, settings, console)
    last_seen = 0
    try:
        for day in range((end.date() - first_day).days + 1):
            today = first_day + dt.timedelta(days=day)
            # Two ticks a day: morning (mail, deadlines, sending) and late afternoon (the day's replies).
            for hour in (9, 17):
                moment = dt.datetime.combine(today, dt.time(hour), tz)
                if moment > end:
                    break
                traveller.move_to(moment)
                delivered = _deliver_due(ws, world, dt.datetime.now(tz))
                if await jobs.poll():
                    await jobs.ocr()  # as the daemon does after a poll: scans attached to replies are read
                last_seen = _show_new_messages(jobs, console, day, today, last_seen)
                if hour == 9:
                    await jobs.deadlines()
                    await jobs.outbox()
                    _route(ws, smtp, world, today, console, day)
                if delivered and not _has_poll(jobs):
                    console.print("  [yellow]inbound pipeline not installed: replies wait in the inbox[/]")
        traveller.move_to(end)
        await jobs.digest()
        await jobs.outbox()
        _route(ws, smtp, world, end.date(), console, (end.date() - first_day).days)
    finally:
        jobs.close()
        jobs.publish_daemon("stopped")
        jobs.engine.dispose()
    return world


def _file_requests(jobs: Jobs, settings: Settings, console: Console) -> None:
    create_request = stage("agent.filing.requests", "create_request")
    send_request = stage("agent.filing.requests", "send_request")
    if create_request is None or send_request is None:
        raise RuntimeError("agent.filing.requests is not installed; the demo cannot file requests")
    now = dt.datetime.now(dt.timezone.utc)
    with jobs.sessions.begin() as session:
        for sim in AGENCIES:
            agency = Agency(
                name=sim.name,
                jurisdiction="CA",
                emails=[sim.email],
                domains=[sim.domain],
                portal=sim.portal,
                portal_url=sim.portal_url,
                tracking_patterns=list(sim.tracking_patterns),
            )
            session.add(agency)
            session.flush()
            request = create_request(session, agency=agency, template=TEMPLATE, variables=VARIABLES, settings=settings, now=now)
            send_request(session, request, settings, now)
            console.print(f"  filed [bold]{request.reference}[/] with {sim.name} [dim]({sim.behaviour})[/]", soft_wrap=True)


def _deliver_due(ws: Workspace, world: _World, now: dt.datetime) -> int:
    due = [p for p in world.pending if p[0] <= now]
    world.pending = [p for p in world.pending if p[0] > now]
    for when, agency, filed, reply in sorted(due, key=lambda p: p[0]):
        postoffice.deliver(ws.inbox, postoffice.compose_reply(agency, filed, reply, when))
    return len(due)


def _route(ws: Workspace, smtp: postoffice.SmtpServer, world: _World, today: dt.date, console: Console, day: int) -> None:
    """Hand each mail the SMTP server received to its simulated recipient."""
    for item in smtp.take_new():
        msg = postoffice.parse(item.raw)
        name = f"{len(list(ws.outgoing.iterdir())) + 1:03d}.eml"
        (ws.outgoing / name).write_bytes(item.raw)
        for rcpt in item.rcpt_tos:
            rcpt = rcpt.lower()
            agency = world.by_email.get(rcpt)
            if rcpt == OPERATOR:
                world.digest_path = _save_digest(ws, msg, item.raw)
                console.print(f"  [bold]weekly digest[/] sent to {OPERATOR} → {world.digest_path}")
            elif agency is None:
                continue
            elif agency.email not in world.filed:
                filed = postoffice.filed_from(msg, today)
                world.filed[agency.email] = filed
                base = dt.datetime.now(dt.timezone.utc)
                for reply in agency.script(filed):
                    # Replies leave during office hours: a few hours after the day starts.
                    world.pending.append((base + dt.timedelta(days=reply.day, hours=2), agency, filed, reply))
            else:
                world.followups_received[agency.email] = world.followups_received.get(agency.email, 0) + 1
                console.print(
                    f"  day {day:>2} {today:%a %b %d}  [bold magenta]follow-up sent[/] to {agency.name}: "
                    f"{str(msg.get('Subject', '')).strip()}",
                    soft_wrap=True,
                )


def _save_digest(ws: Workspace, msg: object, raw: bytes) -> Path:
    (ws.root / "digest.eml").write_bytes(raw)
    html = None
    get_body = getattr(msg, "get_body", None)
    if get_body is not None:
        part = get_body(preferencelist=("html",))
        if part is not None:
            html = part.get_content()
    if html:
        path = ws.root / "digest.html"
        path.write_text(html, encoding="utf-8")
        return path
    return ws.root / "digest.eml"


def _show_new_messages(jobs: Jobs, console: Console, day: int, today: dt.date, last_seen: int) -> int:
    with jobs.sessions() as session:
        rows = session.execute(
            select(Message, Request, Agency)
            .outerjoin(Request, Message.request_id == Request.id)
            .outerjoin(Agency, Request.agency_id == Agency.id)
            .where(Message.direction == "in", Message.id > last_seen)
            .order_by(Message.id)
        ).all()
        for message, request, agency in rows:
            last_seen = max(last_seen, message.id)
            who = agency.name if agency else (message.from_addr or "?")
            label = message.label or message.kind or message.status
            conf = f" ({message.confidence:.2f})" if message.confidence is not None else ""
            folded = len(message.folded or [])
            extra = f", {folded} block{'s' if folded != 1 else ''} folded" if folded else ""
            where = f" → {request.reference} now [bold]{request.state}[/]" if request else f" → {message.status}"
            console.print(f"  day {day:>2} {today:%a %b %d}  {who}: [cyan]{label}[/]{conf}{where}{extra}", soft_wrap=True)
    return last_seen


def _has_poll(jobs: Jobs) -> bool:
    return stage("agent.inbound.poll", "poll_once") is not None


def _tally(settings: Settings, ws: Workspace, digest: Path | None, seconds: float) -> DemoResult:
    from agent.db.session import make_engine, make_session_factory

    engine = make_engine(settings.database.url)
    try:
        with make_session_factory(engine)() as session:
            requests = session.scalar(select(func.count()).select_from(Request)) or 0
            inbound = session.scalars(select(Message).where(Message.direction == "in")).all()
            followups = session.scalar(
                select(func.count()).select_from(Outbox).where(Outbox.kind == "followup", Outbox.state == "sent")
            ) or 0
    finally:
        engine.dispose()
    classified = sum(1 for m in inbound if m.label)
    folded = sum(len(m.folded or []) for m in inbound)
    return DemoResult(
        requests=int(requests),
        replies=len(inbound),
        classified=classified,
        folded=folded,
        followups=int(followups),
        digest=digest.resolve() if digest else None,
        config=ws.config.resolve(),
        seconds=seconds,
    )


def _explore_hints(console: Console, ws: Workspace, settings: Settings) -> None:
    from agent.db.session import make_engine, make_session_factory

    engine = make_engine(settings.database.url)
    try:
        with make_session_factory(engine)() as session:
            refs = {a: r for r, a in session.execute(select(Request.reference, Agency.name).join(Agency)).all()}
    finally:
        engine.dispose()
    cfg = ws.config.resolve()
    console.print("\n[bold]Explore the result:[/]")
    lines = [f"agent --config {cfg} requests"]
    for name in ("Harbor City Clerk", "Granite Water District"):
        if name in refs:
            lines.append(f"agent --config {cfg} thread {refs[name]}")
    lines += [f"agent --config {cfg} review", f"agent --config {cfg} status"]
    for line in lines:
        console.print(f"  {line}", soft_wrap=True)
    console.print(f"  (mail we sent: {ws.outgoing}; raw archive: {settings.archive_path}; log: {ws.log})", soft_wrap=True)
