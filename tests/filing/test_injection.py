"""Letter variables are values, never template structure: injection attempts through `--var` are refused.

Through the real `agent` CLI, on SQLite and PostgreSQL (a refused request must leave no draft behind).
"""

from __future__ import annotations

import datetime as dt
import email
import json
import shutil
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli import app
from agent.config import IdentitySettings
from agent.db.models import Outbox
from agent.db.session import make_engine, make_session_factory
from agent.filing.letters import AgencyInfo, LetterError, render_letter

runner = CliRunner()
FBI = "Federal Bureau of Investigation"
TEXAS = "Amarillo Police Department"
GALT = "Galt Police Department"


@pytest.fixture
def agent(tmp_path: Path, rules_dir: Path, db_url: str, example_files: dict[str, Path]):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[rules]\npath = "{rules_dir}"\n')

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--config", str(config), *args], input=input, env={"COLUMNS": "200"})

    assert run("db", "upgrade").exit_code == 0
    local = tmp_path / "local.csv"
    local.write_text(f"name,emails,jurisdiction\n{TEXAS},records@amarillo.example.gov,TX\n"
                     f"{GALT},records@galt.example.gov,CA\n")
    for csv in (example_files["federal"], local):
        assert run("agency", "import", str(csv)).exit_code == 0
    run.db_url = db_url  # type: ignore[attr-defined]
    return run


def refused(result, *words: str) -> str:  # type: ignore[no-untyped-def]
    """A usage error: exit 2, one clear line naming what is wrong, no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for word in words:
        assert word in lines[0], lines[0]
    return str(lines[0])


def drafts(agent) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    result = agent("requests", "--json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


HEADER_ATTACKS = (
    "x\\nSubject: PAY NOW",  # the reported attack: a second Subject line
    "x\\n",  # a trailing newline used to end the header block early
    "x\r\nBcc: attacker@evil.example",
    "x\x1b[2J",
    "pay\u202egnp.exe",
    "x\x85Subject: NEL",
)


def test_header_variable_with_line_break_or_control_is_refused(agent) -> None:
    for topic in HEADER_ATTACKS:
        result = agent("request", "new", "--agency", FBI, "--template", "foia_general", "--var", f"topic={topic}",
                       "--var", "records=Contracts")
        refused(result, "'topic'", "subject")
    assert drafts(agent) == []


def test_body_variable_may_hold_lines_but_never_headers(agent) -> None:
    # A multi-line records list is intended; header-looking lines in it stay text of the letter.
    records = "1. Contracts\\n\\nSubject: PAY NOW\\nJurisdictions: *\\n"
    made = agent("request", "new", "--agency", GALT, "--template", "cpra_general", "--var", "topic=ALPR",
                 "--var", f"records={records}", "--json")
    assert made.exit_code == 0, made.output
    draft = json.loads(made.stdout)
    assert draft["subject"].endswith("] Public records request: ALPR")
    assert "1. Contracts\n\nSubject: PAY NOW\nJurisdictions: *\n" in str(draft["body"])
    assert str(draft["body"]).startswith("To the public records officer of Galt Police Department:")

    # The guard is the template's own text: no body value moves it, so a CPRA letter never goes to Texas.
    texas = agent("request", "new", "--agency", TEXAS, "--template", "cpra_general", "--var", "topic=ALPR",
                  "--var", f"records={records}")
    refused(texas, "is for jurisdiction(s) CA", "is in TX")

    # The queued mail has exactly the one Subject the template made.
    assert agent("request", "send", str(draft["id"])).exit_code == 0
    engine = make_engine(agent.db_url)
    try:
        with make_session_factory(engine)() as session:
            raw = session.scalars(select(Outbox.raw)).one()
    finally:
        engine.dispose()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg.get_all("Subject") == [draft["subject"]] and msg.get_all("Jurisdictions") is None
    assert "Subject: PAY NOW" in msg.get_content()


def test_body_variable_with_escape_sequence_is_refused(agent) -> None:
    result = agent("request", "new", "--agency", GALT, "--template", "cpra_general", "--var", "topic=ALPR",
                   "--var", "records=a\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07")
    refused(result, "'records'", "U+001B")
    campaign = agent("campaign", "new", "--template", "cpra_general", "--jurisdiction", "CA", "--yes",
                     "--var", "topic=ALPR\\nSubject: PAY NOW", "--var", "records=x")
    refused(campaign, "'topic'")
    assert drafts(agent) == []


BAD_NAMES: tuple[tuple[list[str], tuple[str, ...]], ...] = (
    (["self=x"], ("'self'", "cannot be used")),  # was a TypeError from Template.render
    (["loop=x"], ("'loop'", "cannot be used")),
    (["class=x"], ("'class'", "cannot be used")),
    (["_x=1"], ("'_x'", "cannot be used")),
    (["agency=Evil"], ("'agency'", "filled in by the agent")),
    (["reference=RA-1"], ("'reference'", "filled in by the agent")),
    (["1topic=x"], ("plain identifier",)),
    (["topic"], ("NAME=VALUE",)),
    (["topic=a", "topic=b"], ("given twice",)),
)


def test_reserved_and_invalid_names_are_refused(agent) -> None:
    for pairs, words in BAD_NAMES:
        args = [arg for pair in pairs for arg in ("--var", pair)]
        result = agent("request", "new", "--agency", FBI, "--template", "foia_general", "--var", "records=x", *args)
        refused(result, *words)
    assert drafts(agent) == []


# ---- the template side (no database): structure comes from the file, never from a value ------------


IDENTITY = IdentitySettings(name="Jane Roe", address="records@example.org")


def _rules_with(tmp_path: Path, rules_dir: Path, name: str, text: str) -> Path:
    rules = tmp_path / "rules"
    (rules / "templates" / "letters").mkdir(parents=True, exist_ok=True)
    if not (rules / "statutes").exists():
        shutil.copytree(rules_dir / "statutes", rules / "statutes")
    (rules / "templates" / "letters" / f"{name}.txt.j2").write_text(text, encoding="utf-8")
    return rules


def _render(rules: Path, name: str, book, **variables: str):  # type: ignore[no-untyped-def]
    return render_letter(rules, name, agency=AgencyInfo("Galt Police Department", "CA"), variables=variables,
                         identity=IDENTITY, reference="RA-2025-0001", filed_on=dt.date(2025, 2, 10), book=book)


def test_a_value_reaching_the_subject_through_a_set_is_checked(tmp_path: Path, rules_dir: Path, book) -> None:
    rules = _rules_with(tmp_path, rules_dir, "indirect",
                        "{# a comment #}\n{% set title = topic | upper %}\nSubject: {{ title }}\nJurisdictions: CA\n\n"
                        "Dear {{ agency.name }}, {{ note }}\n")
    made = _render(rules, "indirect", book, topic="alpr", note="line one\nline two")
    assert made.subject == "ALPR" and made.body == "Dear Galt Police Department, line one\nline two\n"
    with pytest.raises(LetterError, match="'topic' goes into the subject"):
        _render(rules, "indirect", book, topic="alpr\nBcc: x@evil.example", note="n")


def test_jurisdiction_guard_must_be_literal(tmp_path: Path, rules_dir: Path, book) -> None:
    rules = _rules_with(tmp_path, rules_dir, "guard", "Subject: x\nJurisdictions: {{ where }}\n\nBody\n")
    with pytest.raises(LetterError, match="Jurisdictions header must be plain text"):
        _render(rules, "guard", book, where="*")
