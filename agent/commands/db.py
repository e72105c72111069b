"""`agent db ...` and `agent config ...`: bring the schema to head, check the config."""

from __future__ import annotations

import json

import typer

from agent.commands._context import app_context, fail, out
from agent.config import ConfigError, as_dict, check_secrets
from agent.db import migrate

db_app = typer.Typer(help="Database schema: upgrade, downgrade, current revision.", no_args_is_help=True)
config_app = typer.Typer(help="Check or show the configuration.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(ctx: typer.Context, revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the database to the given revision (default: head)."""
    engine = app_context(ctx).engine()
    migrate.upgrade(engine, revision)
    out.print(f"database at revision {migrate.current_revision(engine)} ({engine.url.render_as_string()})")


@db_app.command("downgrade")
def downgrade(ctx: typer.Context, revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Migrate the database down to an older revision."""
    engine = app_context(ctx).engine()
    migrate.downgrade(engine, revision)
    out.print(f"database at revision {migrate.current_revision(engine)}")


@db_app.command("current")
def current(ctx: typer.Context) -> None:
    """Print the database's current revision."""
    out.print(migrate.current_revision(app_context(ctx).engine()) or "(empty)")


@config_app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate config.toml and that every configured secret can be read."""
    settings = app_context(ctx).settings()
    try:
        check_secrets(settings)
    except ConfigError as exc:
        fail(str(exc))
    out.print(f"{settings.source}: ok")


@config_app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the resolved configuration as JSON (secrets appear only as where they come from)."""
    print(json.dumps(as_dict(app_context(ctx).settings()), indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(config_app, name="config")
