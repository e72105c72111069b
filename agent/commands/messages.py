"""`agent messages [--request REF] [--since DATE] [--json]`: every processed message and what reading found."""

from __future__ import annotations

import datetime as dt
import json
from typing import Optional
from zoneinfo import ZoneInfo

import typer

from agent.commands._context import app_context, fail, out
from agent.operators.clock import UTC, day_start
from agent.operators.lists_display import messages_table
from agent.operators.messages_list import MessageFilter, list_messages
from agent.operators.queries import NotFound, find_request


def messages_cmd(
    ctx: typer.Context,
    request: Optional[str] = typer.Option(None, "--request", help="Only this request (reference, id or tracking number)."),
    since: Optional[str] = typer.Option(
        None, "--since", help="Only mail received on or after DATE (YYYY-MM-DD, in the desk's zone) or an ISO time."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List processed messages: Message-ID, request, label, confidence, dates, tracking numbers, review state."""
    context = app_context(ctx)
    zone = context.settings().schedule.timezone
    start = parse_since(since, zone) if since is not None else None
    with context.sessions()() as session:
        request_id = None
        if request is not None:
            try:
                request_id = find_request(session, request).id
            except NotFound as exc:
                fail(str(exc), 1)
        rows = list_messages(session, MessageFilter(request_id=request_id, since=start))
    if as_json:
        print(json.dumps([r.as_json() for r in rows], indent=2))
        return
    out.print(messages_table(rows, zone))


def parse_since(text: str, zone: str) -> dt.datetime:
    """A day (its local midnight) or an ISO instant (naive means the desk's zone), as UTC; else a usage error."""
    value = text.strip()
    try:
        if len(value) == 10:
            return day_start(dt.date.fromisoformat(value), zone)
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        fail(f"--since {text!r} is not a date (YYYY-MM-DD) or an ISO date and time")


def register(app: typer.Typer) -> None:
    app.command("messages")(messages_cmd)
