"""`agent poll` and `agent reprocess`: read the inbox once (or keep watching), re-derive from the archive."""

from __future__ import annotations

import json
import threading
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from agent.commands._context import EXIT_FAILURE, app_context, fail, out
from agent.config import ConfigError
from agent.daemon.locks import poller_lock
from agent.inbound.context import InboundContext
from agent.inbound.poll import PollReport, poll_once, watch
from agent.inbound.reprocess import reprocess, select_rows
from agent.mail.inbox import InboxError, open_inbox
from agent.pipeline.rules import RulesError


def _load_rules(ctx: typer.Context) -> Any:
    """The understanding rules, validated once; None while that stage is not installed."""
    try:
        from agent.pipeline.understand import load_understand_rules
    except ModuleNotFoundError as exc:
        if exc.name != "agent.pipeline.understand":
            raise
        return None
    try:
        return load_understand_rules(app_context(ctx).rules_path())
    except RulesError as exc:
        fail(str(exc))


def _human(report: PollReport) -> str:
    if report.new == 0 and report.recovered == 0:
        return "no new mail" + (f" ({report.duplicates} already recorded)" if report.duplicates else "")
    parts = [f"{report.new} new message(s)"]
    if report.recovered:
        parts.append(f"{report.recovered} finished from an interrupted run")
    parts.append(f"{report.matched} matched to a request, {report.orphaned} waiting in the orphan queue")
    if report.quarantined:
        parts.append(f"{report.quarantined} quarantined (see `agent review`)")
    if report.awaiting_ocr:
        parts.append(f"{report.awaiting_ocr} waiting for OCR of an attached scan (the daemon's OCR job, or `agent run --once`)")
    return "; ".join(parts)


def poll(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="One pass over the inbox, then exit."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Fetch new mail, archive it, match it to requests and process it."""
    app = app_context(ctx)
    settings = app.settings()
    rules = _load_rules(ctx)
    # On PostgreSQL several daemons may share the database: only the holder of the inbox lock polls.
    lock = poller_lock(app.engine(), settings.inbox.account)
    if not lock.acquire():
        fail("another agent is polling this inbox right now (a running daemon?); try again later", EXIT_FAILURE)
    try:
        inbox = open_inbox(settings)
    except (InboxError, ConfigError) as exc:
        lock.release()
        fail(str(exc))
    try:
        if once:
            report = poll_once(settings, app.sessions(), inbox, rules=rules)
            if as_json:
                print(json.dumps(report.__dict__))
            else:
                print(report.line())
                out.print(_human(report), highlight=False)
            return
        stop = threading.Event()
        out.print(f"watching {inbox.folder} (Ctrl-C to stop)")
        try:
            watch(settings, app.sessions(), inbox, stop=stop, rules=rules, on_report=lambda r: _print_if_new(r))
        except KeyboardInterrupt:
            stop.set()
    except (InboxError, ConfigError) as exc:
        fail(str(exc), EXIT_FAILURE)
    finally:
        inbox.close()
        lock.release()


def _print_if_new(report: PollReport) -> None:
    if report.new or report.recovered or report.quarantined:
        print(report.line(), flush=True)


def reprocess_cmd(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="Every inbound message."),
    message: Optional[int] = typer.Option(None, "--message", help="One message by its row id."),
    quarantined: bool = typer.Option(False, "--quarantined", help="Only quarantined messages (retry after a fix)."),
    orphans: bool = typer.Option(False, "--orphans", help="Only orphans (after adding agencies or addresses)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Re-parse, re-match and re-read messages from the raw archive."""
    if not (all_ or message is not None or quarantined or orphans):
        fail("say what to reprocess: --all, --message ID, --quarantined or --orphans")
    app = app_context(ctx)
    settings = app.settings()
    rules = _load_rules(ctx)
    statuses = [s for s, on in (("quarantined", quarantined), ("orphan", orphans)) if on]
    rows = select_rows(app.sessions(), message_id=message, statuses=statuses)
    if message is not None and not rows:
        fail(f"no inbound message with id {message}", EXIT_FAILURE)
    context = InboundContext.create(settings, rules)
    with Progress(
        TextColumn("reprocessing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=out, transient=as_json, disable=as_json,
    ) as bar:
        task = bar.add_task("reprocess", total=len(rows))
        report = reprocess(app.sessions(), context, rows, progress=lambda n: bar.advance(task, n))
    if as_json:
        print(json.dumps(report.__dict__))
        return
    print(f"total={report.total} processed={report.processed} orphaned={report.orphaned} quarantined={report.quarantined}")
    if report.changed:
        out.print(
            f"{len(report.changed)} message(s) now read differently (ids {', '.join(map(str, report.changed[:20]))}); "
            "their earlier effect on requests was kept: check them with `agent explain`",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("poll")(poll)
    app.command("reprocess")(reprocess_cmd)
