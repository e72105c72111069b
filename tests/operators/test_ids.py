"""Ids typed by a person: past 2**63 (or the 2**31 - 1 of an id column), Unicode digits (`²`, `١٢`) or not a number at all, every command that
takes one answers with one clear line and a non-zero exit, on SQLite and PostgreSQL (no OverflowError)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.operators.ids import MAX_ID, BadId, as_id, parse_id
from operators.seed import Shared

runner = CliRunner()
TOO_BIG = str(2**63)
HUGE = "9" * 30
PG_LIMIT = str(2**31)  # fine for SQLite's binding, refused by PostgreSQL for an integer column
UNICODE_DIGITS = ("²", "١٢", "1²", "１")  # superscript two, Arabic-Indic twelve, fullwidth one


def run(shared: Shared, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--config", str(shared.config), *args], env={"COLUMNS": "200"})


def one_line_error(result, code: int, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for word in words:
        assert word in lines[0], lines[0]


def test_id_arguments_are_checked(shared: Shared) -> None:
    # Commands whose argument is an id and nothing else: a usage error, exit 2.
    commands = [("campaign", "show"), ("campaign", "followup"), ("outbox", "retry"), ("outbox", "cancel"),
                ("review", "confirm"), ("review", "skip")]
    for command in commands:
        for bad in (TOO_BIG, HUGE, PG_LIMIT):
            one_line_error(run(shared, *command, bad), 2, "out of range")
        for bad in (*UNICODE_DIGITS, "x1", "1.5"):
            one_line_error(run(shared, *command, bad), 2, "not a number")
        one_line_error(run(shared, *command, "0"), 2, "out of range")
    one_line_error(run(shared, "review", "attach", TOO_BIG, "RA-2025-0001"), 2, "review item", "out of range")
    one_line_error(run(shared, "review", "attach", "²", "RA-2025-0001"), 2, "not a number")
    # The largest id the database holds is an id: simply not found (exit 1), on both databases.
    one_line_error(run(shared, "campaign", "show", str(MAX_ID)), 1, f"no campaign {MAX_ID}")
    one_line_error(run(shared, "outbox", "retry", str(MAX_ID)), 1, f"no outbox row {MAX_ID}")
    one_line_error(run(shared, "review", "skip", str(MAX_ID)), 1, f"no review item {MAX_ID}")
    # Still an ordinary id where one is right.
    shown = run(shared, "campaign", "show", str(shared.seeded.campaign_id))
    assert shown.exit_code == 0 and "Use of force 2025" in shown.output


def test_references_that_look_like_ids(shared: Shared) -> None:
    # These take an id OR a reference / Message-ID / tracking number: what is not an id is looked up as the other.
    item = str(shared.seeded.reviews["orphan"])
    for bad in (TOO_BIG, HUGE, *UNICODE_DIGITS):
        one_line_error(run(shared, "thread", bad), 1, "no request")
        one_line_error(run(shared, "explain", bad), 1, "no message")
        one_line_error(run(shared, "request", "show", bad), 1, "no request")
        one_line_error(run(shared, "review", "attach", item, bad), 1, "no request")
    listed = run(shared, "requests", "--campaign", TOO_BIG, "--json")
    assert listed.exit_code == 0 and listed.stdout.strip() == "[]"
    # Counts and windows are bounded too (a usage error, not an OverflowError from SQLite or timedelta).
    for args in (("requests", "--due-within", HUGE), ("requests", "--limit", TOO_BIG), ("outbox", "list", "--limit", TOO_BIG)):
        result = run(shared, *args)
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    # `١` is read by int() as 1: it must not find request 1.
    assert run(shared, "thread", "١").exit_code == 1
    assert run(shared, "thread", "1").exit_code == 0


def test_parse_id() -> None:
    assert parse_id(" 42 ") == 42 and as_id("007") == 7 and as_id(str(MAX_ID)) == MAX_ID
    assert as_id("0" * 40 + "5") == 5  # leading zeros do not count towards the length limit
    for bad in ("", "0", TOO_BIG, "1" * 5000, "²", "١٢", "+1", "1_000", "1e3", "0x10"):
        assert as_id(bad) is None
        with pytest.raises(BadId):
            parse_id(bad, "campaign")
