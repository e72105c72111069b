"""`agent deadlines scan --once`: queue the follow-ups that are due and escalate what is past the cap."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from zoneinfo import ZoneInfo

import typer

from agent.operators.screen import FoldingTable
from agent.operators.terminal import plain
from agent.operators.ids import MAX_ID
from agent.commands._context import app_context, fail, out
from agent.compose.render import TemplateError
from agent.deadlines.statutes import StatuteError
from agent.followups.check import check_rules
from agent.followups.policy import PolicyError
from agent.followups.scan import due_query, scan_once

deadlines_app = typer.Typer(help="Deadline timer: follow-ups and escalations that are due.", no_args_is_help=True)


def _today(ctx: typer.Context, value: str | None) -> dt.date:
    if value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            fail(f"--today {value!r} is not a date in the form YYYY-MM-DD")
    zone = ZoneInfo(app_context(ctx).settings().schedule.timezone)
    return dt.datetime.now(zone).date()


@deadlines_app.command("scan")
def scan(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Scan once and exit (the daemon repeats it on its own)."),
    today: str = typer.Option(None, "--today", help="Pretend it is this date (YYYY-MM-DD); default: today."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Queue every follow-up due today into the outbox, escalate requests past the cap, and exit."""
    context = app_context(ctx)
    settings = context.settings()
    try:
        check_rules(settings.rules_path)
    except (PolicyError, StatuteError, TemplateError) as exc:
        fail(str(exc))
    report = scan_once(context.sessions(), settings, today=_today(ctx, today))
    if as_json:
        print(json.dumps(asdict(report)))
    else:
        out.print(
            f"due {report.due} · follow-ups queued {report.queued} · escalated {report.escalated}"
            f" · skipped {report.skipped} · errors {len(report.errors)}"
        )
        for line in report.errors:
            out.print(plain(line, "red"), highlight=False)
    if report.errors:
        raise typer.Exit(1)


@deadlines_app.command("due")
def due(
    ctx: typer.Context,
    today: str = typer.Option(None, "--today", help="As of this date (YYYY-MM-DD); default: today."),
    limit: int = typer.Option(100, "--limit", min=1, max=MAX_ID),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List requests whose next follow-up or escalation is due, without changing anything."""
    day = _today(ctx, today)
    with app_context(ctx).sessions()() as session:
        rows = list(session.scalars(due_query(day, limit)))
        data = [
            {
                "id": r.id,
                "reference": r.reference,
                "state": r.state,
                "next_action_date": r.next_action_date.isoformat() if r.next_action_date else None,
                "due_date": (r.extended_due or r.due_date).isoformat() if (r.extended_due or r.due_date) else None,
                "promised_date": r.promised_date.isoformat() if r.promised_date else None,
                "followups_sent": r.followups_sent,
            }
            for r in rows
        ]
    if as_json:
        print(json.dumps(data))
        return
    table = FoldingTable("id", "reference", "state", "next_action_date", "due_date", "promised_date", "followups_sent",
                         keep=("id", "reference", "state", "due_date"), title=f"{len(data)} due on or before {day.isoformat()}")
    for item in data:
        table.add_row(*(str(item[c] if item[c] is not None else "") for c in item))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(deadlines_app, name="deadlines")
