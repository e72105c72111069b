"""`agent campaign answers` end to end on a SQLite file: CSV/JSON/HTML shapes, the terminal table, --set, bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli import app
from agent.db.models import Event, Request
from agent.db.session import make_engine, make_session_factory
from agent.mail.archive import Archive
from filing.answer_corpus import CORPUS
from filing.answer_support import FILED, add_reply

runner = CliRunner()
PICKED = ("American Canyon Police Department", "Beverly Hills Police Department", "Buena Park Police Department")
HOSTILE = "A1. <b>Evil</b> & Sons Police Department\nA2. \x1b[2Jcleared\n"


@pytest.fixture
def agent(tmp_path: Path, rules_dir: Path, example_files: dict[str, Path]):  # type: ignore[no-untyped-def]
    db = tmp_path / "agent.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n[rules]\npath = "{rules_dir}"\n'
                      f'[archive]\npath = "{tmp_path / "mailbox"}"\n')

    def run(*args: str, columns: int = 80):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--config", str(config), *args], env={"COLUMNS": str(columns), "USER": "alice"})

    assert run("db", "upgrade").exit_code == 0
    assert run("agency", "import", str(example_files["ca"])).exit_code == 0
    names = tmp_path / "names.csv"
    names.write_text("name\n" + "\n".join(PICKED) + "\n")
    made = run("campaign", "new", "--template", "alpr", "--agencies", str(names), "--var", "years=2019-2020", "--yes")
    assert made.exit_code == 0, made.output
    engine = make_engine(f"sqlite:///{db}")
    sessions = make_session_factory(engine)
    archive = Archive(tmp_path / "mailbox")
    with sessions.begin() as session:
        for index, name in enumerate(PICKED):
            request = session.scalars(select(Request).join(Request.agency).where(Request.agency.has(name=name))).one()
            corpus = next(a for a in CORPUS if a.name == name)
            for n, letter in enumerate(corpus.letters):
                add_reply(session, archive, request.id, "records@agency.example.gov", letter.body, label=letter.label,
                          when=FILED, key=f"cli{index}-{n}", attachments=letter.attachments)
            if not corpus.letters:
                add_reply(session, archive, request.id, "records@agency.example.gov", HOSTILE, label="final_records",
                          when=FILED, key="hostile")
    run.sessions = sessions  # type: ignore[attr-defined]
    yield run
    engine.dispose()


def test_csv_json_html_shapes(agent) -> None:  # type: ignore[no-untyped-def]
    result = agent("campaign", "answers", "1", "--csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "agency,item,answer,value,message_id"
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 3 * 14
    assert {(r["agency"], r["item"]) for r in rows} == {(a, i["item"]) for a in PICKED for i in _items(agent)}
    cell = {(r["agency"], r["item"]): r for r in rows}
    assert cell[("American Canyon Police Department", "A2")]["answer"] == "None"
    assert cell[("American Canyon Police Department", "A2")]["value"] == "not available"
    assert cell[("American Canyon Police Department", "B2")]["value"] == "7"
    assert cell[("American Canyon Police Department", "B2")]["message_id"] == "<cli0-0@agency.example.gov>"
    assert cell[("Beverly Hills Police Department", "C1")]["answer"] == ""  # not answered: empty
    assert cell[("Beverly Hills Police Department", "B1")]["value"] == "1204113"

    data = json.loads(agent("campaign", "answers", "1", "--json").stdout)
    assert data["campaign_id"] == 1 and len(data["cells"]) == 42
    assert data["answered"] == sum(1 for c in data["cells"] if c["answered"])
    b1 = next(c for c in data["cells"] if c["agency"].startswith("Beverly") and c["item"] == "B1")
    assert (b1["value"], b1["kind"], b1["how"]) == (1204113, "number", "table")

    page = agent("campaign", "answers", "1", "--html").stdout
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "<link" not in page and "src=" not in page  # self-contained
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Sons" in page and "<b>Evil" not in page
    assert page.count("<tr>") == 1 + 3  # the head and one row per agency


def _items(agent) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return json.loads(agent("campaign", "answers", "1", "--json").stdout)["items"]


def test_terminal_table_wraps_and_shows_everything(agent) -> None:  # type: ignore[no-untyped-def]
    result = agent("campaign", "answers", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    words = " ".join(lines).split()
    for word in ("Riverside", "Sheriff", "Napa", "Office", "Santa", "Monica", "not", "answered"):
        assert word in words, word
    assert "…" not in result.stdout
    assert "\x1b" not in result.stdout and "\\x1b[2J" in result.stdout  # an agency's ESC shown, not obeyed


def test_set_by_hand_is_an_event_and_shows(agent) -> None:  # type: ignore[no-untyped-def]
    result = agent("campaign", "answers", "1", "--set", "beverly hills police department", "a2", "Three agencies")
    assert result.exit_code == 0, result.output
    assert "set to 'Three agencies'" in result.output and "was 'Not Accessible'" in result.output
    with agent.sessions.begin() as session:
        event = session.scalars(select(Event).where(Event.kind == "answer_set")).one()
        assert (event.cause, event.actor, event.detail["item"]) == ("operator", "alice", "A2")
        assert event.detail["old"]["answer"] == "Not Accessible"
        assert event.detail["old"]["message_id"].startswith("<cli1-")
    rows = {(r["agency"], r["item"]): r for r in csv.DictReader(io.StringIO(agent("campaign", "answers", "1", "--csv").stdout))}
    assert rows[("Beverly Hills Police Department", "A2")]["answer"] == "Three agencies"
    assert rows[("Beverly Hills Police Department", "A2")]["message_id"] == ""
    cells = json.loads(agent("campaign", "answers", "1", "--json").stdout)["cells"]
    hand = next(c for c in cells if c["agency"].startswith("Beverly") and c["item"] == "A2")
    assert (hand["set_by"], hand["how"]) == ("alice", "operator")
    wide = agent("campaign", "answers", "1", columns=200).stdout
    assert "set by hand by alice" in wide and max(len(line) for line in wide.splitlines()) <= 200
    # A second correction wins over the first; both stay in the history.
    assert agent("campaign", "answers", "1", "--set", "Beverly Hills Police Department", "B2", "8").exit_code == 0
    again = agent("campaign", "answers", "1", "--set", "Beverly Hills Police Department", "B2", "9", "--operator", "bob")
    assert "was '8'" in again.output
    rows = {(r["agency"], r["item"]): r for r in csv.DictReader(io.StringIO(agent("campaign", "answers", "1", "--csv").stdout))}
    assert rows[("Beverly Hills Police Department", "B2")]["value"] == "9"


@pytest.mark.parametrize(("args", "code", "says"), [
    (("99",), 1, "no campaign 99"),
    (("abc",), 2, "campaign 'abc'"),
    (("1", "--csv", "--json"), 2, "at most one of"),
    (("1", "--set", "No Such PD", "A1", "x"), 1, "no agency 'No Such PD' in campaign 1"),
    (("1", "--set", "Beverly Hills Police Department", "Z9", "x"), 1, "no item 'Z9'"),
    (("1", "--set", "Beverly Hills Police Department", "A1", "  "), 1, "empty"),
])
def test_bad_input_is_one_line_and_fails(agent, args: tuple[str, ...], code: int, says: str) -> None:  # type: ignore[no-untyped-def]
    result = agent("campaign", "answers", *args)
    assert result.exit_code == code
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1
