"""Shared fixtures. Fixture modules live in tests/support/ and are imported here by name."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.databases import (  # noqa: E402,F401  (fixtures are found by name)
    db_url,
    engine,
    fresh_pg_url,
    pg_server,
    sessions,
    sqlite_url,
)
from support.smtp import smtp_oauth_server, smtp_server  # noqa: E402,F401
from support.dovecot import dovecot, dovecot_oauth2, imap_account, introspection, oauth_imap_account  # noqa: E402,F401


@pytest.fixture(autouse=True)
def _reading_in_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read mail in their own process unless marked `reading_worker`: the worker's start (a fresh
    interpreter, ~5 s) per rule set would double the suite. test_poison.py and test_budget.py run the real one."""
    if request.node.get_closest_marker("reading_worker") is None:
        from agent.inbound.reader import InProcessReader

        monkeypatch.setattr("agent.inbound.worker.reader_for", lambda limits, rules: InProcessReader())


@pytest.fixture(autouse=True)
def _root_logger_restored():
    """`agent run` invoked in-process configures the root logger; later tests must not inherit its handler."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
