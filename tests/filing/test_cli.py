"""The agency, request and campaign commands end to end on a SQLite file, as an operator would type them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app

runner = CliRunner()


@pytest.fixture
def agent(tmp_path: Path, rules_dir: Path):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///agent.db"\n[rules]\npath = "{rules_dir}"\n')

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--config", str(config), *args], input=input)

    assert run("db", "upgrade").exit_code == 0
    return run


def test_agency_commands(agent, example_files, tmp_path: Path) -> None:
    checked = agent("agency", "import", "--check", str(example_files["ca"]))
    assert checked.exit_code == 0 and "60 agencies, no problems" in checked.output
    assert json.loads(agent("agency", "list", "--json").stdout) == []
    result = agent("agency", "import", str(example_files["ca"]))
    assert result.exit_code == 0, result.output
    assert "60 created, 0 updated, 0 unchanged" in result.output
    listed = json.loads(agent("agency", "list", "--json").stdout)
    assert len(listed) == 60 and listed[0]["jurisdiction"] == "CA"
    shown = agent("agency", "show", "beverly hills police department")
    assert shown.exit_code == 0 and "CRM-" in shown.output and "govqa" in shown.output
    assert agent("agency", "show", "Nowhere PD").exit_code == 1

    bad = tmp_path / "bad.csv"
    bad.write_text("name,emails,jurisdiction\nA PD,a@a.example.gov,CA\nB PD,b@,CA\nC PD,c@c.example.gov,QQ\n")
    result = agent("agency", "import", str(bad))
    assert result.exit_code == 2
    assert "line 3: emails" in result.output and "line 4: jurisdiction" in result.output
    assert len(json.loads(agent("agency", "list", "--json").stdout)) == 60


def test_request_commands(agent, example_files) -> None:
    agent("agency", "import", str(example_files["federal"]))
    missing = agent("request", "new", "--agency", "Federal Bureau of Investigation", "--template", "foia_general")
    assert missing.exit_code == 2
    assert "needs variable(s) records, topic" in missing.output
    wrong = agent("request", "new", "--agency", "Federal Bureau of Investigation", "--template", "cpra_general",
                  "--var", "topic=x", "--var", "records=y")
    assert wrong.exit_code == 2 and "is for jurisdiction(s) CA" in wrong.output
    assert agent("request", "new", "--agency", "Federal Bureau of Investigation", "--template", "nope").exit_code == 2
    assert agent("request", "new", "--agency", "FBI", "--template", "foia_general").exit_code == 2

    made = agent("request", "new", "--agency", "Federal Bureau of Investigation", "--template", "foia_general",
                 "--var", "topic=ALPR contracts", "--var", "records=1. Contracts\\n2. Audits")
    assert made.exit_code == 0, made.output
    assert "draft RA-" in made.output and "5 U.S.C. § 552(a)(6)(A)(i)" in made.output
    draft = json.loads(agent("request", "show", "1", "--json").stdout)
    assert draft["state"] == "draft" and draft["body"].count("\n1. Contracts\n2. Audits\n") == 1
    sent = agent("request", "send", draft["reference"])
    assert sent.exit_code == 0, sent.output
    queued = json.loads(agent("request", "show", "1", "--json").stdout)
    assert queued["state"] == "queued" and queued["message_id"].startswith("<")
    again = agent("request", "send", "1")
    assert again.exit_code == 1 and "not a draft" in again.output
    templates = agent("request", "templates")
    assert "alpr" in templates.output and "years" in templates.output


def test_campaign_commands(agent, example_files, tmp_path: Path) -> None:
    # The CSV is imported as part of the campaign; answering "no" files nothing and imports nothing.
    declined = agent("campaign", "new", "--template", "alpr", "--agencies", str(example_files["ca"]),
                     "--var", "years=2019-2024", input="n\n")
    assert declined.exit_code == 1
    assert "File 60 requests" in declined.output and "Cal. Gov. Code § 7922.535(a)" in declined.output
    assert json.loads(agent("agency", "list", "--json").stdout) == []

    assert agent("campaign", "new", "--template", "alpr", "--agencies", str(example_files["ca"])).exit_code == 2
    made = agent("campaign", "new", "--template", "alpr", "--agencies", str(example_files["ca"]),
                 "--var", "years=2019-2024", "--name", "CA ALPR", input="y\n")
    assert made.exit_code == 0, made.output
    assert "campaign 1: 60 requests queued" in made.output
    roll = json.loads(agent("campaign", "show", "1", "--json").stdout)
    assert roll["total"] == 60 and roll["by_state"] == {"queued": 60} and roll["name"] == "CA ALPR"
    assert "needing review" in agent("campaign", "show", "1").output

    agent("agency", "import", str(example_files["federal"]))
    by_jurisdiction = agent("campaign", "new", "--template", "foia_general", "--jurisdiction", "us",
                            "--var", "topic=ALPR", "--var", "records=Contracts", "--yes")
    assert by_jurisdiction.exit_code == 0 and "campaign 2: 4 requests queued" in by_jurisdiction.output
    assert agent("campaign", "new", "--template", "alpr", "--jurisdiction", "TX", "--var", "years=2020", "--yes").exit_code == 2
    assert agent("campaign", "new", "--template", "alpr", "--var", "years=2020", "--yes").exit_code == 2

    names = tmp_path / "names.csv"
    names.write_text("name\nGalt Police Department\nTracy Police Department\n")
    by_name = agent("campaign", "new", "--template", "alpr", "--agencies", str(names), "--var", "years=2023", "--yes")
    assert by_name.exit_code == 0 and "campaign 3: 2 requests queued" in by_name.output
    names.write_text("name\nGalt Police Department\nNo Such PD\n")
    unknown = agent("campaign", "new", "--template", "alpr", "--agencies", str(names), "--var", "years=2023", "--yes")
    assert unknown.exit_code == 2 and "not in the directory: No Such PD" in unknown.output

    followup = agent("campaign", "followup", "1")
    assert followup.exit_code == 0 and "0 follow-ups queued" in followup.output
    withdrawn = agent("campaign", "withdraw", "2", "--yes")
    assert withdrawn.exit_code == 0 and "4 requests withdrawn" in withdrawn.output
    assert json.loads(agent("campaign", "show", "2", "--json").stdout)["by_state"] == {"withdrawn": 4}
    assert agent("campaign", "show", "99").exit_code == 1
    listed = json.loads(agent("campaign", "list", "--json").stdout)
    assert [(c["id"], c["requests"]) for c in listed] == [(1, 60), (2, 4), (3, 2)]
