"""What the operator commands print at 80 and 200 columns: long lines wrap, nothing is cropped, the reference,
state and due columns of lists stay whole, times carry the desk's zone, fees read "$37.50", --help shows flags."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import typer
from rich.cells import cell_len
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from agent.cli import app
from agent.db.models import Message, Request
from agent.operators.money import money
from agent.operators.screen import FoldingPanel, FoldingTable
from agent.operators.terminal import plain
from operators.seed import Seeded, facts, seed

runner = CliRunner()
WIDTHS = (80, 200)
# An unbreakable run longer than any terminal line: it can only fold, so cropping shows as a missing tail.
LONG_WORD = "Supercalifragilistic-" * 6 + "TAILEND"
BODY_WORDS = [f"body{i:03d}" for i in range(150)]
SUBJECT_WORDS = [f"subj{i:02d}" for i in range(40)]
BOX = re.compile(r"[│┃║╭╮╰╯─━═┏┓┗┛┡┩┠┨╇┳┻╋┃┼┬┴├┤┌┐└┘\s]")


def run(config: Path, columns: int, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--config", str(config), *args], input=input, env={"COLUMNS": str(columns)})


def joined(text: str) -> str:
    """The output with borders and white space removed: a folded word reads whole again."""
    return BOX.sub("", text)


# The walk's prompt: the terminal wraps it, and the piped answer is not echoed, so the next panel follows it.
PROMPT = re.compile(r"\[c\]onfirm .*?\(k\): ")


def assert_fits(text: str, columns: int) -> None:
    widest = max(cell_len(line) for line in PROMPT.sub("\n", text).splitlines())
    assert widest <= columns, f"a line of {widest} cells on a {columns}-column terminal"


def assert_all_words(text: str, words: list[str]) -> None:
    missing = [w for w in words if w not in text]
    assert not missing, f"lost: {missing[:5]}"


@pytest.fixture
def long_db(lite_sessions: sessionmaker[Session], lite_config: Path, today) -> tuple[Path, Seeded]:  # type: ignore[no-untyped-def]
    """The seeded database, with RA-2025-0003's letter and its agency's reply made long, and a $37.50 fee."""
    with lite_sessions.begin() as session:
        seeded = seed(session, today)
        request = session.get(Request, seeded.requests["RA-2025-0003"])
        assert request is not None
        request.body = "Dear FOIA officer,\n" + " ".join(BODY_WORDS) + "\n" + LONG_WORD + "\n"
        reply = session.get(Message, seeded.messages["r3-ack"])
        assert reply is not None
        reply.subject = "RE: " + " ".join(SUBJECT_WORDS)
        reply.cleaned_text = " ".join(BODY_WORDS) + " " + LONG_WORD
        fee = session.get(Message, seeded.messages["r6-fee"])
        assert fee is not None
        fee.facts = facts(fees=[{"amount": 37.5, "currency": "USD", "kind": "estimate", "text": "$37.50"}])
    return lite_config, seeded


@pytest.mark.parametrize("columns", WIDTHS)
def test_thread_full_wraps_and_loses_nothing(long_db: tuple[Path, Seeded], columns: int) -> None:
    config, _ = long_db
    result = run(config, columns, "thread", "RA-2025-0003", "--full")
    assert result.exit_code == 0, result.output
    assert_fits(result.output, columns)
    assert_all_words(result.output, BODY_WORDS + SUBJECT_WORDS)
    # Both copies of the long run (the letter as filed and the reply) arrive whole, tail included.
    assert joined(result.output).count(LONG_WORD) == 2
    # Times in the desk's zone (America/Los_Angeles in the test config), labelled.
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d P[SD]T", result.output)


@pytest.mark.parametrize("columns", WIDTHS)
def test_review_panel_wraps_and_shows_fee_in_dollars(long_db: tuple[Path, Seeded], columns: int) -> None:
    config, seeded = long_db
    # The walk shows the most urgent item first (the bounce), then the fee; skip, skip, then the long one.
    result = run(config, columns, "review", input="k\nk\nk\nq\n")
    assert result.exit_code == 0, result.output
    assert_fits(result.output, columns)
    assert "estimate $37.50" in result.output
    assert_all_words(result.output, BODY_WORDS + SUBJECT_WORDS)
    assert LONG_WORD in joined(result.output)
    assert re.search(r"since\s+\d{4}-\d\d-\d\d \d\d:\d\d P[SD]T", result.output)


@pytest.mark.parametrize("columns", WIDTHS)
def test_thread_shows_fees_in_dollars(long_db: tuple[Path, Seeded], columns: int) -> None:
    config, _ = long_db
    result = run(config, columns, "thread", "RA-2025-0006")
    assert result.exit_code == 0, result.output
    assert "estimate $37.50" in result.output and "37.5 USD" not in result.output


def _characters(text: str) -> Counter[str]:
    return Counter(c for c in text if not c.isspace())


@pytest.mark.parametrize("columns", WIDTHS)
def test_requests_list_keeps_reference_state_and_due(long_db: tuple[Path, Seeded], columns: int) -> None:
    config, _ = long_db
    import json

    rows = json.loads(run(config, 200, "requests", "--json").stdout)
    result = run(config, columns, "requests")
    assert result.exit_code == 0, result.output
    assert_fits(result.output, columns)
    lines = result.output.splitlines()
    for row in rows:
        # Reference, state and due date whole, on the row's own line.
        line = next((ln for ln in lines if row["reference"] in ln), None)
        assert line is not None, f"{row['reference']} broken or lost"
        assert row["state"] in line and row["due"] in line, line
    # Every character of every other cell is somewhere in the output: folded, never cropped or dropped.
    cells = "".join(f"{r['agency']}{''.join(r['tracking_numbers'])}{r['filed']}{r['last_reply'] or ''}" for r in rows)
    shown = _characters(result.output)
    need = _characters(cells)
    assert not need - shown, f"missing characters: {need - shown}"
    assert "…" not in result.output


@pytest.mark.parametrize("columns", WIDTHS)
def test_review_list_folds_without_losing_the_subject(long_db: tuple[Path, Seeded], columns: int) -> None:
    config, _ = long_db
    result = run(config, columns, "review", "list")
    assert result.exit_code == 0, result.output
    assert_fits(result.output, columns)
    assert "RA-2025-0003" in result.output and "RA-2025-0006" in result.output
    need = _characters("".join(SUBJECT_WORDS))
    assert not need - _characters(result.output)
    assert "…" not in result.output


def test_folding_table_at_a_tiny_width_folds_even_kept_columns() -> None:
    """Narrower than the kept columns need: they fold like the rest rather than being cut or dropped."""
    table = FoldingTable("reference", "agency", "state", keep=("reference", "state"))
    table.add_row(plain("RA-2025-0001"), plain("Beverly Hills Police Department"), plain("clarification_needed"))
    console = Console(width=24, record=True, color_system=None)
    console.print(table)
    text = console.export_text()
    assert_fits(text, 24)
    assert not _characters("RA-2025-0001BeverlyHillsPoliceDepartmentclarification_needed") - _characters(text)
    # With room for them, the kept columns stay whole while the agency folds.
    narrow = Console(width=50, record=True, color_system=None)
    narrow.print(table)
    kept = narrow.export_text()
    assert_fits(kept, 50)
    assert "RA-2025-0001" in kept and "clarification_needed" in kept and "Beverly Hills Police Department" not in kept
    with pytest.raises(ValueError):
        FoldingTable("a", keep=("b",))


def test_folding_panel_moves_a_long_title_into_the_body() -> None:
    title = plain("first letter: " + " ".join(SUBJECT_WORDS))
    console = Console(width=60, record=True, color_system=None)
    console.print(FoldingPanel(plain("body"), title))
    text = console.export_text()
    assert_fits(text, 60)
    assert_all_words(text, SUBJECT_WORDS)
    short = Console(width=60, record=True, color_system=None)
    short.print(FoldingPanel(plain("body"), plain("letter")))
    assert " letter " in short.export_text().splitlines()[0]  # short enough: it stays the title


def test_money_reads_like_a_price() -> None:
    assert money(37.5) == "$37.50"
    assert money(37.5, "usd") == "$37.50"
    assert money(1234.5, None) == "$1,234.50"
    assert money(0) == "$0.00"
    assert money(12, "EUR") == "12.00 EUR"
    assert money("n/a") == "n/a USD"  # shown as stored, never dropped


def _commands(command, path=()):  # type: ignore[no-untyped-def]
    yield path
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _commands(sub, (*path, name))


def test_help_shows_flags_as_flags() -> None:
    review = runner.invoke(app, ["review", "list", "--help"], env={"COLUMNS": "100"})
    assert review.exit_code == 0
    assert "--json" in review.output and "--all" in review.output
    assert not re.search(r"--json\s+<", review.output)
    requests = runner.invoke(app, ["requests", "--help"], env={"COLUMNS": "100"}).output
    assert re.search(r"--due-within\s+<int", requests)  # options that take a value keep their placeholder
    # No command anywhere prints a flag as if it took a value.
    for path in _commands(typer.main.get_command(app)):
        page = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert page.exit_code == 0, (path, page.output)
        assert "<bool>" not in page.output, path
