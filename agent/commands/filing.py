"""`agent request ...` and `agent campaign ...`: draft, preview and queue letters to one agency or to many."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.commands import answers
from agent.commands._context import app_context, err, fail, out, row_id
from agent.compose.render import TemplateError
from agent.config import Settings
from agent.db.models import Agency, Campaign, Request
from agent.filing import campaigns as camp
from agent.filing.agency_csv import DirectoryError, read_agency_file
from agent.filing.directory import find_agency, upsert_agencies
from agent.filing.letters import AgencyInfo, StatuteBook, list_templates, load_statute_book, render_letter, template_variables
from agent.filing.rollup import rollup
from agent.filing.requests import (
    CLOSED_STATES,
    FilingError,
    Withdrawal,
    create_request,
    get_request,
    local_date,
    parse_vars,
    send_request,
    went_out,
    withdraw,
)
from agent.operators.clock import local_time
from agent.operators.screen import FoldingPanel, FoldingTable, Wrapped, label_grid
from agent.operators.terminal import plain, printable
from agent.requests import states

request_app = typer.Typer(help="One request to one agency: draft, preview, send.", no_args_is_help=True)
campaign_app = typer.Typer(help="The same request to many agencies, followed as a whole.", no_args_is_help=True)

VAR_HELP = "Template variable NAME=VALUE (repeatable); VALUE @FILE reads a file, \\n makes a line break."
PROGRESS_FROM = 10


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _vars(pairs: list[str] | None) -> dict[str, str]:
    try:
        return parse_vars(pairs)
    except FilingError as exc:
        fail(str(exc), 2)


def _book(settings: Settings) -> StatuteBook:
    try:
        return load_statute_book(settings.rules_path)
    except TemplateError as exc:
        fail(str(exc), 2)


def _request_dict(request: Request) -> dict[str, Any]:
    def iso(value: dt.date | dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": request.id,
        "reference": request.reference,
        "agency": request.agency.name,
        "jurisdiction": request.jurisdiction,
        "campaign_id": request.campaign_id,
        "state": request.state,
        "template": request.template,
        "variables": request.variables,
        "reply_address": request.reply_address,
        "message_id": request.message_id,
        "to": list(request.agency.emails or []),
        "subject": request.subject,
        "filed_at": iso(request.filed_at),
        "due_date": iso(request.due_date),
        "extended_due": iso(request.extended_due),
        "promised_date": iso(request.promised_date),
        "next_action_date": iso(request.next_action_date),
        "tracking_numbers": [t.value for t in request.tracking_numbers],
        "body": request.body,
    }


def _preview(request: Request) -> None:
    data = _request_dict(request)
    head = label_grid()
    for key in ("reference", "state", "agency", "to", "reply_address", "subject", "due_date", "next_action_date"):
        value = data[key]
        if value:
            head.add_row(key, plain(", ".join(value) if isinstance(value, list) else str(value)))
    out.print(Wrapped(head))
    # Wrapped, not cropped: the operator reads the whole letter before it goes out.
    out.print(Wrapped(Panel(plain(request.body or ""), title="letter", expand=False)), highlight=False)


# ---------------------------------------------------------------- requests


@request_app.command("new")
def request_new(
    ctx: typer.Context,
    agency_name: str = typer.Option(..., "--agency", "-a", help="Agency name as in `agent agency list`."),
    template: str = typer.Option(..., "--template", "-t", help="Letter template, e.g. cpra_general, foia_general, alpr."),
    var: list[str] | None = typer.Option(None, "--var", help=VAR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the draft as JSON instead of a preview."),
) -> None:
    """Create a draft request and show the letter; `agent request send ID` queues it."""
    app = app_context(ctx)
    settings = app.settings()
    variables = _vars(var)
    with app.sessions().begin() as session:
        agency = find_agency(session, agency_name)
        if agency is None:
            fail(f"no agency named {agency_name!r} (see `agent agency list`)", 2)
        try:
            request = create_request(session, agency=agency, template=template, variables=variables, settings=settings, now=_now())
        except TemplateError as exc:
            fail(str(exc), 2)
        data = _request_dict(request)
        if not as_json:
            _preview(request)
            out.print(f"draft {request.reference} (id {request.id}) saved; send it with `agent request send {request.id}`")
    if as_json:
        print(json.dumps(data, indent=2))


@request_app.command("show")
def request_show(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Request id or our reference (RA-2025-0007)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show one request: state, dates, addresses and the letter."""
    with app_context(ctx).sessions().begin() as session:
        request = get_request(session, key)
        if request is None:
            fail(f"no request {key!r}", 1)
        if as_json:
            print(json.dumps(_request_dict(request), indent=2))
        else:
            _preview(request)


