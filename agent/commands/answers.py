"""`agent campaign answers ID`: each agency's answer to each item of the campaign's letter, and hand corrections."""

from __future__ import annotations

from typing import Optional

import typer
from sqlalchemy.orm import Session

from agent.commands._context import app_context, fail, out
from agent.db.models import Campaign
from agent.filing.answer_formats import to_csv, to_html, to_json
from agent.filing.answers import AnswerError, archive_reader, build_matrix, set_answer
from agent.operators.answers_view import answers_view
from agent.operators.ids import BadId, parse_id
from agent.operators.review import default_operator
from agent.operators.terminal import plain


def campaign_answers(
    ctx: typer.Context,
    ident: str = typer.Argument(..., metavar="CAMPAIGN_ID", help="Campaign id."),
    as_csv: bool = typer.Option(False, "--csv", help="CSV: agency,item,answer,value,message_id, one row per agency and item."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    as_html: bool = typer.Option(False, "--html", help="One self-contained HTML page with the agency × item table."),
    set_cell: Optional[tuple[str, str, str]] = typer.Option(
        None, "--set", metavar="AGENCY ITEM VALUE", help="Correct one answer by hand (kept as an event with the old value).",
        show_default=False,
    ),
    operator: Optional[str] = typer.Option(None, "--operator", help="Your name on the correction (default: $USER).", show_default=False),
) -> None:
    """The agency × item table of a campaign's answers, read from its final letters and their attachments."""
    try:
        campaign_id = parse_id(ident, "campaign")
    except BadId as exc:
        fail(str(exc), 2)
    if sum((as_csv, as_json, as_html)) > 1:
        fail("give at most one of --csv, --json, --html", 2)
    app = app_context(ctx)
    settings = app.settings()
    text_of = archive_reader(settings.archive_path, settings.rules_path)
    with app.sessions().begin() as session:
        campaign = _campaign(session, campaign_id)
        if set_cell is not None:
            agency, item, value = set_cell
            try:
                old, new = set_answer(session, campaign, agency, item, value, operator=operator or default_operator(),
                                      text_of=text_of)
            except AnswerError as exc:
                fail(str(exc), 1)
            was = f"was {old.answer!r}" if old.answer is not None else "was not answered"
            out.print(plain(f"campaign {campaign_id}: {new.agency} {new.item} set to {new.answer!r} ({was})"), highlight=False)
            return
        matrix = build_matrix(session, campaign, text_of)
    if as_csv:
        print(to_csv(matrix), end="")
    elif as_json:
        print(to_json(matrix))
    elif as_html:
        print(to_html(matrix), end="")
    elif not matrix.items:
        out.print(plain(f"campaign {campaign_id}: its letter asks no numbered items, so there is no answer table"))
    else:
        out.print(answers_view(matrix), soft_wrap=False)


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        fail(f"no campaign {campaign_id}", 1)
    return campaign
