"""`--help` that shows flags as flags: `--json  Machine-readable output.`, never `--json <bool>`.

Newer typer prints a value placeholder for every option, a flag included, so `--yes <bool>` reads as if it
took a value (`--yes true`). The root group blanks the placeholder of every flag in the command tree once,
when the tree is built; options that take a value keep theirs (`--up-to <float>`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperGroup


def _commands(command: Any) -> Iterator[Any]:
    yield command
    for sub in (getattr(command, "commands", None) or {}).values():
        yield from _commands(sub)


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False)) and not getattr(param, "count", False)


def blank_flag_placeholders(command: Any, help_names: list[str]) -> None:
    """Give every flag of the command (its --help too) an empty placeholder; a metavar already set is kept."""
    params = list(getattr(command, "params", []))
    try:
        # typer builds --help lazily and keeps it; older versions build a fresh one and print no placeholder.
        help_option = command.get_help_option(typer.Context(command, help_option_names=help_names))
    except Exception:  # a typer whose help option cannot be reached this way prints it its own way
        help_option = None
    for param in [*params, help_option]:
        if param is not None and _is_flag(param) and getattr(param, "metavar", None) is None:
            param.metavar = ""


class FlagsAsFlags(TyperGroup):
    """The root group of `agent`: every command's flags are shown without a value placeholder."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        names = list((self.context_settings or {}).get("help_option_names") or ["--help"])
        for command in _commands(self):
            blank_flag_placeholders(command, names)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # typer adds --install-completion and --show-completion to the root after building it.
        blank_flag_placeholders(self, list(ctx.help_option_names))
        super().format_help(ctx, formatter)
