"""Config loading: the shipped default works; every mistake names the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.config import ConfigError, Secret, check_secrets, config_path_from, load_settings, read_secret

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_default_loads_and_resolves_paths_against_the_file() -> None:
    settings = load_settings(REPO / "config.toml")
    assert settings.database.url == f"sqlite:///{REPO / 'records-agent.db'}"
    assert settings.archive.path == REPO / "mailbox"
    assert settings.rules.path == REPO / "rules"
    assert settings.inbox.backend == "maildir"


def test_relative_paths_follow_the_config_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[archive]\npath = "arc"\n[database]\nurl = "sqlite:///x.db"\n')
    settings = load_settings(path)
    assert settings.archive.path == tmp_path / "arc"
    assert settings.database.url == f"sqlite:///{tmp_path / 'x.db'}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[database]\nurll = 'x'\n", "key 'database.urll': unknown key"),
        ("[inbox.imap]\nport = 'abc'\n", "key 'inbox.imap.port'"),
        ("[inbox]\nbackend = 'pop3'\n", "key 'inbox.backend'"),
        ("[smtp]\nhost = 'mail.example.org'\nsecurity = 'plain'\n", "key 'smtp'"),
        ("[nonsense]\n", "key 'nonsense': unknown key"),
        ("not toml = = =\n", "not valid TOML"),
        ("[inbox.imap]\npassword = 'hunter2'\n", "key 'inbox.imap.password'"),
    ],
)
def test_errors_name_key_and_file(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)
    assert "hunter2" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_secret_from_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RA_TEST_PW", "s3cret")
    assert read_secret(Secret(env="RA_TEST_PW"), "imap") == "s3cret"
    (tmp_path / "pw").write_text("from-file\n")
    path = _write(tmp_path, "[smtp]\npassword = { file = 'pw' }\n")
    settings = load_settings(path)
    assert read_secret(settings.smtp.password, "smtp") == "from-file"


def test_unset_secret_env_is_reported_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RA_NOT_SET", raising=False)
    path = _write(tmp_path, "[inbox]\nbackend = 'imap'\n[inbox.imap]\npassword = { env = 'RA_NOT_SET' }\n")
    settings = load_settings(path)
    with pytest.raises(ConfigError, match="RA_NOT_SET is not set") as info:
        check_secrets(settings)
    assert "inbox.imap.password" in str(info.value)


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AGENT_CONFIG", raising=False)
    assert config_path_from(None) == Path("config.toml")
    monkeypatch.setenv("AGENT_CONFIG", str(tmp_path / "env.toml"))
    assert config_path_from(None) == tmp_path / "env.toml"
    assert config_path_from(tmp_path / "cli.toml") == tmp_path / "cli.toml"


def test_cli_reports_bad_config_with_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "[database]\nbogus = 1\n")
    result = CliRunner().invoke(app, ["--config", str(path), "db", "upgrade"])
    assert result.exit_code == 2
    assert "database.bogus" in result.output


def test_cli_db_upgrade_creates_sqlite(tmp_path: Path) -> None:
    path = _write(tmp_path, "[database]\nurl = 'sqlite:///agent.db'\n")
    result = CliRunner().invoke(app, ["--config", str(path), "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "agent.db").exists()
    from alembic.script import ScriptDirectory

    from agent.db import migrate
    from agent.db.session import make_engine

    head = ScriptDirectory.from_config(migrate.alembic_config(make_engine("sqlite://"))).get_current_head()
    assert head and head in CliRunner().invoke(app, ["--config", str(path), "db", "current"]).output
