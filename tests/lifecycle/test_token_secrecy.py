"""No OAuth token in any log line, `agent status`, `agent auth status`, or a stored error (issue 12 item 3).

A real aiosmtpd XOAUTH2 server; the daemon's own logging set up at DEBUG (JSON lines captured) plus pytest's
capture of every logger. Each known token is searched for as given, inside the XOAUTH2 string and base64-encoded.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli import app
from agent.config import DaemonSettings, Settings, TokenSourceSettings
from agent.daemon.logging_setup import setup_logging
from agent.db.models import DaemonState, Outbox, ReviewItem
from agent.mail.oauth import forget_sources
from agent.outbox.send import drain_once
from support.token_leaks import leaks

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
UTC = dt.timezone.utc
T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=UTC)
USER = "desk@example.org"
GOOD = "ya29.a0AfB-known-good-token-7f3c9e1d2b"
REVOKED = "ya29.a0AfB-known-revoked-token-51aa0c"
PRINTED = "ya29.a0AfB-printed-by-a-failing-command-9d"


@pytest.fixture(autouse=True)
def _fresh_sources() -> None:
    forget_sources()


def _failing_command(tmp_path: Path) -> str:
    """A token program that prints a token on stdout and then fails: what it printed must go nowhere."""
    script = tmp_path / "token_fails.py"
    script.write_text(f"import sys\nprint({PRINTED!r})\nprint('refresh token expired', file=sys.stderr)\nsys.exit(3)\n")
    return f"{sys.executable} {script}"


def _config(tmp_path: Path, db_url: str, port: int, token_line: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n[archive]\npath = "{tmp_path / "mailbox"}"\n'
        f'[rules]\npath = "{Path(__file__).resolve().parents[2] / "rules"}"\n'
        f'[daemon]\nstatus_file = "{tmp_path / "status.json"}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "plain"\ntimeout_seconds = 5\n'
        f'auth = "xoauth2"\nusername = "{USER}"\noauth2_token = {token_line}\n',
        encoding="utf-8",
    )
    return path


async def test_no_token_in_logs_status_or_stored_errors(
    tmp_path: Path, db_url: str, settings: Settings, sessions: Any, smtp_oauth_server: Any, new_request: Any,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    logged = io.StringIO()
    debug = settings.model_copy(update={"daemon": DaemonSettings(log_format="json", log_level="DEBUG")})
    setup_logging(debug, stream=logged)
    caplog.set_level(logging.DEBUG)
    env = TokenSourceSettings(env="AGENT_SMTP_TOKEN")
    smtp = smtp_oauth_server.settings(auth="xoauth2", username=USER, oauth2_token=env, pause_seconds=60)
    oauth = debug.model_copy(update={"smtp": smtp})

    # 1. A good token: the letter goes.
    monkeypatch.setenv("AGENT_SMTP_TOKEN", GOOD)
    smtp_oauth_server.grant(USER, GOOD)
    new_request(now=T0)
    with time_machine.travel(T0, tick=True):
        assert (await drain_once(oauth, sessions, worker_id="w1", now=T0)).sent == 1
    # 2. A revoked one, refreshed once and refused again: the outbox pauses.
    forget_sources()
    monkeypatch.setenv("AGENT_SMTP_TOKEN", REVOKED)
    new_request(now=T0)
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=True):
        assert (await drain_once(oauth, sessions, worker_id="w1", now=T0 + dt.timedelta(minutes=1))).paused
    # 3. A token command that prints a token and fails: its stdout is never quoted.
    forget_sources()
    failing = oauth.model_copy(update={"smtp": smtp.model_copy(update={
        "oauth2_token": TokenSourceSettings(command=_failing_command(tmp_path))})})
    later = T0 + dt.timedelta(hours=2)
    with time_machine.travel(later, tick=True):
        report = await drain_once(failing, sessions, worker_id="w1", now=later)
    assert report.paused and "refresh token expired" in (report.pause_reason or "")
    assert [ok for _, _, ok in smtp_oauth_server.auths] == [True, False, False]  # the servers really saw them

    runner = CliRunner()
    outputs = []
    for token_line in ('{ env = "AGENT_SMTP_TOKEN" }', f'{{ command = "{_failing_command(tmp_path)}" }}'):
        config = _config(tmp_path, db_url, smtp_oauth_server.port, token_line)
        for args in (["status"], ["status", "--json"], ["auth", "status"], ["auth", "status", "--json"],
                     ["config", "check"]):
            outputs.append(runner.invoke(app, ["--config", str(config), *args]).output)
    assert "queued 1, sent 1" in outputs[0] and "smtp: desk@example.org via command" in "\n".join(outputs)

    with sessions() as s:
        stored = [str(r.last_error) for r in s.scalars(select(Outbox))]
        stored += [i.reason for i in s.scalars(select(ReviewItem))]
        stored += [str(d.value) for d in s.scalars(select(DaemonState))]
    texts = [logged.getvalue(), caplog.text, *outputs, *stored]
    assert "outbox paused" in logged.getvalue()  # the capture really holds the daemon's lines
    for token in (GOOD, REVOKED, PRINTED):
        assert leaks(texts, token, USER) == [], token
