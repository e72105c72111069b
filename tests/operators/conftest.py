"""Fixtures for the operator tests: a seeded database (SQLite and PostgreSQL) and a config file pointing at it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from agent.operators.clock import local_today
from operators.seed import Seeded, Shared, seed

REPO = Path(__file__).resolve().parents[2]
ZONE = "America/Los_Angeles"


@pytest.fixture
def today() -> dt.date:
    return local_today(ZONE)


@pytest.fixture
def seeded(sessions: sessionmaker[Session], today: dt.date) -> Seeded:
    with sessions.begin() as session:
        return seed(session, today)


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> Path:
    return _write_config(tmp_path, db_url)


def _write_config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[rules]
path = "{REPO / 'rules'}"
[archive]
path = "{tmp_path / 'mailbox'}"
[schedule]
timezone = "{ZONE}"
[daemon]
status_file = "{tmp_path / 'status.json'}"
[identity]
operators = ["ops@example.org", "lead@example.org"]
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def lite_sessions(sqlite_url: str):  # type: ignore[no-untyped-def]
    """SQLite only, for tests of rendering and argument checks: the SQL they run is covered on both databases elsewhere."""
    from agent.db import migrate
    from agent.db.session import make_engine, make_session_factory

    eng = make_engine(sqlite_url)
    migrate.upgrade(eng)
    yield make_session_factory(eng)
    eng.dispose()


@pytest.fixture
def lite_config(sqlite_url: str, lite_sessions, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    return _write_config(tmp_path, sqlite_url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One seeded database per module and kind, for tests that only read: creating one per test costs seconds."""
    from agent.db import migrate
    from agent.db.session import make_engine, make_session_factory

    folder = tmp_path_factory.mktemp("ops-shared")
    admin = None
    name = f"ra_ops_{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'agent.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.rsplit("/", 1)[0] + f"/{name}"
    eng = make_engine(url)
    migrate.upgrade(eng)
    factory = make_session_factory(eng)
    with factory.begin() as session:
        seeded = seed(session, local_today(ZONE))
    try:
        yield Shared(_write_config(folder, url), seeded, factory)
    finally:
        eng.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
