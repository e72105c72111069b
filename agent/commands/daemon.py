"""`agent run` (the daemon, or one pass with --once) and `agent demo` (the whole loop against simulated agencies)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer

from agent.commands._context import EXIT_FAILURE, app_context, fail
from agent.config import ConfigError, check_secrets


def run(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="One pass (poll, OCR of waiting scans, scan deadlines, send) and exit."),
    worker_id: Optional[str] = typer.Option(
        None,
        "--worker-id",
        envvar="AGENT_WORKER_ID",
        help="A name for this daemon, unique among those running (default: host:pid). Keep it across restarts "
        "(e.g. a systemd instance name) and a restarted daemon settles its own interrupted sends at once "
        "instead of after the lease runs out.",
    ),
) -> None:
    """Run the daemon: poll the inbox, send the outbox, scan deadlines, send the weekly digest.

    Signals: TERM/INT finish the job in hand and exit 0; HUP reloads rules/ (a broken rule keeps the
    old set); USR1 polls the inbox now. Logs are JSON lines when stderr is not a terminal.
    """
    from agent.daemon.logging_setup import setup_logging
    from agent.daemon.run import build_jobs, run_once, serve
    from agent.db import migrate

    app = app_context(ctx)
    settings = app.settings()
    try:
        check_secrets(settings)
    except ConfigError as exc:
        fail(str(exc))
    redactor = setup_logging(settings)
    engine = app.unchecked_engine(connect=True)  # an unreachable server: one line naming it
    try:
        # The schema must be current before any job touches it; at head this is a no-op.
        migrate.upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - no database, no daemon: say why in one line
        fail(redactor.redact(f"cannot prepare the database: {type(exc).__name__}: {exc}".splitlines()[0]), EXIT_FAILURE)
    try:
        jobs = build_jobs(settings, worker_id=worker_id)
    except Exception as exc:  # noqa: BLE001 - e.g. invalid rules: refuse to start, say why
        fail(redactor.redact(f"cannot start: {exc}"))
    code = asyncio.run(run_once(jobs) if once else serve(jobs))
    raise typer.Exit(code)


def demo(
    workdir: Optional[Path] = typer.Option(
        None, "--workdir", help="Keep the demo workspace in this folder (default: a new temporary folder)."
    ),
    days: int = typer.Option(24, "--days", min=14, max=120, help="Simulated days to run."),
) -> None:
    """File requests to simulated agencies and watch the whole loop run on an accelerated clock."""
    from agent.demo.runner import run_demo

    try:
        result = run_demo(workdir=workdir, days=days)
    except Exception as exc:  # noqa: BLE001 - the demo must end with a clear message, not a traceback
        fail(f"demo failed: {type(exc).__name__}: {exc}", EXIT_FAILURE)
    print(result.last_line())


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("demo")(demo)
