"""`agent digest`: preview the weekly digest as text or HTML, write it to a file, or queue it for the operators."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer

from agent.commands._context import app_context, fail, out
from agent.digest.build import build_digest
from agent.digest.render import render_html, render_text
from agent.digest.send import digest_week, queue_digest, queue_weekly_digest
from agent.operators.clock import UTC
from agent.operators.terminal import plain, printable


def digest(
    ctx: typer.Context,
    preview: bool = typer.Option(False, "--preview", help="Print the digest (the default when --send is not given)."),
    send: bool = typer.Option(False, "--send", help="Queue it for the operators (once per week unless --since is given)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or html."),
    since: Optional[dt.datetime] = typer.Option(None, "--since", formats=["%Y-%m-%d"], help="First day (default: a week before today)."),
    until: Optional[dt.datetime] = typer.Option(None, "--until", formats=["%Y-%m-%d"], help="Day after the last day (default: today, or since + 7 days)."),
    out_file: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the rendered digest to this file.", dir_okay=False),
) -> None:
    """The weekly digest: new replies by label, overdue, due this week, waiting for you, records, campaigns, response times."""
    if fmt not in ("text", "html"):
        fail(f"--format must be text or html, not {fmt!r}")
    context = app_context(ctx)
    settings = context.settings()
    now = dt.datetime.now(UTC)
    week, default_since, default_until = digest_week(settings, now)
    start = since.date() if since else default_since
    end = until.date() if until else (start + dt.timedelta(days=7) if since else default_until)
    if end <= start:
        fail(f"--until {end} must be after --since {start}")
    if send and since is None and until is None:
        outbox = queue_weekly_digest(context.sessions(), settings, now)
        if outbox is None:
            _say(f"The digest for {week} was already queued, no operators are configured, or there is nothing to "
                 "report yet (a new install mails its first digest after its first activity); nothing to do.")
        else:
            _say(f"Queued the {week} digest as outbox #{outbox.id} for {', '.join(settings.identity.operators)}.")
    elif send:
        with context.sessions().begin() as session:
            d = build_digest(session, since=start, until=end, settings=settings)
            outbox = queue_digest(session, settings, d, now)
        _say(f"Queued the digest for {start} – {end - dt.timedelta(days=1)} as outbox #{outbox.id}.")
    if send and not preview and out_file is None:
        return
    with context.sessions()() as session:
        d = build_digest(session, since=start, until=end, settings=settings)
    rendered = render_html(d, settings.rules_path) if fmt == "html" else render_text(d, settings.rules_path)
    if out_file is not None:
        try:
            out_file.write_text(rendered, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {out_file}: {exc.strerror}", 1)
        _say(f"Wrote the {fmt} digest to {out_file}.")
        return
    # Plain print: the digest is data (maybe HTML), not markup for rich to interpret; it quotes agencies'
    # mail, so terminal controls are shown as escapes (a file written with --out keeps them as they were).
    print(printable(rendered), end="")


def _say(text: str) -> None:
    # Paths and addresses are not rich markup.
    out.print(plain(text), highlight=False)


def register(app: typer.Typer) -> None:
    app.command("digest")(digest)
