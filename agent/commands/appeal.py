"""`agent appeal draft|send REF`: preview an administrative appeal, or file it once in the request's thread."""

from __future__ import annotations

import datetime as dt
import json
from typing import Optional

import typer

from agent.commands._context import app_context, fail, out
from agent.compose.render import TemplateError
from agent.filing.appeals import AppealDraft, AppealError, draft_appeal, send_appeal
from agent.filing.requests import get_request
from agent.filing.thread import ThreadLetterError
from agent.operators.review import default_operator
from agent.operators.terminal import plain, printable

appeal_app = typer.Typer(help="Administrative appeals of a denial, a disputed no-records finding, or silence.")

GroundsOpt = typer.Option("", "--grounds", help="Your reasons, one paragraph, added to the letter.")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _header(d: AppealDraft) -> str:
    window = f"window closes {d.window_closes.isoformat()}" if d.window_closes else "no fixed window"
    warn = "" if d.verified else " · UNVERIFIED rule: check the statute before sending"
    where = "" if d.in_thread else f" · file it with {d.to_whom} (not the agency's thread)"
    return f"{d.reference}: appeal of the {d.decision_kind} of {d.decision_date.isoformat()} · {d.citation} · {window}{warn}{where}"


@appeal_app.command("draft")
def appeal_draft(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Request id or our reference."),
    grounds: str = GroundsOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the draft as JSON."),
) -> None:
    """Print the appeal letter that `send` would queue; nothing is written."""
    app = app_context(ctx)
    with app.sessions()() as session:
        request = get_request(session, key)
        if request is None:
            fail(f"no request {key!r}", 1)
        try:
            draft = draft_appeal(session, request, settings=app.settings(), now=_now(), grounds=grounds)
        except (AppealError, ThreadLetterError, TemplateError) as exc:
            fail(str(exc), 1)
    if as_json:
        print(json.dumps(draft.as_json(), indent=2))
        return
    out.print(plain(_header(draft)), highlight=False)
    out.print(plain(draft.text), highlight=False)


@appeal_app.command("send")
def appeal_send(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Request id or our reference."),
    grounds: str = GroundsOpt,
    late: bool = typer.Option(False, "--late", help="File even though the window to appeal has closed."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    operator: Optional[str] = typer.Option(None, "--operator", help="Your name on the events (default: $USER).",
                                           show_default=False),
) -> None:
    """Queue the appeal in the request's thread (once: a second send is refused) and mark the request appealed."""
    app = app_context(ctx)
    settings = app.settings()
    with app.sessions().begin() as session:
        request = get_request(session, key)
        if request is None:
            fail(f"no request {key!r}", 1)
        try:
            draft = draft_appeal(session, request, settings=settings, now=_now(), grounds=grounds)
            if not yes:
                out.print(plain(_header(draft)), highlight=False)
                out.print(plain(draft.text), highlight=False)
                if not typer.confirm(printable(f"Send this appeal to {request.agency.name}?"), default=False):
                    out.print("nothing sent")
                    raise typer.Exit(1)
            appeal = send_appeal(session, request, settings=settings, now=_now(), operator=operator or default_operator(),
                                 grounds=grounds, allow_late=late)
        except (AppealError, ThreadLetterError, TemplateError) as exc:
            fail(str(exc), 1)
        due = f"; decision due by {appeal.body_due.isoformat()}" if appeal.body_due else ""
        line = f"appeal for {request.reference} queued (outbox {appeal.outbox_id}); request is {request.state}{due}"
    out.print(plain(line), highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(appeal_app, name="appeal")
