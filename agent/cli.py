"""The `agent` command: a thin typer app; each command group lives in agent/commands/."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Optional

import typer

from agent import __version__
from agent.commands._context import AppContext
from agent.commands._help import FlagsAsFlags
from agent.config import config_path_from

app = typer.Typer(
    name="agent",
    help="records-agent: file public-records requests, read every reply, follow up on deadlines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=FlagsAsFlags,
)

# Command groups in the order they appear in --help. A plain list: no scanning, no import magic.
COMMAND_MODULES = [
    "agent.commands.db",
    "agent.commands.agencies",
    "agent.commands.filing",
    "agent.commands.operators",
    "agent.commands.messages",
    "agent.commands.records",
    "agent.commands.inbound",
    "agent.commands.archive",
    "agent.commands.rules",
    "agent.commands.classify",
    "agent.commands.corrections",
    "agent.commands.deadlines",
    "agent.commands.followups",
    "agent.commands.appeal",
    "agent.commands.outbox",
    "agent.commands.links",
    "agent.commands.digest",
    "agent.commands.daemon",
    "agent.commands.auth",
]


def _version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Optional[Path] = typer.Option(
        None, "--config", "-c", help="Config file (default: $AGENT_CONFIG, else ./config.toml).", show_default=False
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Global options; the config is read only by commands that need it."""
    from agent.daemon.logging_setup import redact_fallback_output

    redact_fallback_output()
    ctx.obj = AppContext(config_path=config_path_from(config))


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()


def main() -> None:
    app()
