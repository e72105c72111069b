"""`agent corrections list|export`: what operators decided in review, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from agent.cli import app
from agent.db.models import Correction
from operators.seed import Seeded

runner = CliRunner()


def run(config: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--config", str(config), *args], env={"COLUMNS": "200"})


def test_review_decisions_become_corrections_listed_and_exported(
    seeded: Seeded, config_file: Path, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    assert "No corrections yet." in run(config_file, "corrections", "list").output
    assert run(config_file, "review", "relabel", str(seeded.reviews["low"]), "extension", "--operator", "alice").exit_code == 0
    assert run(config_file, "review", "confirm", str(seeded.reviews["fee"]), "--operator", "bob").exit_code == 0
    # Confirming an orphan vouches for the request, not the label; skipping decides nothing.
    assert run(config_file, "review", "confirm", str(seeded.reviews["orphan"]), "--operator", "bob").exit_code == 0
    assert run(config_file, "review", "skip", str(seeded.reviews["bounce"])).exit_code == 0

    listed = run(config_file, "corrections", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["action"], r["label"], r["previous_label"], r["operator"]) for r in rows] == [
        ("confirm", "fee", "fee", "bob"),
        ("relabel", "extension", "acknowledgment", "alice"),
    ]
    assert rows[1]["text"] == "Thank you for your request; it has been assigned to an analyst."
    assert rows[1]["previous_confidence"] == 0.45 and rows[1]["sender_domain"] == "fbe.example.gov"
    assert rows[1]["message"] == seeded.messages["r3-ack"]

    table = run(config_file, "corrections", "list", "--label", "extension")
    assert table.exit_code == 0 and "alice" in table.output and "relabel" in table.output and "bob" not in table.output

    out = tmp_path / "corrections.jsonl"
    exported = run(config_file, "corrections", "export", str(out))
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [(x["label"], x["body"][:9]) for x in lines] == [("extension", "Thank you"), ("fee", "A deposit")]
    first = lines[0]
    assert first["id"].startswith("corr-") and first["date"] and first["agency"] and "alice" in first["notes"]
    assert lines[1]["agency"] and "deposit" in lines[1]["body"]
    # The export is corpus-shaped: the evaluator reads it.
    evaluated = run(config_file, "eval", str(out))
    assert evaluated.exit_code == 0, evaluated.output
    assert evaluated.output.strip().splitlines()[-1].endswith("n=2")
    # Standard output when no file is named; the same lines.
    assert run(config_file, "corrections", "export").stdout == out.read_text(encoding="utf-8")
    with sessions() as s:
        assert len(s.scalars(select(Correction)).all()) == 2


def test_bad_arguments_fail_clearly(seeded: Seeded, config_file: Path, tmp_path: Path) -> None:
    bad = run(config_file, "corrections", "list", "--label", "nonsense")
    assert bad.exit_code == 2 and "unknown label" in bad.output
    unwritable = run(config_file, "corrections", "export", str(tmp_path / "missing" / "dir" / "x.jsonl"))
    assert unwritable.exit_code == 1 and "cannot write" in unwritable.output
