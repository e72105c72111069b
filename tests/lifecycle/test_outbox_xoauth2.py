"""SMTP AUTH XOAUTH2 against a real aiosmtpd: the config contract, rotating tokens, one refresh, then an auth error."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
import time_machine
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli import app
from agent.config import Settings, SmtpSettings, TokenSourceSettings
from agent.db.models import Outbox, ReviewItem
from agent.mail.oauth import forget_sources
from agent.mail.smtp_login import SmtpTokenUnavailable, smtp_client, smtp_connect
from agent.outbox.send import drain_once
from support.smtp import smtp_oauth_server  # noqa: F401

# aiosmtpd warns on every session that AUTH without TLS is unsafe: on loopback that is the point.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
UTC = dt.timezone.utc
T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=UTC)
USER = "desk@example.org"


@pytest.fixture(autouse=True)
def _fresh_sources() -> None:
    forget_sources()


def _oauth_settings(server: Any, token: TokenSourceSettings) -> SmtpSettings:
    return server.settings(auth="xoauth2", username=USER, oauth2_token=token)  # type: ignore[no-any-return]


def _command(tmp_path: Path, tokens: list[str]) -> TokenSourceSettings:
    """A token program printing the next token of the list on each run (the last one after that)."""
    (tmp_path / "tokens").write_text("\n".join(tokens))
    (tmp_path / "runs").write_text("0")
    script = tmp_path / "token.py"
    script.write_text(
        "import pathlib\n"
        f"d = pathlib.Path({str(tmp_path)!r})\n"
        "n = int((d / 'runs').read_text()); tokens = (d / 'tokens').read_text().split()\n"
        "(d / 'runs').write_text(str(n + 1)); print(tokens[min(n, len(tokens) - 1)])\n"
    )
    return TokenSourceSettings(command=f"{sys.executable} {script}")


async def test_contract_env_token_sends_auth_xoauth2(
    settings: Settings, sessions, smtp_oauth_server, new_request, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("AGENT_SMTP_TOKEN", "token-one")
    smtp_oauth_server.grant(USER, "token-one")
    oauth = settings.model_copy(update={"smtp": _oauth_settings(smtp_oauth_server, TokenSourceSettings(env="AGENT_SMTP_TOKEN"))})
    rid = new_request(now=T0)
    with time_machine.travel(T0, tick=True):
        report = await drain_once(oauth, sessions, worker_id="w1", now=T0)
    assert report.sent == 1
    assert smtp_oauth_server.auths == [(USER, "token-one", True)]
    assert len(smtp_oauth_server.messages) == 1
    with sessions() as s:
        assert s.scalars(select(Outbox.state).where(Outbox.request_id == rid)).one() == "sent"


async def test_a_refused_token_pauses_the_outbox_without_spending_attempts(
    settings: Settings, sessions, smtp_oauth_server, new_request, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("AGENT_SMTP_TOKEN", "revoked-token")
    oauth = settings.model_copy(update={"smtp": _oauth_settings(smtp_oauth_server, TokenSourceSettings(env="AGENT_SMTP_TOKEN"))})
    rid = new_request(now=T0)
    with time_machine.travel(T0, tick=True):
        report = await drain_once(oauth, sessions, worker_id="w1", now=T0)
    # A refused login is the account's problem, not the letter's: the breaker pauses the outbox, no attempt spent.
    assert (report.sent, report.retried, report.released, report.paused) == (0, 0, 1, True)
    assert "535" in (report.pause_reason or "") and "revoked-token" not in (report.pause_reason or "")
    # Tried, refused, fetched again and tried once more: then an authentication error, no loop.
    assert [ok for _, _, ok in smtp_oauth_server.auths] == [False, False]
    assert smtp_oauth_server.data_attempts == 0
    with sessions() as s:
        row = s.scalars(select(Outbox).where(Outbox.request_id == rid)).one()
        assert (row.state, row.attempts) == ("queued", 0)
        assert "revoked-token" not in (row.last_error or "")


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_missing_token_pauses_the_outbox_and_agent_status_says_so(
    tmp_path: Path, db_url: str, sessions, smtp_oauth_server, new_request, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """No token at all (unset variable): nothing is sent, no attempt is spent, and monitoring sees the pause."""
    monkeypatch.delenv("AGENT_SMTP_TOKEN_MISSING", raising=False)
    first, second = new_request(now=T0), new_request(now=T0, email="clerk@other-agency.example")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[archive]\npath = "{tmp_path / "mailbox"}"\n'
        f'[rules]\npath = "{Path(__file__).resolve().parents[2] / "rules"}"\n'
        f'[daemon]\nstatus_file = "{tmp_path / "status.json"}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_oauth_server.port}\nsecurity = "plain"\ntimeout_seconds = 5\n'
        f'auth = "xoauth2"\nusername = "{USER}"\noauth2_token = {{ env = "AGENT_SMTP_TOKEN_MISSING" }}\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    sent = runner.invoke(app, ["--config", str(config), "outbox", "send", "--once", "--json"])
    report = json.loads(sent.stdout)
    assert sent.exit_code == 1 and report["paused"] is True and report["sent"] == 0, sent.output
    assert "AGENT_SMTP_TOKEN_MISSING" in report["pause_reason"] and report["remaining"] == 2
    assert smtp_oauth_server.auths == [] and smtp_oauth_server.messages == []
    with sessions() as s:
        rows = list(s.scalars(select(Outbox).where(Outbox.request_id.in_([first, second]))))
        assert [(r.state, r.attempts) for r in rows] == [("queued", 0), ("queued", 0)]
        assert [i.kind for i in s.scalars(select(ReviewItem).where(ReviewItem.state == "open"))] == ["outbox_paused"]
    status = runner.invoke(app, ["--config", str(config), "status"])
    assert status.exit_code != 0, status.output  # unhealthy: monitoring pages someone
    assert "outbox is paused" in status.output and "no XOAUTH2 token" in status.output


async def test_a_command_token_rotating_mid_run(tmp_path: Path, smtp_oauth_server) -> None:  # type: ignore[no-untyped-def]
    cfg = _oauth_settings(smtp_oauth_server, _command(tmp_path, ["t1", "t2", "t3"]))
    smtp_oauth_server.grant(USER, "t1")
    smtp_oauth_server.grant(USER, "t2")
    for _ in range(2):
        client = smtp_client(cfg)
        await smtp_connect(client, cfg)
        await client.quit()
    # The provider rotated: t3 is the only valid token now, and the command prints it from now on.
    smtp_oauth_server.revoke(USER, "t1")
    smtp_oauth_server.revoke(USER, "t2")
    smtp_oauth_server.grant(USER, "t3")
    client = smtp_client(cfg)
    await smtp_connect(client, cfg)
    await client.sendmail("desk@example.org", ["clerk@agency.example"], b"Subject: hi\r\n\r\nbody\r\n")
    await client.quit()
    assert [(t, ok) for _, t, ok in smtp_oauth_server.auths] == [("t1", True), ("t2", True), ("t3", True)]
    assert len(smtp_oauth_server.messages) == 1


async def test_a_refused_token_is_refreshed_exactly_once(tmp_path: Path, smtp_oauth_server) -> None:  # type: ignore[no-untyped-def]
    # The command first prints a stale token (as a cache would), then a fresh one.
    cfg = _oauth_settings(smtp_oauth_server, _command(tmp_path, ["stale", "fresh"]))
    smtp_oauth_server.grant(USER, "fresh")
    client = smtp_client(cfg)
    await smtp_connect(client, cfg)
    assert client.is_connected
    await client.quit()
    assert [(t, ok) for _, t, ok in smtp_oauth_server.auths] == [("stale", False), ("fresh", True)]
    assert (tmp_path / "runs").read_text() == "2"


async def test_a_second_refusal_is_an_authentication_error(tmp_path: Path, smtp_oauth_server) -> None:  # type: ignore[no-untyped-def]
    cfg = _oauth_settings(smtp_oauth_server, _command(tmp_path, ["bad1", "bad2", "bad3"]))
    client = smtp_client(cfg)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as info:
        await smtp_connect(client, cfg)
    assert info.value.code == 535 and "bad" not in str(info.value)
    assert [t for _, t, _ in smtp_oauth_server.auths] == ["bad1", "bad2"]  # once refreshed, never a third time
    assert not client.is_connected


async def test_a_token_source_that_fails_is_reported_without_sending(smtp_oauth_server, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AGENT_SMTP_NO_TOKEN", raising=False)
    cfg = _oauth_settings(smtp_oauth_server, TokenSourceSettings(env="AGENT_SMTP_NO_TOKEN"))
    with pytest.raises(SmtpTokenUnavailable, match="AGENT_SMTP_NO_TOKEN is not set"):
        await smtp_connect(smtp_client(cfg), cfg)
    assert smtp_oauth_server.auths == []


async def test_password_auth_is_unchanged(smtp_oauth_server) -> None:  # type: ignore[no-untyped-def]
    # This server offers XOAUTH2 only: a password config must not try XOAUTH2 by accident.
    client = smtp_client(smtp_oauth_server.settings())
    await smtp_connect(client, smtp_oauth_server.settings())
    with pytest.raises(aiosmtplib.SMTPResponseException) as info:
        await client.sendmail("desk@example.org", ["clerk@agency.example"], b"Subject: x\r\n\r\nx\r\n")
    assert info.value.code == 530  # authentication required: we did not log in at all
    assert smtp_oauth_server.auths == []
    await client.quit()
