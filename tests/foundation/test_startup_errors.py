"""Mistakes a new user makes, each answered by one clear line and a non-zero exit (never a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agent.cli import app
from support.configs import REPO, write_config

runner = CliRunner()


def _agent(config: Path, *args: str) -> Result:
    return runner.invoke(app, ["--config", str(config), *args])


def _one_clear_line(result: Result) -> str:
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 3 and "Traceback" not in result.output, result.output
    return result.output


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def test_commands_before_db_upgrade_name_it_and_leave_no_file(tmp_path: Path, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    for args in (["requests"], ["review", "list"], ["archive", "check"]):
        assert "agent db upgrade" in _one_clear_line(_agent(config, *args)), args
    if db_url.startswith("sqlite"):
        assert "agent db upgrade" in _one_clear_line(_agent(config, "db", "current"))
        assert not (tmp_path / "agent.db").exists()
    assert _agent(config, "db", "upgrade").exit_code == 0
    listed = _agent(config, "requests")
    assert listed.exit_code == 0, listed.output


def test_an_old_schema_asks_for_an_upgrade(tmp_path: Path, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    assert _agent(config, "db", "upgrade", "0001").exit_code == 0
    output = _one_clear_line(_agent(config, "requests"))
    assert "revision 0001" in output and "agent db upgrade" in output


def test_run_migrates_by_itself(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url)
    ran = _agent(config, "run", "--once")
    assert ran.exit_code == 0, ran.output
    assert _agent(config, "requests").exit_code == 0


def test_unreachable_postgresql_names_the_host(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    config = write_config(tmp_path, "postgresql://postgres@127.0.0.1:1/records")
    for args in (["requests"], ["db", "upgrade"], ["run", "--once"]):
        output = _one_clear_line(_agent(config, *args))
        assert "127.0.0.1:1" in output and "PostgreSQL" in output, args


def test_misspelt_time_zone_is_refused_naming_the_key(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url, schedule={"timezone": "America/Los_Angles"})
    for args in (["config", "check"], ["requests"], ["db", "upgrade"]):
        output = _one_clear_line(_agent(config, *args))
        assert "timezone" in output and "America/Los_Angles" in output, args
    assert not (tmp_path / "agent.db").exists()


def test_config_check_needs_a_rules_folder_that_loads(tmp_path: Path, sqlite_url: str) -> None:
    missing = write_config(tmp_path / "a", sqlite_url, rules={"path": str(tmp_path / "nowhere")})
    assert "rules.path" in _one_clear_line(_agent(missing, "config", "check"))

    copy = tmp_path / "my-rules"
    made = runner.invoke(app, ["rules", "init", str(copy)])
    assert made.exit_code == 0, made.output
    assert (copy / "classify.toml").read_bytes() == (REPO / "rules" / "classify.toml").read_bytes()
    assert (copy / "statutes" / "CA.toml").is_file() and (copy / "templates" / "letters").is_dir()
    local = write_config(tmp_path / "b", sqlite_url, rules={"path": str(copy)})
    checked = _agent(local, "config", "check")
    assert checked.exit_code == 0, checked.output

    with (copy / "followups.toml").open("a", encoding="utf-8") as fh:
        fh.write("\nthis is = not toml [\n")
    output = _one_clear_line(_agent(local, "config", "check"))
    assert "rules.path" in output and "followups.toml" in output
    # Copying over an existing folder would destroy local edits: refused.
    assert runner.invoke(app, ["rules", "init", str(copy)]).exit_code != 0


def test_bundled_rules_are_the_default(tmp_path: Path, sqlite_url: str) -> None:
    from agent.config import load_settings

    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")
    settings = load_settings(config)
    assert settings.rules.path is None
    assert (settings.rules_path / "classify.toml").read_bytes() == (REPO / "rules" / "classify.toml").read_bytes()
    checked = _agent(config, "config", "check")
    assert checked.exit_code == 0, checked.output
