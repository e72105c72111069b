"""What every command shares: the config path from the global option, loaded once and only when needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from agent.config import ConfigError, Settings, load_settings
from agent.db.readiness import DatabaseNotReady, require_reachable, require_schema
from agent.db.session import make_engine, make_session_factory
from agent.operators.ids import BadId, parse_id
from agent.operators.terminal import plain
from agent.resources import bundled_rules

# Rich decides colour by itself: colour on a terminal, plain text in pipes and files.
# soft_wrap: a message line (often holding a long path) is never broken in the middle for scripts
# to trip over; tables still fit the terminal's width.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EXIT_FAILURE = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print a clear error to stderr and exit with a meaningful code.

    The message often quotes what the operator typed or what an agency wrote: it is printed as text."""
    err.print(Text.assemble(("error:", "bold red"), " ", plain(message)), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def row_id(text: str, what: str) -> int:
    """An id argument, or a one-line usage error (ASCII digits, within the database's integer range)."""
    try:
        return parse_id(text, what)
    except BadId as exc:
        fail(str(exc), EXIT_USAGE)


@dataclass
class AppContext:
    config_path: Path
    _settings: Settings | None = None
    _engine: Engine | None = None
    _schema_checked: bool = False
    _sessions: sessionmaker[Session] | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                fail(str(exc))
        return self._settings

    def engine(self) -> Engine:
        """The engine of a database at this code's schema; otherwise one line naming `agent db upgrade`."""
        engine = self.unchecked_engine()
        if not self._schema_checked:
            try:
                require_schema(engine)
            except DatabaseNotReady as exc:
                fail(str(exc), EXIT_FAILURE)
            self._schema_checked = True
        return engine

    def unchecked_engine(self, *, connect: bool = False) -> Engine:
        """For the commands that create or migrate the schema (`db upgrade`, `run`); `connect` checks reachability."""
        if self._engine is None:
            s = self.settings()
            self._engine = make_engine(s.database.url, echo=s.database.echo)
        if connect:
            try:
                require_reachable(self._engine)
            except DatabaseNotReady as exc:
                fail(str(exc), EXIT_FAILURE)
        return self._engine

    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = make_session_factory(self.engine())
        return self._sessions

    def rules_path(self) -> Path:
        """The configured rules folder, or the bundled rules when no config file exists."""
        if self._settings is None and not self.config_path.is_file():
            return bundled_rules()
        return self.settings().rules_path


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        raise RuntimeError("the CLI callback did not set up the context")
    return obj


def rules_dir(ctx: typer.Context | None = None) -> Path:
    if ctx is None:
        return bundled_rules()
    return app_context(ctx).rules_path()
