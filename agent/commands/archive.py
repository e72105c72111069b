"""`agent archive check`: the raw-mail archive against the message rows (what a crash may have left behind)."""

from __future__ import annotations

import json

import typer

from agent.commands._context import EXIT_FAILURE, app_context, out
from agent.mail.archive import Archive
from agent.mail.archive_audit import audit_archive, prune

archive_app = typer.Typer(help="Check the raw-mail archive.", no_args_is_help=True)


@archive_app.command("check")
def check(
    ctx: typer.Context,
    do_prune: bool = typer.Option(False, "--prune", help="Remove duplicate copies (same bytes as a recorded message)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """List files no message points at; exit 1 when a recorded message has lost its file or sent mail was never archived."""
    app = app_context(ctx)
    settings = app.settings()
    archive = Archive(settings.archive_path)
    with app.sessions()() as session:
        report = audit_archive(session, archive)
    if do_prune and report.duplicate_copies:
        report.pruned = prune(archive, report.duplicate_copies)
    if as_json:
        print(json.dumps({**{k: v for k, v in report.__dict__.items()}}))
    else:
        print(report.line())
        if report.unrecorded:
            out.print(
                f"kept {len(report.unrecorded)} file(s) no message row names and no recorded message matches "
                f"(first: {', '.join(report.unrecorded[:5])}); inspect them in {archive.root}",
                highlight=False,
            )
        if report.duplicate_copies and not do_prune:
            out.print("duplicate copies can be removed with --prune", highlight=False)
        if report.missing:
            out.print(f"message rows whose archive file is missing: {', '.join(map(str, report.missing[:20]))}", highlight=False)
        if report.unarchived_sent:
            out.print(
                f"outbox rows sent but never archived: {', '.join(map(str, report.unarchived_sent[:20]))}",
                highlight=False,
            )
    if report.failed:
        raise typer.Exit(EXIT_FAILURE)


def register(app: typer.Typer) -> None:
    app.add_typer(archive_app, name="archive")
