"""Logs are JSON off a terminal, text on one, and never contain a configured secret."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from agent.config import Secret
from agent.daemon.logging_setup import REDACTED, SecretRedactor, setup_logging

IMAP_PW = "imap-Secret-4711"
SMTP_PW = "smtp-pässword-0815"
DB_PW = "dbpw-XYZZY-99"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def secret_settings(tmp_path: Path, make_settings, monkeypatch):
    monkeypatch.setenv("T_IMAP_PW", IMAP_PW)
    secret_file = tmp_path / "smtp.secret"
    secret_file.write_text(SMTP_PW + "\n", encoding="utf-8")
    extra = f"""
[inbox.imap]
host = "127.0.0.1"
security = "plain"
password = {{ env = "T_IMAP_PW" }}
"""
    settings = make_settings(f"postgresql://agent:{DB_PW}@127.0.0.1/x", extra=extra)
    smtp = settings.smtp.model_copy(update={"password": Secret(file=secret_file)})
    return settings.model_copy(update={"smtp": smtp})


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_off_a_terminal(make_settings) -> None:
    stream = io.StringIO()
    setup_logging(make_settings("sqlite:///x.db"), stream=stream)
    logging.getLogger("agent.test").info("polled %d messages", 3, extra={"job": "poll", "new": 3})
    record = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert record["msg"] == "polled 3 messages"
    assert record["level"] == "INFO" and record["logger"] == "agent.test"
    assert record["job"] == "poll" and record["new"] == 3
    assert record["ts"].endswith("+00:00")


def test_text_on_a_terminal(make_settings) -> None:
    stream = Tty()
    settings = make_settings("sqlite:///x.db")
    settings = settings.model_copy(update={"daemon": settings.daemon.model_copy(update={"log_format": "auto"})})
    setup_logging(settings, stream=stream)
    logging.getLogger("agent.test").warning("hello", extra={"job": "send"})
    line = stream.getvalue().strip().splitlines()[-1]
    assert not line.startswith("{")
    assert "WARNING" in line and "hello" in line and "job=send" in line


def test_no_secret_reaches_the_log(secret_settings) -> None:
    stream = io.StringIO()
    setup_logging(secret_settings, stream=stream)
    log = logging.getLogger("agent.test")
    log.info("login with %s and %s", IMAP_PW, SMTP_PW)
    log.warning("db url postgresql://agent:%s@host/db", DB_PW, extra={"detail": {"pw": IMAP_PW, "list": [SMTP_PW]}})
    try:
        raise RuntimeError(f"AUTH failed for password {SMTP_PW}")
    except RuntimeError:
        log.exception("smtp error")
    logging.getLogger("sqlalchemy.engine").error("connect failed: %s", f"password={DB_PW}")
    output = stream.getvalue()
    for secret in (IMAP_PW, SMTP_PW, DB_PW):
        assert secret not in output
    assert output.count(REDACTED) >= 6
    # Every line is still valid JSON after redaction.
    for line in output.strip().splitlines():
        if line.startswith("{"):
            json.loads(line)


def test_redactor_handles_overlapping_and_short_values() -> None:
    red = SecretRedactor(["abcdef", "abc", "x"])
    assert red.redact("abcdef abc x") == f"{REDACTED} {REDACTED} x"


def test_run_without_a_database_fails_in_one_line_without_the_password(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "postgresql://agent:{DB_PW}@127.0.0.1:1/nope"\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "--config", str(config), "run", "--once"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "cannot reach the PostgreSQL server at 127.0.0.1:1" in proc.stderr
    assert DB_PW not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
