"""Token sources without a server: where a token comes from, when it is fetched again, what errors say."""

from __future__ import annotations

import datetime as dt
import stat
import sys
from pathlib import Path

import pytest

from agent.config import ConfigError, ImapSettings, Settings, SmtpSettings, TokenSourceSettings, check_secrets, load_settings
from agent.mail.oauth import AccessToken, TokenError, TokenSource, forget_sources, make_fetch, token_source

UTC = dt.timezone.utc
SECRET = "ya29.super-secret-token-value"


@pytest.fixture(autouse=True)
def _fresh_sources() -> None:
    forget_sources()


def rotating_command(tmp_path: Path, tokens: list[str]) -> str:
    """A token program that prints the next token of a list each run (the last one forever after)."""
    (tmp_path / "tokens.txt").write_text("\n".join(tokens))
    (tmp_path / "count").write_text("0")
    script = tmp_path / "token.py"
    script.write_text(
        "import pathlib, sys\n"
        f"d = pathlib.Path({str(tmp_path)!r})\n"
        "n = int((d / 'count').read_text())\n"
        "tokens = (d / 'tokens.txt').read_text().split()\n"
        "(d / 'count').write_text(str(n + 1))\n"
        "print(tokens[min(n, len(tokens) - 1)])\n"
    )
    return f"{sys.executable} {script}"


def test_env_file_and_command_are_read_at_each_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_ENV", "from-env")
    assert TokenSource("k", make_fetch(TokenSourceSettings(env="T_ENV"), "k", "imap", "u")).token() == "from-env"
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    source = TokenSource("k", make_fetch(TokenSourceSettings(file=token_file), "k", "imap", "u"))
    assert source.token() == "from-file"
    token_file.write_text("rotated-by-someone-else\n")
    assert source.token() == "rotated-by-someone-else"  # no expiry known: never cached
    command = TokenSource("k", make_fetch(TokenSourceSettings(command=rotating_command(tmp_path, ["c1", "c2"])), "k", "smtp", "u"))
    assert [command.token(), command.token(), command.fetches] == ["c1", "c2", 2]


def test_a_token_with_an_expiry_is_reused_until_shortly_before_it() -> None:
    now = [dt.datetime(2026, 1, 1, 12, tzinfo=UTC)]
    calls: list[bool] = []

    def fetch(force: bool) -> AccessToken:
        calls.append(force)
        return AccessToken(f"t{len(calls)}", now[0] + dt.timedelta(hours=1))

    source = TokenSource("k", fetch, clock=lambda: now[0])
    assert source.token() == "t1"
    now[0] += dt.timedelta(minutes=50)
    assert source.token() == "t1"  # 10 minutes left: still good
    now[0] += dt.timedelta(minutes=6)
    assert source.token() == "t2"  # within the 5-minute margin: refreshed before it expires
    source.invalidate()
    assert source.token() == "t3"
    assert calls == [False, False, True]  # only the refusal forces a provider refresh


def test_errors_name_the_source_and_never_the_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("T_MISSING", raising=False)
    with pytest.raises(TokenError, match="environment variable T_MISSING is not set"):
        TokenSource("smtp.oauth2_token", make_fetch(TokenSourceSettings(env="T_MISSING"), "smtp.oauth2_token", "smtp", "u")).token()
    failing = tmp_path / "fail.py"
    failing.write_text(f"import sys\nprint({SECRET!r})\nprint('sign-in expired', file=sys.stderr)\nsys.exit(3)\n")
    source = TokenSource("k", make_fetch(TokenSourceSettings(command=f"{sys.executable} {failing}"), "k", "imap", "u"))
    with pytest.raises(TokenError) as info:
        source.token()
    assert "exited 3: sign-in expired" in str(info.value) and SECRET not in str(info.value)
    with pytest.raises(TokenError, match="not found"):
        TokenSource("k", make_fetch(TokenSourceSettings(command="/nonexistent/token-cmd"), "k", "imap", "u")).token()
    token = AccessToken(SECRET)
    assert SECRET not in repr(token)
    good = TokenSource("k", lambda force: token)
    good.token()
    assert SECRET not in repr(good) and SECRET not in repr(vars(good).get("what"))


