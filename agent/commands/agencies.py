"""`agent agency ...`: import the agency directory from CSV, list it, show one agency."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select

from agent.operators.screen import FoldingTable
from agent.commands._context import app_context, err, fail, out
from agent.db.models import Agency, Request
from agent.operators.terminal import plain
from agent.filing.agency_csv import DirectoryError, read_agency_file
from agent.filing.directory import find_agency, upsert_agencies

agency_app = typer.Typer(help="The agency directory: who we write to and how they answer.", no_args_is_help=True)

# Below this many rows a progress bar is noise.
PROGRESS_FROM = 20


def agency_dict(agency: Agency, open_requests: int | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "id": agency.id,
        "name": agency.name,
        "jurisdiction": agency.jurisdiction,
        "emails": list(agency.emails or []),
        "domains": list(agency.domains or []),
        "portal_url": agency.portal_url,
        "portal": agency.portal,
        "tracking_patterns": list(agency.tracking_patterns or []),
    }
    if open_requests is not None:
        data["requests"] = open_requests
    return data


@agency_app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV with columns name, emails, jurisdiction, domains, portal_url, portal, tracking_patterns."),
    check: bool = typer.Option(False, "--check", help="Only validate the file; write nothing."),
) -> None:
    """Add or update agencies from CSV. Every row is checked first; one bad row imports nothing."""
    app = app_context(ctx)
    rules = app.rules_path()
    try:
        rows = read_agency_file(file, rules_dir=rules)
    except DirectoryError as exc:
        fail(str(exc), 2)
    if check:
        out.print(plain(f"{file}: {len(rows)} agencies, no problems"), highlight=False)
        return
    sessions = app.sessions()
    with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=err, disable=len(rows) < PROGRESS_FROM) as bar:
        task = bar.add_task("import", total=len(rows))
        # One transaction: a failure half-way leaves the directory exactly as it was.
        with sessions.begin() as session:
            report = upsert_agencies(session, rows, on_row=lambda _row: bar.advance(task))
    out.print(
        plain(f"{file}: {len(report.created)} created, {len(report.updated)} updated, {len(report.unchanged)} unchanged"),
        highlight=False,
    )


@agency_app.command("list")
def list_(
    ctx: typer.Context,
    jurisdiction: str | None = typer.Option(None, "--jurisdiction", "-j", help="Only this jurisdiction (e.g. CA, US)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List agencies with their jurisdiction, addresses and number of requests."""
    with app_context(ctx).sessions().begin() as session:
        query = select(Agency).order_by(Agency.jurisdiction, Agency.name)
        if jurisdiction:
            query = query.where(Agency.jurisdiction == jurisdiction.upper())
        agencies = list(session.scalars(query))
        counts = dict(session.execute(select(Request.agency_id, func.count()).group_by(Request.agency_id)).all())
        rows = [agency_dict(a, counts.get(a.id, 0)) for a in agencies]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = FoldingTable("name", "jur.", "emails", "portal", "requests", keep=("jur.", "requests"),
                         title=f"{len(rows)} agencies")
    for row in rows:
        # Names as text, never markup: what is shown is what `agency show NAME` finds.
        table.add_row(
            plain(row["name"]), plain(row["jurisdiction"]), plain(", ".join(row["emails"])),  # type: ignore[arg-type]
            plain(row["portal"] or ""), plain(row["requests"]),
        )
    out.print(table)


@agency_app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The agency's name (case does not matter)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Everything we know about one agency and its requests."""
    with app_context(ctx).sessions().begin() as session:
        agency = find_agency(session, name)
        if agency is None:
            fail(f"no agency named {name!r} (see `agent agency list`)", 1)
        data = agency_dict(agency)
        requests = session.execute(
            select(Request.id, Request.reference, Request.state, Request.next_action_date)
            .where(Request.agency_id == agency.id)
            .order_by(Request.id)
        ).all()
        data["requests"] = [
            {"id": r.id, "reference": r.reference, "state": r.state,
             "next_action_date": r.next_action_date.isoformat() if r.next_action_date else None}
            for r in requests
        ]
    if as_json:
        print(json.dumps(data, indent=2))
        return
    table = FoldingTable("", "", show_header=False, title=plain(data["name"]))
    for key in ("jurisdiction", "emails", "domains", "portal", "portal_url", "tracking_patterns"):
        value = data[key]
        table.add_row(key, plain(", ".join(value) if isinstance(value, list) else str(value or "")))
    out.print(table)
    if requests:
        reqs = FoldingTable("id", "reference", "state", "next action", keep=("id", "reference", "state"))
        for r in requests:
            reqs.add_row(plain(r.id), plain(r.reference), plain(r.state),
                         plain(r.next_action_date.isoformat() if r.next_action_date else ""))
        out.print(reqs)
    else:
        out.print("no requests yet")


def register(app: typer.Typer) -> None:
    app.add_typer(agency_app, name="agency")
