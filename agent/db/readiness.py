"""Is the database there, reachable and at the schema this code expects? One line saying what to do if not."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError

from agent.db import migrate

UPGRADE_HINT = "run `agent db upgrade` first"


class DatabaseNotReady(Exception):
    """The database is missing, unreachable or at another revision; the message says which and what to do."""


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL, None for PostgreSQL or an in-memory database."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def describe_connect_error(url: URL, exc: BaseException) -> str:
    """Why a connection failed, naming the server (never the password)."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = detail[0] if detail else type(exc).__name__
    path = sqlite_file(url)
    if url.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {path or url.database}: {reason}"
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return f"cannot reach the PostgreSQL server at {where} (database {url.database!r}): {reason}"


def require_reachable(engine: Engine) -> None:
    """Connect once; an unreachable server or an unopenable file becomes DatabaseNotReady."""
    try:
        with engine.connect():
            pass
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseNotReady(describe_connect_error(engine.url, exc)) from None


def require_schema(engine: Engine) -> None:
    """Refuse to work on a database that `agent db upgrade` has not brought to this code's revision.

    A missing SQLite file is reported before connecting: connecting would create an empty one.
    """
    path = sqlite_file(engine.url)
    if path is not None and not path.exists():
        raise DatabaseNotReady(f"no database at {path} yet: {UPGRADE_HINT}")
    try:
        current = migrate.current_revision(engine)
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseNotReady(describe_connect_error(engine.url, exc)) from None
    if current is None:
        raise DatabaseNotReady(f"the database {_name(engine.url)} has no tables yet: {UPGRADE_HINT}")
    scripts = ScriptDirectory.from_config(migrate.alembic_config(engine))
    head = scripts.get_current_head()
    if current == head:
        return
    known = {rev.revision for rev in scripts.walk_revisions()}
    if current in known:
        raise DatabaseNotReady(f"the database is at revision {current}, this agent needs {head}: {UPGRADE_HINT}")
    raise DatabaseNotReady(
        f"the database is at revision {current}, which this version of the agent does not know (a newer one?)"
    )


def _name(url: URL) -> str:
    path = sqlite_file(url)
    return str(path) if path is not None else f"{url.database!r} on {url.host or 'localhost'}"
