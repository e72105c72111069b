"""Shared fixtures: the shipped statutes, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.deadlines.business_days import BusinessCalendar
from agent.deadlines.statutes import Statute, load_statutes, statute_dir

RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture(scope="session")
def statutes() -> dict[str, Statute]:
    return load_statutes(statute_dir(RULES))


@pytest.fixture(scope="session")
def calendar() -> BusinessCalendar:
    return BusinessCalendar()