def test_one_source_per_key_shares_its_cache() -> None:
    cfg = TokenSourceSettings(env="X")
    assert token_source(cfg, "smtp.oauth2_token", "smtp", "a@x") is token_source(cfg, "smtp.oauth2_token", "smtp", "a@x")
    assert token_source(cfg, "smtp.oauth2_token", "smtp", "a@x") is not token_source(cfg, "inbox.imap.oauth2_token", "imap", "a@x")


def test_config_xoauth2_needs_a_token_source_and_a_user() -> None:
    with pytest.raises(ValueError, match="oauth2_token"):
        SmtpSettings(auth="xoauth2", username="me@example.org")
    with pytest.raises(ValueError, match="username"):
        ImapSettings(auth="xoauth2", oauth2_token=TokenSourceSettings(env="X"))
    with pytest.raises(ValueError, match="exactly one"):
        TokenSourceSettings(env="X", command="print-token")
    with pytest.raises(ValueError, match="exactly one"):
        TokenSourceSettings()
    with pytest.raises(ValueError, match="client_id"):
        TokenSourceSettings(provider="microsoft")
    # Password auth is as before: the default, needing nothing new.
    assert SmtpSettings(username="u", password=None).auth == "password"
    assert ImapSettings().auth == "password"


def test_config_file_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[inbox]\nbackend = "imap"\n'
        '[inbox.imap]\nhost = "imap.example.org"\nauth = "xoauth2"\nusername = "desk@example.org"\n'
        'oauth2_token = { provider = "microsoft", client_id = "abc" }\n'
        '[smtp]\nauth = "xoauth2"\nusername = "desk@example.org"\noauth2_token = { env = "AGENT_SMTP_TOKEN" }\n'
    )
    settings = load_settings(path)
    assert settings.smtp.oauth2_token == TokenSourceSettings(env="AGENT_SMTP_TOKEN")
    # The provider's state file defaults to beside the config, like every relative path.
    token = settings.inbox.imap.oauth2_token
    assert token is not None and token.state_file == tmp_path / "oauth-microsoft.json"
    monkeypatch.setenv("AGENT_SMTP_TOKEN", SECRET)
    with pytest.raises(ConfigError, match="inbox.imap.oauth2_token.*agent auth login microsoft"):
        check_secrets(settings)
    (tmp_path / "oauth-microsoft.json").write_text("{}")
    check_secrets(settings)
    monkeypatch.delenv("AGENT_SMTP_TOKEN")
    with pytest.raises(ConfigError, match="smtp.oauth2_token.*AGENT_SMTP_TOKEN is not set"):
        check_secrets(settings)
    path.write_text('[smtp]\nauth = "xoauth2"\nusername = "u"\n')
    with pytest.raises(ConfigError, match="smtp.*oauth2_token"):
        load_settings(path)
    path.write_text('[smtp]\nauth = "oauth"\n')
    with pytest.raises(ConfigError, match="smtp.auth"):
        load_settings(path)


def test_shipped_config_still_loads() -> None:
    repo = Path(__file__).resolve().parents[2]
    settings = load_settings(repo / "config.toml")
    assert isinstance(settings, Settings) and settings.smtp.auth == "password"


def test_state_file_is_written_0600(tmp_path: Path) -> None:
    from agent.mail.oauth_providers import read_private, write_private

    state = tmp_path / "state" / "oauth-microsoft.json"
    write_private(state, '{"refresh": "x"}')
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    state.chmod(0o644)
    assert read_private(state, "k") == '{"refresh": "x"}'
    assert stat.S_IMODE(state.stat().st_mode) == 0o600  # a widened file is tightened on read
    assert read_private(tmp_path / "absent.json", "k") is None
