"""`agent deadline` and `agent statutes` on a bare Typer app, as the lead's CLI will mount them."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from agent.commands.deadlines import register


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


runner = CliRunner()


def test_deadline_json_shape(app):
    result = runner.invoke(app, ["deadline", "--jurisdiction", "CA", "--start", "2025-02-11"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {
        "jurisdiction": "CA",
        "due": "2025-02-21",
        "extended_due": "2025-03-07",
        "basis": "10 calendar days from receipt",
        "citation": "Cal. Gov. Code § 7922.535(a)",
    }


def test_deadline_extended_adds_effective_due(app):
    result = runner.invoke(app, ["deadline", "-j", "us", "-s", "2025-02-11", "--extended"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["due"], data["extended_due"], data["effective_due"]) == ("2025-03-12", "2025-03-26", "2025-03-26")


def test_deadline_without_extension_prints_null(app):
    result = runner.invoke(app, ["deadline", "-j", "GA", "-s", "2025-02-11"])
    assert json.loads(result.stdout)["extended_due"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [(["-j", "XX", "-s", "2025-02-11"], "unknown jurisdiction"), (["-j", "CA", "-s", "11/02/2025"], "YYYY-MM-DD")],
)
def test_deadline_bad_input_exits_2(app, args, message):
    result = runner.invoke(app, ["deadline", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_statutes_json_lists_all(app):
    result = runner.invoke(app, ["statutes", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 52
    assert {"id", "days", "day_type", "extension", "verified", "citation"} <= set(data[0])


def test_statutes_table(app):
    result = runner.invoke(app, ["statutes"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "52 statutes" in result.stdout and "7922.535" in result.stdout
