"""The built-in providers' cache, refresh and state-file logic, with msal and google-auth pointed at a loopback stand-in."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import TokenSourceSettings
from agent.mail.oauth import TokenError, forget_sources, token_source
from agent.mail.oauth_providers import MICROSOFT_SCOPES, MicrosoftSignIn
from support.oauth_provider import FakeProvider, jwt_claims

USER = "desk@example.org"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    fake = FakeProvider(tmp_path, user=USER).start()
    # Both libraries use requests, which trusts this bundle: the stand-in's certificate only.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.cert))
    forget_sources()
    yield fake
    fake.stop()
    forget_sources()


def _microsoft(provider: FakeProvider, tmp_path: Path) -> TokenSourceSettings:
    return TokenSourceSettings(
        provider="microsoft", client_id=provider.client_id, tenant="tenant-1", authority_host=provider.base,
        state_file=tmp_path / "state" / "oauth-microsoft.json",
    )


def _sign_in(cfg: TokenSourceSettings) -> list[str]:
    said: list[str] = []
    scopes = MICROSOFT_SCOPES["imap"] + MICROSOFT_SCOPES["smtp"]
    assert MicrosoftSignIn(cfg, "inbox.imap.oauth2_token").login_device_flow(scopes, said.append) == USER
    return said


def test_device_code_sign_in_keeps_the_refresh_token_0600(provider: FakeProvider, tmp_path: Path) -> None:
    cfg = _microsoft(provider, tmp_path)
    said = _sign_in(cfg)
    assert said and "ABCD-1234" in said[0]  # the user is told the code to enter
    assert provider.count(DEVICE_GRANT) == 1
    assert cfg.state_file is not None and stat.S_IMODE(cfg.state_file.stat().st_mode) == 0o600
    assert "rt-1" in cfg.state_file.read_text()  # what lets the daemon refresh without the user


def test_the_daemon_uses_the_cached_token_then_refreshes_when_refused(provider: FakeProvider, tmp_path: Path) -> None:
    cfg = _microsoft(provider, tmp_path)
    _sign_in(cfg)
    # A new process: nothing in memory, only the state file.
    source = token_source(cfg, "inbox.imap.oauth2_token", "imap", USER)
    assert source.token() == "at-1"
    assert source.token() == "at-1"
    assert provider.count("refresh_token") == 0  # valid for an hour: no round trip per login
    source.invalidate()  # the IMAP server refused at-1
    assert source.token() == "at-2"
    assert provider.count("refresh_token") == 1
    assert provider.grants[-1]["refresh_token"] == "rt-1"
    # The rotated refresh token replaced the old one on disk, still 0600.
    assert cfg.state_file is not None and "rt-2" in cfg.state_file.read_text()
    assert stat.S_IMODE(cfg.state_file.stat().st_mode) == 0o600


def test_a_token_about_to_expire_is_refreshed_before_use(provider: FakeProvider, tmp_path: Path) -> None:
    cfg = _microsoft(provider, tmp_path)
    provider.expires_in = 120  # inside the five-minute margin
    _sign_in(cfg)
    source = token_source(cfg, "smtp.oauth2_token", "smtp", USER)
    first = source.token()
    assert first != "at-1" and provider.count("refresh_token") == 1  # never hands out a token about to lapse


def test_a_revoked_sign_in_says_to_log_in_again(provider: FakeProvider, tmp_path: Path) -> None:
    cfg = _microsoft(provider, tmp_path)
    _sign_in(cfg)
    provider.refusing = True
    source = token_source(cfg, "inbox.imap.oauth2_token", "imap", USER)
    source.invalidate()
    with pytest.raises(TokenError, match="agent auth login microsoft") as info:
        source.token()
    assert "rt-1" not in str(info.value) and "at-1" not in str(info.value)


def test_without_a_sign_in_the_error_says_what_to_run(provider: FakeProvider, tmp_path: Path) -> None:
    with pytest.raises(TokenError, match="agent auth login microsoft"):
        token_source(_microsoft(provider, tmp_path), "k", "imap", USER).token()


def test_google_installed_app_refresh(provider: FakeProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import google.oauth2.credentials

    # google-auth always sends a user's refresh to Google's own endpoint: aim that constant at the stand-in.
    monkeypatch.setattr(google.oauth2.credentials, "_GOOGLE_OAUTH2_TOKEN_ENDPOINT", f"{provider.base}/google/token")
    state = tmp_path / "oauth-google.json"
    state.write_text(json.dumps({
        "type": "authorized_user", "client_id": "gid", "client_secret": "gsecret", "refresh_token": "grt-1",
        "token_uri": f"{provider.base}/google/token",
    }))
    state.chmod(0o600)
    secrets = tmp_path / "client.json"
    secrets.write_text("{}")
    cfg = TokenSourceSettings(provider="google", client_secrets_file=secrets, state_file=state)
    source = token_source(cfg, "inbox.imap.oauth2_token", "imap", USER)
    assert source.token() == "gat-1"
    assert source.token() == "gat-1"
    source.invalidate()
    assert source.token() == "gat-2"
    assert [g["grant_type"] for g in provider.grants] == ["refresh_token", "refresh_token"]
    assert provider.grants[0]["refresh_token"] == "grt-1"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600 and json.loads(state.read_text())["refresh_token"] == "grt-1"


def test_google_service_account_acts_for_the_mailbox(provider: FakeProvider, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    account = tmp_path / "sa.json"
    account.write_text(json.dumps({
        "type": "service_account", "project_id": "p", "private_key_id": "k1", "private_key": pem.decode(),
        "client_email": "agent@p.iam.gserviceaccount.com", "client_id": "1", "token_uri": f"{provider.base}/google/token",
    }))
    cfg = TokenSourceSettings(provider="google", service_account_file=account)
    source = token_source(cfg, "smtp.oauth2_token", "smtp", USER)
    assert source.token() == "gat-1"
    grant = provider.grants[-1]
    assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt_claims(grant["assertion"])
    assert claims["sub"] == USER and claims["scope"] == "https://mail.google.com/"  # domain-wide delegation
