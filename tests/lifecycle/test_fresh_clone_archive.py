"""A fresh clone's shipped config, pointed at a real SMTP server: what is sent lands in mailbox/ and the audit agrees."""

from __future__ import annotations

import json
import shutil
import tomllib
from email import message_from_bytes
from pathlib import Path

import pytest
import tomli_w
from typer.testing import CliRunner

from agent.cli import app
from support.smtp import SmtpServer

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _fresh_clone(root: Path, smtp: SmtpServer) -> Path:
    """config.toml, rules/ and a mailbox/ holding only its README, as `git clone` leaves them."""
    data = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    data["smtp"].update(host=smtp.host, port=smtp.port)
    (root / "config.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    (root / "rules").symlink_to(REPO / "rules", target_is_directory=True)
    (root / "mailbox").mkdir()
    shutil.copy(REPO / "mailbox" / "README.md", root / "mailbox" / "README.md")
    return root / "config.toml"


def test_sent_letter_is_archived_from_a_fresh_clone(tmp_path: Path, smtp_server: SmtpServer) -> None:
    config = _fresh_clone(tmp_path, smtp_server)

    def agent(*args: str) -> str:
        result = runner.invoke(app, ["--config", str(config), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    agent("db", "upgrade")
    agent("agency", "import", str(REPO / "examples" / "agencies-federal.csv"))
    agent("request", "new", "--agency", "Federal Bureau of Investigation", "--template", "foia_general",
          "--var", "topic=ALPR contracts", "--var", "records=Contracts")
    agent("request", "send", "1")
    agent("outbox", "send", "--once")

    assert len(smtp_server.messages) == 1
    sent_id = smtp_server.messages[0].message_id
    stored = [p for part in ("new", "cur") for p in (tmp_path / "mailbox" / part).iterdir()]
    assert len(stored) == 1
    assert message_from_bytes(stored[0].read_bytes())["Message-ID"] == sent_id
    report = json.loads(agent("archive", "check", "--json"))
    assert report["referenced"] == 1 and report["missing"] == [] and report["unarchived_sent"] == []


def test_archive_check_fails_on_sent_mail_never_archived(tmp_path: Path, smtp_server: SmtpServer) -> None:
    config = _fresh_clone(tmp_path, smtp_server)
    base = ["--config", str(config)]
    assert runner.invoke(app, [*base, "db", "upgrade"]).exit_code == 0
    runner.invoke(app, [*base, "agency", "import", str(REPO / "examples" / "agencies-federal.csv")])
    runner.invoke(app, [*base, "request", "new", "--agency", "Federal Bureau of Investigation", "--template",
                        "foia_general", "--var", "topic=t", "--var", "records=r"])
    assert runner.invoke(app, [*base, "request", "send", "1"]).exit_code == 0
    # What an archive that cannot be written leaves behind: the server has the letter, the archive does not.
    shutil.rmtree(tmp_path / "mailbox")
    (tmp_path / "mailbox").write_text("not a folder")
    assert runner.invoke(app, [*base, "outbox", "send", "--once"]).exit_code == 0
    assert len(smtp_server.messages) == 1
    (tmp_path / "mailbox").unlink()

    check = runner.invoke(app, [*base, "archive", "check"])
    assert check.exit_code == 1, check.output
    assert "unarchived_sent=1" in check.output and "sent but never archived: 1" in check.output


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