@request_app.command("send")
def request_send(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Request id or our reference."),
) -> None:
    """Queue a draft in the outbox (the daemon or `agent outbox send` delivers it)."""
    app = app_context(ctx)
    settings = app.settings()
    with app.sessions().begin() as session:
        request = get_request(session, key)
        if request is None:
            fail(f"no request {key!r}", 1)
        try:
            row = send_request(session, request, settings, _now())
        except TemplateError as exc:
            fail(str(exc), 2)
        except FilingError as exc:
            fail(str(exc), 1)
        out.print(f"{request.reference} queued to {', '.join(row.recipients)} as {row.message_id} (outbox {row.id})", highlight=False)


def _notice_note(result: Withdrawal) -> str:
    if result.notice_id is not None:
        return f"withdrawal notice queued (outbox {result.notice_id})"
    return f"no notice: {result.no_notice}"


@request_app.command("withdraw")
def request_withdraw(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Request id or our reference."),
    reason: str = typer.Option("", "--reason", help="Recorded in the request's history and stated in the notice to the agency."),
    no_notice: bool = typer.Option(False, "--no-notice", help="Do not tell the agency; only our records change."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Withdraw an open request: cancel its mail not yet sent and, if the letter went out, tell the agency in its thread."""
    app = app_context(ctx)
    settings = app.settings()
    with app.sessions().begin() as session:
        request = get_request(session, key)
        if request is None:
            fail(f"no request {key!r}", 1)
        if not states.can(request.state, "withdraw"):
            fail(f"request {request.reference} is {request.state}; only open requests can be withdrawn", 1)
        tell = not no_notice and went_out(session, request)
        question = f"Withdraw request {request.reference} to {request.agency.name} ({request.state})"
        question += " and send the agency a withdrawal notice?" if tell else "?"
        if not yes and not typer.confirm(printable(question), default=False):
            out.print("nothing withdrawn")
            raise typer.Exit(1)
        try:
            result = withdraw(
                session, request, settings=settings, notice=not no_notice, actor="operator",
                reason=reason, notice_reason=reason, now=_now(),
            )
        except TemplateError as exc:
            fail(f"{exc}; nothing withdrawn (use --no-notice to withdraw without telling the agency)", 2)
        if result is None:
            fail(f"request {request.reference} was closed meanwhile ({request.state}); nothing withdrawn", 1)
    out.print(plain(f"request {result.reference} withdrawn; {_notice_note(result)}"), highlight=False)


@request_app.command("templates")
def request_templates(ctx: typer.Context) -> None:
    """List the letter templates and the variables each one needs."""
    rules = app_context(ctx).rules_path()
    table = FoldingTable("template", "variables", keep=("template",))
    for name in list_templates(rules):
        try:
            names = ", ".join(sorted(template_variables(rules, name)))
        except TemplateError as exc:
            table.add_row(plain(name), plain(str(exc), "red"))
            continue
        table.add_row(plain(name), plain(names))
    out.print(table)


# ---------------------------------------------------------------- campaigns


def _campaign_agencies(session: Session, agencies_file: Path | None, jurisdiction: str | None, rules: Path) -> list[Agency]:
    """The target list: agencies in a CSV (full rows are imported first; a `name`-only file looks them up) or a jurisdiction."""
    if (agencies_file is None) == (jurisdiction is None):
        fail("give exactly one of --agencies FILE.csv or --jurisdiction ID", 2)
    if jurisdiction is not None:
        found = camp.agencies_by_jurisdiction(session, jurisdiction)
        if not found:
            fail(f"no agencies in jurisdiction {jurisdiction.upper()!r} (import some with `agent agency import`)", 2)
        return found
    assert agencies_file is not None
    try:
        with agencies_file.open(encoding="utf-8-sig", newline="") as fh:
            rows = [r for r in csv.reader(fh) if r and r[0].strip() and not r[0].lstrip().startswith("#")]
    except OSError as exc:
        fail(f"{agencies_file}: cannot read: {exc.strerror}", 2)
    if rows and [c.strip().lower() for c in rows[0]] == ["name"]:
        found, missing = camp.agencies_by_name(session, [r[0].strip() for r in rows[1:]])
        if missing:
            fail(f"{agencies_file}: not in the directory: {', '.join(missing)}", 2)
        return found
    try:
        parsed = read_agency_file(agencies_file, rules_dir=rules)
    except DirectoryError as exc:
        fail(str(exc), 2)
    upsert_agencies(session, parsed)
    found, _ = camp.agencies_by_name(session, [row.name for row in parsed])
    return found


def _dry_run(
    agencies: list[Agency], template: str, variables: dict[str, str], settings: Settings, book: StatuteBook
) -> tuple[FoldingTable, FoldingPanel]:
    """Render every letter once before asking: a template or jurisdiction problem stops the campaign before it exists."""
    today = local_date(_now(), settings)
    per_jurisdiction: Counter[tuple[str, str, str]] = Counter()
    sample: FoldingPanel | None = None
    for agency in agencies:
        letter = render_letter(
            settings.rules_path, template, agency=AgencyInfo(agency.name, agency.jurisdiction), variables=variables,
            identity=settings.identity, reference="RA-PREVIEW", filed_on=today, book=book,
        )
        per_jurisdiction[(agency.jurisdiction, letter.citation, letter.due.isoformat())] += 1
        if sample is None:
            # The agency and subject are long: a title too long for the terminal becomes the panel's first line.
            sample = FoldingPanel(plain(letter.body), plain(f"first letter: {agency.name} — {letter.subject}"), expand=False)
    table = FoldingTable("jurisdiction", "statute", "due if sent today", "agencies",
                         keep=("jurisdiction", "due if sent today", "agencies"))
    for (jur, citation, due), count in sorted(per_jurisdiction.items()):
        table.add_row(plain(jur), plain(citation), plain(due), plain(count))
    assert sample is not None  # there is always at least one agency here
    return table, sample


@campaign_app.command("new")
def campaign_new(
    ctx: typer.Context,
    template: str = typer.Option(..., "--template", "-t", help="Letter template, e.g. alpr."),
    agencies_file: Path | None = typer.Option(None, "--agencies", help="CSV of agencies (directory format, or one `name` column)."),
    jurisdiction: str | None = typer.Option(None, "--jurisdiction", "-j", help="Every agency of this jurisdiction."),
    var: list[str] | None = typer.Option(None, "--var", help=VAR_HELP),
    name: str | None = typer.Option(None, "--name", help="A name for the campaign."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """File one request per agency (one thread each), after showing how many and confirming."""
    app = app_context(ctx)
    settings = app.settings()
    variables = _vars(var)
    book = _book(settings)
    with app.sessions().begin() as session:
        agencies = _campaign_agencies(session, agencies_file, jurisdiction, settings.rules_path)
        try:
            summary, sample = _dry_run(agencies, template, variables, settings, book)
        except TemplateError as exc:
            fail(str(exc), 2)
        if not yes:
            out.print(sample, highlight=False)
        out.print(summary)
        no_email = [a.name for a in agencies if not a.emails]
        if no_email:
            out.print(plain(f"{len(no_email)} agencies have no email address and will stay drafts: {', '.join(no_email)}"), highlight=False)
        if not yes and not typer.confirm(f"File {len(agencies)} requests with template {template!r}?", default=False):
            out.print("nothing filed")
            raise typer.Exit(1)
        now = _now()
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                      disable=len(agencies) < PROGRESS_FROM) as bar:
            drafting = bar.add_task("drafting", total=len(agencies))
            try:
                campaign = camp.create_campaign(
                    session, template=template, agencies=agencies, variables=variables, settings=settings, now=now,
                    name=name, book=book, on_request=lambda _r: bar.advance(drafting),
                )
            except TemplateError as exc:
                fail(str(exc), 2)
            queueing = bar.add_task("queueing", total=len(agencies))
            report = camp.send_campaign(session, campaign, settings, now, book=book, on_request=lambda _r: bar.advance(queueing))
        campaign_id = campaign.id
    out.print(f"campaign {campaign_id}: {len(report.queued)} requests queued, {len(report.skipped)} left as drafts")
    for request_id, why in report.skipped:
        out.print(plain(f"  request {request_id}: {why}"), highlight=False)


def _load_campaign(session: Session, campaign_id: int) -> Campaign:
    """The campaign of an id already parsed by row_id (so never out of the database's range)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        fail(f"no campaign {campaign_id}", 1)
    return campaign


@campaign_app.command("show")
def campaign_show(
    ctx: typer.Context,
    ident: str = typer.Argument(..., metavar="CAMPAIGN_ID", help="Campaign id."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Roll up a campaign: sent, acknowledged, extended, partial, completed, no records, rejected, overdue, review."""
    campaign_id = row_id(ident, "campaign")
    app = app_context(ctx)
    today = local_date(_now(), app.settings())
    with app.sessions().begin() as session:
        campaign = _load_campaign(session, campaign_id)
        roll = rollup(session, campaign, today=today)
        attention = {
            r.id: (r.reference, r.agency.name, r.state)
            for r in camp.campaign_requests(session, campaign)
            if r.id in set(roll.overdue_ids) | set(roll.review_ids)
        }
    if as_json:
        print(json.dumps(roll.as_dict(), indent=2))
        return
    table = FoldingTable("", "requests", title=plain(f"campaign {roll.campaign_id}: {roll.name} ({roll.template})"))
    for key in ("total", "queued", "sent", "acknowledged", "extended", "partial", "completed", "no_records", "rejected", "overdue", "needing_review"):
        value = roll.by_state.get("queued", 0) if key == "queued" else getattr(roll, key)
        table.add_row(key.replace("_", " "), str(value))
    out.print(table)
    out.print(plain("by state: " + ", ".join(f"{s} {n}" for s, n in roll.by_state.items())), highlight=False)
    if attention:
        needs = FoldingTable("id", "reference", "agency", "state", "why", keep=("id", "reference", "state"),
                             title="needs attention")
        for request_id, (reference, agency, state) in attention.items():
            why = " + ".join(w for w, ids in (("overdue", roll.overdue_ids), ("review", roll.review_ids)) if request_id in ids)
            needs.add_row(plain(request_id), plain(reference), plain(agency), plain(state), plain(why))
        out.print(needs)


@campaign_app.command("list")
def campaign_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Every campaign with its template and number of requests."""
    app = app_context(ctx)
    with app.sessions().begin() as session:
        rows = [
            {"id": c.id, "name": c.name, "template": c.template, "requests": n, "created_at": c.created_at.isoformat()}
            for c, n in session.execute(
                select(Campaign, func.count(Request.id)).outerjoin(Request).group_by(Campaign.id).order_by(Campaign.id)
            ).all()
        ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = FoldingTable("id", "name", "template", "requests", "created", keep=("id", "requests"),
                         title=f"{len(rows)} campaigns")
    for row in rows:
        table.add_row(plain(row["id"]), plain(row["name"]), plain(row["template"]), plain(row["requests"]),
                      plain(local_time(dt.datetime.fromisoformat(str(row["created_at"])), app.settings().schedule.timezone)))
    out.print(table)


@campaign_app.command("withdraw")
def campaign_withdraw(
    ctx: typer.Context,
    ident: str = typer.Argument(..., metavar="CAMPAIGN_ID", help="Campaign id."),
    reason: str = typer.Option("", "--reason", help="Recorded in each request's history."),
    no_notice: bool = typer.Option(False, "--no-notice", help="Do not send withdrawal notices to the agencies."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Withdraw every open request of the campaign, cancel its mail not yet sent, and tell each agency that got the letter."""
    campaign_id = row_id(ident, "campaign")
    app = app_context(ctx)
    settings = app.settings()
    with app.sessions().begin() as session:
        campaign = _load_campaign(session, campaign_id)
        open_requests = [r for r in camp.campaign_requests(session, campaign) if r.state not in CLOSED_STATES]
        if not yes:
            told = 0 if no_notice else sum(1 for r in open_requests if went_out(session, r))
            if told:
                out.print(f"{told} of the {len(open_requests)} open requests went out: their agencies get a withdrawal notice (--no-notice: none)")
            if not typer.confirm(f"Withdraw {len(open_requests)} open requests of campaign {campaign_id}?", default=False):
                raise typer.Exit(1)
        try:
            results = camp.withdraw_campaign_requests(
                session, campaign, settings=settings, notice=not no_notice, reason=reason, now=_now()
            )
        except TemplateError as exc:
            fail(f"{exc}; nothing withdrawn (use --no-notice to withdraw without telling the agencies)", 2)
    out.print(f"campaign {campaign_id}: {len(results)} requests withdrawn")
    if results:
        notices = sum(1 for r in results if r.notice_id is not None)
        why = Counter(r.no_notice for r in results if r.notice_id is None and r.no_notice)
        none = "; no notice: " + ", ".join(f"{n} {w}" for w, n in why.most_common()) if why else ""
        out.print(plain(f"  {notices} withdrawal notices queued{none}"), highlight=False)


@campaign_app.command("followup")
def campaign_followup(
    ctx: typer.Context,
    ident: str = typer.Argument(..., metavar="CAMPAIGN_ID", help="Campaign id."),
) -> None:
    """Queue follow-ups now for every request of the campaign that is past its deadline and still unanswered."""
    campaign_id = row_id(ident, "campaign")
    app = app_context(ctx)
    settings = app.settings()
    now = _now()
    with app.sessions().begin() as session:
        campaign = _load_campaign(session, campaign_id)
        report = camp.followup_campaign(session, campaign, settings, now, today=local_date(now, settings))
    out.print(f"campaign {campaign_id}: {len(report.queued)} follow-ups queued, {len(report.skipped)} skipped")
    reasons = Counter(why for _, why in report.skipped)
    for why, count in reasons.most_common():
        out.print(plain(f"  {count} × {why}"), highlight=False)


campaign_app.command("answers")(answers.campaign_answers)


def register(app: typer.Typer) -> None:
    app.add_typer(request_app, name="request")
    app.add_typer(campaign_app, name="campaign")
