"""`agent outbox ...`: send what is queued, list rows, retry or cancel one."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
from dataclasses import asdict
from typing import Any

import typer
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.operators.ids import MAX_ID
from agent.commands._context import app_context, fail, out, row_id
from agent.db.models import Outbox
from agent.operators.clock import local_time
from agent.operators.screen import FoldingTable
from agent.operators.terminal import plain
from agent.outbox.send import DrainReport, drain_due

outbox_app = typer.Typer(help="Outgoing mail: send, list, retry, cancel.", no_args_is_help=True)

RETRYABLE = ("failed", "uncertain", "cancelled")
CANCELLABLE = ("queued", "failed", "uncertain")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@outbox_app.command("send")
def send(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Send everything due now, then exit (the daemon repeats it)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Send every queued message that is due, then exit; say how many remain and why (a limit, a pause).

    Exits 1 when the outbox is paused (the SMTP server refused the connection or the login)."""
    context = app_context(ctx)
    report = asyncio.run(drain_due(context.settings(), context.sessions(), worker_id=worker_id()))
    if as_json:
        print(json.dumps(asdict(report)))
    else:
        out.print(Text(
            f"sent {report.sent} · retry later {report.retried} · failed {report.failed}"
            f" · reconciled {report.reconciled} · uncertain {report.uncertain}"
            + (f" · cancelled {report.cancelled} (request closed meanwhile)" if report.cancelled else "")
        ))
        out.print(Text(remaining_line(report)))
    if report.paused:
        raise typer.Exit(1)


def remaining_line(report: DrainReport) -> str:
    """How many due letters are still waiting after the passes, and what holds each group back."""
    if report.remaining == 0 and not report.paused:
        return "nothing due remains"
    why: list[str] = []
    if report.paused:
        why.append(f"the outbox is paused until {report.paused_until}: {report.pause_reason}")
    if report.account_limited:
        limit = report.account_limit or "per_minute/per_day"
        why.append(f"{report.account_limited} held by the account limit ([smtp] {limit})")
    if report.rate_limited:
        why.append(f"{report.rate_limited} held by the per-agency limit ([smtp] per_agency_per_hour)")
    return f"{report.remaining} due remain" + (": " + "; ".join(why) if why else "")


@outbox_app.command("list")
def list_rows(
    ctx: typer.Context,
    state: str = typer.Option(None, "--state", help="Only rows in this state (queued, sending, sent, failed, ...)."),
    limit: int = typer.Option(50, "--limit", min=1, max=MAX_ID),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show outbox rows, newest first."""
    context = app_context(ctx)
    with context.sessions()() as session:
        query = select(Outbox).order_by(Outbox.id.desc()).limit(limit)
        if state:
            query = query.where(Outbox.state == state)
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "state": r.state,
                "kind": r.kind,
                "request_id": r.request_id,
                "to": list(r.recipients),
                "subject": r.subject,
                "message_id": r.message_id,
                "attempts": r.attempts,
                "last_code": r.last_code,
                "last_error": r.last_error,
                "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            }
            for r in session.scalars(query)
        ]
    if as_json:
        print(json.dumps(rows))
        return
    zone = context.settings().schedule.timezone
    table = FoldingTable("id", "state", "kind", "to", "subject", "attempts", "last_code", "next/sent",
                         keep=("id", "state"), title=f"outbox ({len(rows)} shown)")
    for r in rows:
        when = r["sent_at"] or r["next_attempt_at"]
        table.add_row(
            plain(r["id"]), plain(r["state"]), plain(r["kind"]), plain(", ".join(r["to"])), plain(r["subject"]),
            plain(r["attempts"]), plain(r["last_code"] or ""),
            plain(local_time(dt.datetime.fromisoformat(when), zone) if when else ""),
        )
    out.print(table)


def _row(session: Session, row_id: int) -> Outbox:
    row = session.get(Outbox, row_id)
    if row is None:
        fail(f"no outbox row {row_id}", 1)
    return row


@outbox_app.command("retry")
def retry(ctx: typer.Context, ident: str = typer.Argument(..., metavar="ID")) -> None:
    """Queue a failed, uncertain or cancelled row again (an operator's decision: it may send a second copy)."""
    import datetime as dt

    outbox_id = row_id(ident, "outbox row")
    with app_context(ctx).sessions().begin() as session:
        row = _row(session, outbox_id)
        if row.state not in RETRYABLE:
            fail(f"outbox {outbox_id} is {row.state}; only {', '.join(RETRYABLE)} rows can be retried", 1)
        row.state = "queued"
        row.attempts = 0
        row.claimed_by = None
        row.next_attempt_at = dt.datetime.now(dt.timezone.utc)
    out.print(f"outbox {outbox_id} queued again")


@outbox_app.command("cancel")
def cancel(ctx: typer.Context, ident: str = typer.Argument(..., metavar="ID")) -> None:
    """Never send this row (queued, failed or uncertain)."""
    outbox_id = row_id(ident, "outbox row")
    with app_context(ctx).sessions().begin() as session:
        row = _row(session, outbox_id)
        if row.state not in CANCELLABLE:
            fail(f"outbox {outbox_id} is {row.state}; only {', '.join(CANCELLABLE)} rows can be cancelled", 1)
        row.state = "cancelled"
        row.next_attempt_at = None
    out.print(f"outbox {outbox_id} cancelled")


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")
