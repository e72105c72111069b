"""`agent deadline` and `agent statutes`: the deadline arithmetic and the statute table, from the shell."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from agent.operators.screen import FoldingTable
from agent.deadlines.business_days import load_calendar
from agent.deadlines.compute import compute_deadline, describe
from agent.deadlines.statutes import Statute, StatuteError, load_statutes, statute_dir

EXIT_USAGE = 2
_out = Console()
_err = Console(stderr=True)


def _rules_dir(ctx: typer.Context) -> Path:
    """The configured rules folder; the repository's own when the lead's CLI context is absent."""
    try:
        from agent.commands._context import rules_dir
    except ImportError:
        from agent.resources import bundled_rules

        return bundled_rules()
    # A test may mount these commands on a bare Typer app whose context carries no settings.
    return rules_dir(ctx if ctx.find_root().obj is not None else None)


def _fail(message: str) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


def _load(ctx: typer.Context) -> tuple[dict[str, Statute], Path]:
    directory = statute_dir(_rules_dir(ctx))
    try:
        return load_statutes(directory), directory
    except StatuteError as exc:
        raise _fail(str(exc)) from exc


def deadline(
    ctx: typer.Context,
    jurisdiction: str = typer.Option(..., "--jurisdiction", "-j", help="US, DC or a state's postal code."),
    start: str = typer.Option(..., "--start", "-s", help="Day the clock starts, YYYY-MM-DD."),
    extended: bool = typer.Option(False, "--extended", help="Also print effective_due = the extended due date."),
) -> None:
    """Print the statutory due date for a request as one JSON object."""
    statutes, directory = _load(ctx)
    statute = statutes.get(jurisdiction.upper())
    if statute is None:
        raise _fail(f"unknown jurisdiction {jurisdiction!r}; expected US, DC or a state code such as CA")
    try:
        start_day = date.fromisoformat(start)
    except ValueError:
        raise _fail(f"--start {start!r} is not a date in the form YYYY-MM-DD") from None
    try:
        calendar = load_calendar(directory)
    except StatuteError as exc:
        raise _fail(str(exc)) from exc
    result = compute_deadline(statute, start_day, calendar)
    payload: dict[str, object] = {
        "jurisdiction": statute.id,
        "due": result.due.isoformat(),
        "extended_due": result.extended_due.isoformat() if result.extended_due else None,
        "basis": result.basis,
        "citation": result.citation,
    }
    if extended:
        payload["effective_due"] = payload["extended_due"]
    print(json.dumps(payload, ensure_ascii=False))


def statutes(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
) -> None:
    """List every jurisdiction's response deadline and extension."""
    loaded, _ = _load(ctx)
    if as_json:
        print(json.dumps([asdict(s) for s in loaded.values()], indent=2, ensure_ascii=False))
        return
    table = FoldingTable("id", "deadline", "extension", "citation", "checked", keep=("id", "checked"),
                         title=f"{len(loaded)} statutes")
    for s in loaded.values():
        ext = f"+{s.extension.days} {s.extension.day_type}" if s.extension.days else "none"
        table.add_row(s.id, describe(s), ext, s.citation, "yes" if s.verified else "[yellow]no[/]")
    _out.print(table)


def register(app: typer.Typer) -> None:
    app.command("deadline")(deadline)
    app.command("statutes")(statutes)

