"""JSON log lines carry the syslog priority journald files them under; tokens read while running are redacted."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import sys
from pathlib import Path

import pytest

from agent.daemon.logging_setup import REDACTED, redact_fallback_output, setup_logging, syslog_priority
from agent.mail.oauth import TokenSource, from_command


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _emit_each_level() -> None:
    log = logging.getLogger("agent.test")
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    log.critical("c")


def test_every_json_line_names_its_syslog_priority(make_settings) -> None:
    settings = make_settings("sqlite:///x.db")
    settings = settings.model_copy(update={"daemon": settings.daemon.model_copy(update={"log_level": "DEBUG"})})
    stream = io.StringIO()
    setup_logging(settings, stream=stream)
    _emit_each_level()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(r["msg"], r["priority"]) for r in lines] == [("d", 7), ("i", 6), ("w", 4), ("e", 3), ("c", 2)]
    assert syslog_priority(logging.WARNING + 5) == 4  # a custom level between two takes the lower one's


def _journal_stream(path: Path, monkeypatch: pytest.MonkeyPatch, *, matches: bool) -> io.TextIOWrapper:
    stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by the test
    st = os.fstat(stream.fileno())
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino + (0 if matches else 1)}")
    return stream


def test_on_the_journal_each_line_starts_with_its_priority(make_settings, tmp_path: Path, monkeypatch) -> None:
    # What systemd does for a service: its stderr is a stream whose device:inode is in JOURNAL_STREAM.
    stream = _journal_stream(tmp_path / "journal", monkeypatch, matches=True)
    setup_logging(make_settings("sqlite:///x.db"), stream=stream)
    _emit_each_level()
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("agent.test").exception("failed")
    stream.close()
    lines = (tmp_path / "journal").read_text(encoding="utf-8").splitlines()
    assert [line[:3] for line in lines] == ["<6>", "<4>", "<3>", "<2>", "<3>"]
    # journald strips the prefix; what it keeps as MESSAGE is still one JSON object.
    assert json.loads(lines[1][3:])["msg"] == "w"
    assert "boom" in json.loads(lines[-1][3:])["exc"]


def test_a_redirected_stream_gets_no_prefix(make_settings, tmp_path: Path, monkeypatch) -> None:
    # JOURNAL_STREAM inherited from a parent, but stderr now goes to a file: no `<N>` in the file.
    stream = _journal_stream(tmp_path / "log", monkeypatch, matches=False)
    setup_logging(make_settings("sqlite:///x.db"), stream=stream)
    logging.getLogger("agent.test").warning("w")
    stream.close()
    assert (tmp_path / "log").read_text(encoding="utf-8").startswith("{")


@pytest.fixture
def rotating_command(tmp_path: Path) -> str:
    """A token program that prints a new token each time it runs (what a refreshing helper does)."""
    script = tmp_path / "token.py"
    counter = tmp_path / "count"
    script.write_text(
        "import pathlib, sys\n"
        f"p = pathlib.Path({str(counter)!r})\n"
        "n = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\n"
        "print(f'ya29.rotating-token-{n:04d}-Zq')\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return f"{sys.executable} {script}"


def test_tokens_fetched_after_logging_starts_are_redacted(make_settings, rotating_command: str) -> None:
    stream = io.StringIO()
    setup_logging(make_settings("sqlite:///x.db"), stream=stream)
    source = TokenSource("smtp", from_command(rotating_command, "smtp", timeout=30))
    first = source.token()
    source.invalidate()  # the server refused it: the next login runs the command again
    second = source.token()
    assert first != second
    log = logging.getLogger("agent.test")
    log.warning("AUTH XOAUTH2 refused for token %s", first, extra={"detail": f"bearer {second}"})
    output = stream.getvalue()
    assert first not in output and second not in output
    assert output.count(REDACTED) == 2


def test_one_shot_commands_redact_their_warnings(rotating_command: str, capsys) -> None:
    # `agent poll --once` configures no logging: warnings reach stderr through logging.lastResort.
    redact_fallback_output()
    redact_fallback_output()  # idempotent: one filter however many commands ran in this process
    token = TokenSource("imap", from_command(rotating_command, "imap", timeout=30)).token()
    record = logging.LogRecord("agent.test", logging.WARNING, __file__, 1, "login failed with %s", (token,), None)
    assert logging.lastResort is not None
    logging.lastResort.handle(record)
    said = capsys.readouterr().err
    assert token not in said and REDACTED in said
