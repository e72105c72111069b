"""IMAP AUTHENTICATE XOAUTH2 against a real Dovecot whose oauth2 passdb asks a loopback introspection endpoint."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from inbound_helpers import make_settings, mail, seed_world

from agent.config import ImapSettings, InboxSettings, TokenSourceSettings
from agent.inbound.poll import poll_once
from agent.mail.imap_inbox import ImapInbox
from agent.mail.inbox import Checkpoint, InboxError
from agent.mail.oauth import forget_sources

pytestmark = pytest.mark.dovecot


@pytest.fixture(autouse=True)
def _fresh_sources() -> None:
    forget_sources()


def _settings(account, token: TokenSourceSettings) -> ImapSettings:  # type: ignore[no-untyped-def]
    return ImapSettings(
        host=account.host, port=account.port, security="plain", auth="xoauth2", username=account.user,
        oauth2_token=token, timeout_seconds=10,
    )


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


def test_contract_env_token_logs_in_with_xoauth2_and_polls(
    tmp_path: Path, sqlite_sessions, sqlite_url: str, oauth_imap_account, introspection, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("AGENT_IMAP_TOKEN", "imap-token-1")
    oauth_imap_account.grant("imap-token-1")
    oauth_imap_account.append(mail(subject="over xoauth2"))
    imap = _settings(oauth_imap_account, TokenSourceSettings(env="AGENT_IMAP_TOKEN"))
    settings = make_settings(tmp_path, sqlite_url, inbox=InboxSettings(backend="imap", account="test", imap=imap))
    seed_world(sqlite_sessions)
    inbox = ImapInbox(imap, account="test")
    try:
        assert poll_once(settings, sqlite_sessions, inbox).new == 1
    finally:
        inbox.close()
    assert introspection.asked_for("imap-token-1") == 1  # Dovecot really checked our token


def test_a_refused_token_is_refreshed_once_then_the_login_succeeds(tmp_path: Path, oauth_imap_account, introspection) -> None:  # type: ignore[no-untyped-def]
    oauth_imap_account.grant("fresh")
    inbox = ImapInbox(_settings(oauth_imap_account, _command(tmp_path, ["expired", "fresh"])))
    try:
        assert list(inbox.batches(Checkpoint())) == []
        assert inbox.connects == 1
    finally:
        inbox.close()
    assert (introspection.asked_for("expired"), introspection.asked_for("fresh")) == (1, 1)
    assert (tmp_path / "runs").read_text() == "2"


def test_a_second_refusal_is_a_login_error_not_a_loop(tmp_path: Path, oauth_imap_account, introspection) -> None:  # type: ignore[no-untyped-def]
    inbox = ImapInbox(_settings(oauth_imap_account, _command(tmp_path, ["bad-1", "bad-2", "bad-3"])))
    with pytest.raises(InboxError, match="login refused.*XOAUTH2 token refused, also after a refresh") as info:
        list(inbox.batches(Checkpoint()))
    assert "bad-" not in str(info.value)
    assert [introspection.asked_for(t) for t in ("bad-1", "bad-2", "bad-3")] == [1, 1, 0]


def test_a_token_command_rotating_mid_run(tmp_path: Path, oauth_imap_account, introspection) -> None:  # type: ignore[no-untyped-def]
    oauth_imap_account.grant("r1")
    inbox = ImapInbox(_settings(oauth_imap_account, _command(tmp_path, ["r1", "r2"])))
    try:
        oauth_imap_account.append(mail(subject="first"))
        assert sum(len(b) for b in inbox.batches(Checkpoint())) == 1
        # The provider rotates: r1 stops working, the command now prints r2; the next connection uses it.
        oauth_imap_account.revoke("r1")
        oauth_imap_account.grant("r2")
        inbox.close()
        oauth_imap_account.append(mail(subject="second"))
        assert sum(len(b) for b in inbox.batches(Checkpoint(uidvalidity=inbox.uidvalidity, last_uid=1))) == 1
        assert inbox.connects == 2
    finally:
        inbox.close()
    assert (introspection.asked_for("r1"), introspection.asked_for("r2")) == (1, 1)


def test_the_password_server_is_untouched_by_the_oauth_variant(imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    from inbound_helpers import imap_settings

    imap_account.append(mail(subject="plain login still works"))
    inbox = ImapInbox(imap_settings(imap_account).imap)
    try:
        assert sum(len(b) for b in inbox.batches(Checkpoint())) == 1
    finally:
        inbox.close()


def test_no_imap_token_in_the_daemons_logs(
    tmp_path: Path, sqlite_sessions, sqlite_url: str, oauth_imap_account, introspection,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    import io
    import logging

    from agent.config import DaemonSettings
    from agent.daemon.logging_setup import setup_logging
    from support.token_leaks import leaks

    good, revoked = "imap-known-good-token-4c1e7a", "imap-known-revoked-token-88b2"
    oauth_imap_account.grant(good)
    oauth_imap_account.append(mail(subject="over xoauth2, logged"))
    imap = _settings(oauth_imap_account, TokenSourceSettings(env="AGENT_IMAP_TOKEN"))
    settings = make_settings(tmp_path, sqlite_url, inbox=InboxSettings(backend="imap", account="test", imap=imap))
    settings = settings.model_copy(update={"daemon": DaemonSettings(log_format="json", log_level="DEBUG")})
    logged = io.StringIO()
    setup_logging(settings, stream=logged)
    caplog.set_level(logging.DEBUG)
    seed_world(sqlite_sessions)
    monkeypatch.setenv("AGENT_IMAP_TOKEN", good)
    inbox = ImapInbox(imap, account="test")
    try:
        assert poll_once(settings, sqlite_sessions, inbox).new == 1
    finally:
        inbox.close()
    forget_sources()
    monkeypatch.setenv("AGENT_IMAP_TOKEN", revoked)
    inbox = ImapInbox(imap, account="test")
    try:
        with pytest.raises(InboxError) as info:
            poll_once(settings, sqlite_sessions, inbox)
    finally:
        inbox.close()
    logging.getLogger("agent.inbound.poll").warning("poll failed: %s", info.value)  # as the daemon's job logs it
    assert (introspection.asked_for(good), introspection.asked_for(revoked)) == (1, 2)  # Dovecot saw both
    texts = [logged.getvalue(), caplog.text, str(info.value)]
    assert "poll failed" in logged.getvalue()
    for token in (good, revoked):
        assert leaks(texts, token, oauth_imap_account.user) == [], token
