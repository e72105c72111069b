"""`agent db ...` and `agent config ...`: bring the schema to head, check the config."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sqlalchemy import Engine

from agent.commands._context import EXIT_FAILURE, app_context, fail, out
from agent.config import ConfigError, as_dict, check_secrets
from agent.db import migrate
from agent.db.readiness import UPGRADE_HINT, sqlite_file

db_app = typer.Typer(help="Database schema: upgrade, downgrade, current revision.", no_args_is_help=True)
config_app = typer.Typer(help="Check or show the configuration.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(ctx: typer.Context, revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the database to the given revision (default: head)."""
    engine = app_context(ctx).unchecked_engine(connect=True)
    migrate.upgrade(engine, revision)
    out.print(f"database at revision {migrate.current_revision(engine)} ({engine.url.render_as_string()})")


@db_app.command("downgrade")
def downgrade(ctx: typer.Context, revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Migrate the database down to an older revision."""
    engine = _existing(ctx)
    migrate.downgrade(engine, revision)
    out.print(f"database at revision {migrate.current_revision(engine)}")


@db_app.command("current")
def current(ctx: typer.Context) -> None:
    """Print the database's current revision."""
    out.print(migrate.current_revision(_existing(ctx)) or "(empty)")


def _existing(ctx: typer.Context) -> Engine:
    """A reachable database that already exists (a SQLite file is never created just to be inspected)."""
    app = app_context(ctx)
    engine = app.unchecked_engine()
    path = sqlite_file(engine.url)
    if path is not None and not path.exists():
        fail(f"no database at {path} yet: {UPGRADE_HINT}", EXIT_FAILURE)
    return app.unchecked_engine(connect=True)


@db_app.command("backup")
def backup(ctx: typer.Context, target: Path = typer.Argument(..., help="A new file for the copy.")) -> None:
    """Copy the SQLite database while the daemon runs (online backup); on PostgreSQL, print the pg_dump to run.

    PostgreSQL exits 1 after the hint: nothing was backed up, and a script must not believe otherwise."""
    from agent.db.backup import BackupError, backup_sqlite, pg_dump_hint

    engine = app_context(ctx).unchecked_engine()
    path = sqlite_file(engine.url)
    if engine.url.get_backend_name() != "sqlite":
        fail(f"PostgreSQL is backed up with its own tool; run: {pg_dump_hint(engine.url, target)}", EXIT_FAILURE)
    if path is None:
        fail("an in-memory database has nothing to back up", EXIT_FAILURE)
    try:
        done = backup_sqlite(path, target)
    except BackupError as exc:
        fail(str(exc), EXIT_FAILURE)
    out.print(f"backed up {done.source} to {done.target}: {done.pages} pages, {done.size} bytes", highlight=False)


@config_app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate config.toml, that every configured secret can be read, and that the rules folder loads."""
    settings = app_context(ctx).settings()
    try:
        check_secrets(settings)
    except ConfigError as exc:
        fail(str(exc))
    problem = rules_problem(settings.rules_path)
    if problem:
        fail(f"{settings.source}: key 'rules.path': {problem}")
    out.print(f"{settings.source}: ok")


def rules_problem(rules_dir: Path) -> str | None:
    """Why the rules folder cannot be used, or None: the same loading the daemon does at start."""
    from agent.daemon.ruleset import RulesUnavailable, load_rules

    if not rules_dir.is_dir():
        return f"rules folder {rules_dir} does not exist (`agent rules init DIR` makes one)"
    try:
        load_rules(rules_dir, fresh=True)
    except RulesUnavailable:
        return None
    except Exception as exc:  # noqa: BLE001 - any rule error is reported, in one line
        first = str(exc).strip().splitlines()
        return f"rules in {rules_dir} do not load: {first[0] if first else type(exc).__name__}"
    return None


@config_app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the resolved configuration as JSON (secrets appear only as where they come from)."""
    print(json.dumps(as_dict(app_context(ctx).settings()), indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(config_app, name="config")
