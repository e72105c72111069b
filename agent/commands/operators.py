"""`agent requests|thread|explain|status` (and `review`, from review.py): the operator's daily view."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Optional, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.text import Text

from agent.operators.ids import MAX_ID
from agent.commands._context import app_context, fail, out
from agent.commands import review_answers
from agent.commands.review import review_app
from agent.operators import display
from agent.operators.clock import UTC, local_today
from agent.operators.explain import explain as explain_message
from agent.operators.queries import NotFound, RequestFilter, find_message, find_request, list_requests
from agent.operators.status import EXIT_UNHEALTHY, read_health
from agent.operators.timeline import Thread, build_thread
from agent.operators.vocab import all_states

# A window wider than a century is a typo, and past ~2.7 million years the date arithmetic overflows.
MAX_DAYS = 36_500
JsonOpt = typer.Option(False, "--json", help="Machine-readable output.")


def requests_cmd(
    ctx: typer.Context,
    state: Optional[list[str]] = typer.Option(None, "--state", "-s", help="Only this state (repeat or comma-separate)."),
    overdue: bool = typer.Option(False, "--overdue", help="Only requests past their due date."),
    due_within: Optional[int] = typer.Option(None, "--due-within", min=0, max=MAX_DAYS, help="Only requests due within DAYS."),
    campaign: Optional[str] = typer.Option(None, "--campaign", help="Only this campaign (id or name)."),
    agency: Optional[str] = typer.Option(None, "--agency", help="Only agencies whose name contains this."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, max=MAX_ID, help="Only the first N (oldest due first)."),
    as_json: bool = JsonOpt,
) -> None:
    """List requests: reference, agency, tracking numbers, state, filed, due, next action, last reply."""
    states = tuple(s.strip() for part in state or [] for s in part.split(",") if s.strip())
    unknown = [s for s in states if s not in all_states()]
    if unknown:
        fail(f"unknown state {', '.join(unknown)} (one of: {', '.join(all_states())})")
    context = app_context(ctx)
    zone = context.settings().schedule.timezone
    filt = RequestFilter(states=states, overdue=overdue, due_within=due_within, campaign=campaign, agency=agency,
                         limit=limit)
    with context.sessions()() as session:
        rows = list_requests(session, filt, today=local_today(zone), zone=zone)
    if as_json:
        print(json.dumps([r.as_json() for r in rows], indent=2))
        return
    out.print(display.requests_table(rows))


def thread_cmd(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Our reference, the request's id, or an agency tracking number."),
    full: bool = typer.Option(False, "--full", help="Show the raw bodies instead of the cleaned text."),
    as_json: bool = JsonOpt,
) -> None:
    """Show a request's timeline: messages with label and confidence, what was folded, attachments, deadlines, events."""
    context = app_context(ctx)
    settings = context.settings()
    zone = settings.schedule.timezone
    with context.sessions()() as session:
        request = _or_fail(lambda: find_request(session, ref))
        thread = build_thread(
            session, request, today=local_today(zone), full=full, archive_root=settings.archive_path
        )
    if as_json:
        print(json.dumps(_thread_json(thread), indent=2, default=str))
        return
    out.print(display.thread_view(thread, full=full, zone=ZoneInfo(zone)))


def explain_cmd(
    ctx: typer.Context,
    message_id: str = typer.Argument(..., help="Our message row id, or its Message-ID header."),
    as_json: bool = JsonOpt,
) -> None:
    """Why a message was matched to its request and labelled as it was: evidence, rules that fired, facts."""
    context = app_context(ctx)
    with context.sessions()() as session:
        message = _or_fail(lambda: find_message(session, message_id))
        x = explain_message(session, message, context.rules_path())
    if as_json:
        print(json.dumps(x.as_json(), indent=2, default=str))
        return
    out.print(display.explanation_view(x, zone=context.settings().schedule.timezone))


T = TypeVar("T")


def status_cmd(ctx: typer.Context, as_json: bool = JsonOpt) -> None:
    """The daemon's health: last poll, last send, queue sizes, errors, next jobs.

    Exits 1 when the daemon is unhealthy (no poll for a few poll intervals, the last run of a job failed,
    the outbox paused), after saying why, so monitoring can run it as a check."""
    context = app_context(ctx)
    settings = context.settings()
    with context.sessions()() as session:
        # Quiet for several ticks of its busiest job means the daemon is probably not running.
        ticks = max(settings.schedule.poll_seconds, settings.schedule.outbox_seconds)
        stale = dt.timedelta(seconds=max(600.0, 3 * ticks))
        poll_stale = dt.timedelta(seconds=max(180.0, 3 * settings.schedule.poll_seconds))
        health = read_health(
            session, settings.daemon.status_file, now=dt.datetime.now(UTC), stale_after=stale, poll_stale_after=poll_stale
        )
    if as_json:
        print(json.dumps(health.as_json(), indent=2, default=str))
    else:
        out.print(display.health_view(health, zone=settings.schedule.timezone))
        for problem in health.problems:
            out.print(Text(f"unhealthy: {problem}", style="bold red"))
    if not health.healthy:
        raise typer.Exit(EXIT_UNHEALTHY)


# ---- helpers ------------------------------------------------------------------------------------


def _or_fail(find: Callable[[], T]) -> T:
    try:
        return find()
    except NotFound as exc:
        fail(str(exc), 1)


def _thread_json(thread: Thread) -> dict[str, Any]:
    from dataclasses import asdict

    from agent.operators.timeline import MessageEntry

    data = asdict(thread)
    data["entries"] = [
        {"type": "message" if isinstance(e, MessageEntry) else "event", **asdict(e)} for e in thread.entries
    ]
    return data


def register(app: typer.Typer) -> None:
    app.command("requests")(requests_cmd)
    app.command("thread")(thread_cmd)
    app.command("explain")(explain_cmd)
    app.command("status")(status_cmd)
    review_answers.register(review_app)
    app.add_typer(review_app, name="review")
