"""`agent rules init DIR`: a copy of the bundled rules to edit, then point `[rules] path` at it."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.commands._context import EXIT_FAILURE, fail, out
from agent.resources import ResourceError, copy_rules

rules_app = typer.Typer(help="The rules folder: classification, statutes, templates, follow-up policy.", no_args_is_help=True)


@rules_app.command("init")
def init(target: Path = typer.Argument(..., help="A new (or empty) folder to copy the bundled rules into.")) -> None:
    """Copy the rules that ship with the agent into DIR for local editing."""
    try:
        copied = copy_rules(target)
    except ResourceError as exc:
        fail(str(exc), EXIT_FAILURE)
    out.print(f"rules copied to {copied.resolve()}; set `[rules] path = \"{copied.resolve()}\"` in your config",
              highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
