"""`agent records [REF | --campaign ID]` and `agent records export DIR`: what the agencies sent, shown or copied out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from typer.core import TyperGroup

from agent.commands._context import AppContext, app_context, fail, out
from agent.mail.attachments import AttachmentStore
from agent.operators.lists_display import records_view
from agent.operators.queries import NotFound, find_request
from agent.operators.records import RequestRecords, UnknownCampaign, records_of
from agent.operators.records_export import INDEX, ExportRefused, export_records

DEFAULT = "show"


class _RecordsGroup(TyperGroup):
    """`agent records REF` reads as `agent records show REF`: the listing is the group's default."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = [DEFAULT, *args]
        return super().parse_args(ctx, args)


records_app = typer.Typer(
    cls=_RecordsGroup,
    help="What each request has received: the agencies' letters and records (attached or fetched from links). "
         "`agent records [REF | --campaign ID]` lists them; `agent records export DIR` copies them out.",
)
CampaignOpt = typer.Option(None, "--campaign", help="Only this campaign's requests (id or name).")
ShowUrlsOpt = typer.Option(False, "--show-urls",
                           help="Include the full URLs of fetched links (often capabilities: anyone holding one can download).")


@records_app.command(DEFAULT)
def show_cmd(
    ctx: typer.Context,
    ref: Optional[str] = typer.Argument(None, help="Our reference, the request's id, or an agency tracking number."),
    campaign: Optional[str] = CampaignOpt,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    show_urls: bool = ShowUrlsOpt,
) -> None:
    """List the files each request received: role (letter or records), name, type, size, pages, source, when."""
    context = app_context(ctx)
    groups = _gather(context, ref, campaign, show_urls)
    if as_json:
        print(json.dumps([g.as_json() for g in groups], indent=2))
        return
    out.print(records_view(groups, context.settings().schedule.timezone))


@records_app.command("export")
def export_cmd(
    ctx: typer.Context,
    target: Path = typer.Argument(..., help="An empty (or new) folder to write into."),
    ref: Optional[str] = typer.Option(None, "--request", help="Only this request."),
    campaign: Optional[str] = CampaignOpt,
    force: bool = typer.Option(False, "--force",
                               help="Add to a folder that is not empty; existing files are never overwritten."),
    show_urls: bool = typer.Option(False, "--show-urls", help="Fill the index's url column (capability URLs)."),
) -> None:
    """Copy the files into one folder per agency (each file once) with an index.csv of every file and its source."""
    context = app_context(ctx)
    groups = _gather(context, ref, campaign, show_urls)
    store = AttachmentStore(context.settings().attachments.path)
    try:
        report = export_records(groups, store, target, force=force)
    except (ExportRefused, OSError) as exc:
        fail(str(exc), 1)
    files = report.copied + report.reused
    out.print(f"{files} file{'s' if files != 1 else ''} from {report.agencies} "
              f"agenc{'ies' if report.agencies != 1 else 'y'} in {target} ({report.copied} copied now, "
              f"{report.reused} already there); index: {target / INDEX}", highlight=False)
    if report.problems:
        out.print(f"warning: {report.problems} file{'s' if report.problems != 1 else ''} could not be copied "
                  f"(status missing, not_stored or damaged in the index)", style="yellow", highlight=False)


def _gather(context: AppContext, ref: str | None, campaign: str | None, show_urls: bool) -> list[RequestRecords]:
    if ref is not None and campaign is not None:
        fail("give a request or --campaign, not both")
    with context.sessions()() as session:
        try:
            request_id = find_request(session, ref).id if ref is not None else None
            return records_of(session, request_id=request_id, campaign=campaign, show_urls=show_urls)
        except (NotFound, UnknownCampaign) as exc:
            fail(str(exc), 1)


def register(app: typer.Typer) -> None:
    app.add_typer(records_app, name="records")
