"""Filing fixtures: settings pointing at the shipped rules, the statutes loaded once, the example agencies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agent.config import Settings
from agent.filing.directory import AgencyRow, read_agency_file, upsert_agencies
from agent.filing.letters import StatuteBook, load_statute_book

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
CA_FILE = ROOT / "examples" / "agencies-ca-alpr.csv"
FEDERAL_FILE = ROOT / "examples" / "agencies-federal.csv"
# A Tuesday with no holiday near it, so calendar and business-day statutes give different dates.
NOW = dt.datetime(2025, 2, 11, 18, 0, tzinfo=dt.timezone.utc)


def make_settings(**identity: object) -> Settings:
    data: dict[str, object] = {"rules": {"path": str(RULES)}}
    if identity:
        data["identity"] = identity
    return Settings.model_validate(data)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def settings_factory():  # type: ignore[no-untyped-def]
    return make_settings


@pytest.fixture
def rules_dir() -> Path:
    return RULES


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture
def example_files() -> dict[str, Path]:
    return {"ca": CA_FILE, "federal": FEDERAL_FILE}


@pytest.fixture(scope="session")
def book() -> StatuteBook:
    return load_statute_book(RULES)


@pytest.fixture(scope="session")
def ca_rows() -> list[AgencyRow]:
    return read_agency_file(CA_FILE, rules_dir=RULES)


@pytest.fixture(scope="session")
def federal_rows() -> list[AgencyRow]:
    return read_agency_file(FEDERAL_FILE, rules_dir=RULES)


@pytest.fixture
def directory(sessions: sessionmaker[Session], ca_rows: list[AgencyRow], federal_rows: list[AgencyRow]) -> sessionmaker[Session]:
    """The database with the example agencies imported."""
    with sessions.begin() as session:
        upsert_agencies(session, [*ca_rows, *federal_rows])
    return sessions
