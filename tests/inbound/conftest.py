"""Fixtures for the inbound tests; plain helpers live in inbound_helpers.py (importable by the tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).parent))

from inbound_helpers import PASSWORD_ENV, World, seed_world  # noqa: E402


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return seed_world(sessions)


@pytest.fixture
def imap_password(monkeypatch: pytest.MonkeyPatch) -> str:
    from support.dovecot import PASSWORD

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return PASSWORD
