"""`agent links ...`: record and fetch the links in agency replies once, list what each request's links gave."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from agent.commands._context import EXIT_FAILURE, app_context, fail, out
from agent.db.models import FetchedFile, Request
from agent.links.harvest import harvest_once
from agent.links.urls import url_sha256
from agent.operators.queries import NotFound, find_request
from agent.operators.terminal import plain
from agent.pipeline.rules import RulesError

links_app = typer.Typer(help="Links in replies: fetch the records they point to, list them.", no_args_is_help=True)

STATES = ("pending", "fetched", "needs_login", "refused", "too_large", "failed", "skipped")


@links_app.command("fetch")
def fetch_cmd(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Record new links and fetch what is pending, then exit "
                                                    "(the daemon's links job repeats it)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Record the links of matched replies (and of their attached letters), then fetch allow-listed ones."""
    context = app_context(ctx)
    try:
        report = harvest_once(context.settings(), context.sessions())
    except RulesError as exc:
        fail(str(exc), EXIT_FAILURE)
    if as_json:
        print(json.dumps(asdict(report)))
        return
    out.print(Text(
        f"links recorded {report.found} (from {report.messages} messages) · fetched {report.fetched}"
        f" · needs login {report.needs_login} · too large {report.too_large} · refused {report.refused}"
        f" · failed {report.failed} · retry later {report.retry_later}"
    ))


@links_app.command("list")
def list_cmd(
    ctx: typer.Context,
    ref: Optional[str] = typer.Argument(None, metavar="[REF]", help="Only this request (reference, id or tracking number)."),
    state: Optional[str] = typer.Option(None, "--state", help=f"Only rows in this state ({', '.join(STATES)})."),
    urls: bool = typer.Option(False, "--urls", help="Show the full links (they are often passwords: mind where you paste)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every recorded link, oldest first: kind, state, host, what was stored. Links show as host and hash unless --urls."""
    if state is not None and state not in STATES:
        fail(f"unknown state {state!r} (one of {', '.join(STATES)})")
    with app_context(ctx).sessions()() as session:
        query = select(FetchedFile, Request.reference).outerjoin(Request, FetchedFile.request_id == Request.id)
        if ref is not None:
            try:
                request = find_request(session, ref)
            except NotFound as exc:
                fail(str(exc), EXIT_FAILURE)
            query = query.where(FetchedFile.request_id == request.id)
        if state is not None:
            query = query.where(FetchedFile.state == state)
        rows = [_as_dict(row, reference, urls) for row, reference in session.execute(query.order_by(FetchedFile.id))]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title=f"links ({len(rows)})")
    for column in ("id", "request", "kind", "state", "link", "file", "size", "note"):
        table.add_column(column)
    for r in rows:
        link = r["url"] if urls else f"{r['host']} #{r['url_sha256'][:12]}"
        table.add_row(
            plain(r["id"]), plain(r["reference"] or "—"), plain(r["link_kind"]), plain(r["state"]), plain(link),
            plain(r["filename"] or ""), plain(r["size"] or ""), plain((r["error"] or "")[:80]),
        )
    out.print(table)


def _as_dict(row: FetchedFile, reference: str | None, with_url: bool) -> dict[str, Any]:
    out_row: dict[str, Any] = {
        "id": row.id,
        "reference": reference,
        "message_row_id": row.message_row_id,
        "attachment_id": row.attachment_id,
        "host": row.host,
        "url_sha256": row.url_sha256 or url_sha256(row.url),
        "link_kind": row.link_kind,
        "state": row.state,
        "attempts": row.attempts,
        "filename": row.filename,
        "content_type": row.content_type,
        "sniffed_type": row.sniffed_type,
        "size": row.size,
        "sha256": row.sha256,
        "stored_path": row.stored_path,
        "error": row.error,
        "fetched_at": row.fetched_at.isoformat() if row.fetched_at else None,
    }
    if with_url:
        out_row["url"] = row.url
    return out_row


def register(app: typer.Typer) -> None:
    app.add_typer(links_app, name="links")
