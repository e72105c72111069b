"""The campaign preview an operator approves before the letters go out, at 80 and 200 columns: every word shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from agent.cli import app

runner = CliRunner()
AGENCY = "Office of the Inspector General for the Department of Exceptionally Long Agency Names and Related Matters"
TOPIC = " ".join(f"topic{i:02d}" for i in range(60))
RECORDS = "Contracts-and-audits-" * 6 + "ENDOFRECORDS"
BOX = re.compile(r"[│╭╮╰╯─\s]")


@pytest.fixture
def agent(tmp_path: Path, rules_dir: Path):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "agent.db"}"\n[rules]\npath = "{rules_dir}"\n')

    def run(*args: str, columns: int = 200, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--config", str(config), *args], input=input, env={"COLUMNS": str(columns)})

    assert run("db", "upgrade").exit_code == 0
    agencies = tmp_path / "agencies.csv"
    agencies.write_text(f"name,emails,jurisdiction\n{AGENCY},foia@oig.example.gov,US\n")
    assert run("agency", "import", str(agencies)).exit_code == 0
    return run


@pytest.mark.parametrize("columns", [80, 200])
def test_campaign_preview_shows_the_whole_first_letter(agent, columns: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    variables = ["--var", f"topic={TOPIC}", "--var", f"records={RECORDS}"]
    draft = agent("request", "new", "--agency", AGENCY, "--template", "foia_general", *variables, "--json")
    assert draft.exit_code == 0, draft.output
    letter = json.loads(draft.stdout)
    names = tmp_path / "names.csv"
    names.write_text(f"name\n{AGENCY}\n")
    preview = agent("campaign", "new", "--template", "foia_general", "--agencies", str(names), *variables,
                    columns=columns, input="n\n")
    assert preview.exit_code == 1  # declined: nothing filed
    output = preview.output
    widest = max(cell_len(line) for line in output.splitlines() if not line.startswith("File 1 requests"))
    assert widest <= columns
    # Every word of the letter (but its reference, RA-PREVIEW in the preview), of the agency and the subject.
    words = [w for w in f"{letter['body']} {AGENCY} {letter['subject']}".split() if "RA-" not in w]
    flat = BOX.sub("", output)
    missing = [w for w in words if w not in output and BOX.sub("", w) not in flat]
    assert not missing, f"lost: {missing[:5]}"
    assert RECORDS in flat and "…" not in output
