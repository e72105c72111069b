"""`agent request withdraw` and `agent campaign withdraw` end to end: the notice leaves through the real outbox
sender to a real SMTP server (aiosmtpd), in the thread of the letter that server received first."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app

runner = CliRunner()
GALT = "Galt Police Department"
TRACY = "Tracy Police Department"
SD = "San Diego County Sheriff's Department"


@pytest.fixture
def agent(tmp_path: Path, rules_dir: Path, smtp_server, example_files):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///agent.db"\n'
        '[archive]\npath = "mailbox"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "plain"\ntimeout_seconds = 5\n'
        f'[rules]\npath = "{rules_dir}"\n'
    )

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--config", str(config), *args], input=input)

    assert run("db", "upgrade").exit_code == 0
    assert run("agency", "import", str(example_files["ca"])).exit_code == 0
    return run


def _new(agent, agency: str) -> dict:  # type: ignore[no-untyped-def]
    made = agent("request", "new", "--agency", agency, "--template", "alpr", "--var", "years=2020-2024", "--json")
    assert made.exit_code == 0, made.output
    return json.loads(made.stdout)


def _show(agent, key: str | int) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(agent("request", "show", str(key), "--json").stdout)


def _outbox(agent) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(agent("outbox", "list", "--json").stdout)


def test_request_withdraw_sends_the_notice_in_the_thread(agent, smtp_server) -> None:
    sent, quiet, draft = _new(agent, SD), _new(agent, GALT), _new(agent, TRACY)
    for request in (sent, quiet):
        assert agent("request", "send", str(request["id"])).exit_code == 0
    assert "sent 2" in agent("outbox", "send", "--once").output
    letter = _show(agent, sent["id"])
    assert letter["state"] == "sent" and len(smtp_server.messages) == 2

    # Asked and declined: nothing changes.
    declined = agent("request", "withdraw", sent["reference"], input="n\n")
    assert declined.exit_code == 1 and "withdrawal notice?" in declined.output and "nothing withdrawn" in declined.output
    assert _show(agent, sent["id"])["state"] == "sent"

    done = agent("request", "withdraw", sent["reference"].lower(), "--reason", "we found the records elsewhere", input="y\n")
    assert done.exit_code == 0, done.output
    notice_row = next(r for r in _outbox(agent) if r["kind"] == "withdrawal")
    assert f"request {sent['reference']} withdrawn; withdrawal notice queued (outbox {notice_row['id']})" in done.output
    assert notice_row["state"] == "queued" and notice_row["request_id"] == sent["id"]

    again = agent("request", "withdraw", str(sent["id"]), "--yes")
    assert again.exit_code == 1 and "is withdrawn" in again.output
    no_notice = agent("request", "withdraw", str(quiet["id"]), "--yes", "--no-notice")
    assert no_notice.exit_code == 0 and f"request {quiet['reference']} withdrawn; no notice: not requested" in no_notice.output
    never = agent("request", "withdraw", str(draft["id"]), "--yes")
    assert never.exit_code == 0 and f"request {draft['reference']} withdrawn; no notice: never sent to the agency" in never.output
    assert agent("request", "withdraw", "99", "--yes").exit_code == 1

    # One notice only, and the real sender delivers it to the agency in the letter's thread.
    assert [r["kind"] for r in _outbox(agent)].count("withdrawal") == 1
    assert "sent 1" in agent("outbox", "send", "--once").output
    assert len(smtp_server.messages) == 3
    received = smtp_server.messages[-1]
    assert set(received.rcpt_tos) == {"records@sdsheriff.example.gov", "pra@sdsheriff.example.gov"}
    msg = message_from_bytes(received.data, policy=default_policy)
    assert msg["Message-ID"] == notice_row["message_id"]
    assert msg["In-Reply-To"] == letter["message_id"] and msg["References"] == letter["message_id"]
    assert msg["Subject"] == f"Re: {letter['subject']}"
    assert msg["Reply-To"] == letter["reply_address"]
    body = msg.get_content()
    assert sent["reference"] in body and "Reason: we found the records elsewhere" in body
    # The notice does not restart anything: the request stays withdrawn and the letter's clock is untouched.
    after = _show(agent, sent["id"])
    assert after["state"] == "withdrawn" and after["filed_at"] == letter["filed_at"]
    assert next(r for r in _outbox(agent) if r["kind"] == "withdrawal")["state"] == "sent"


def test_campaign_withdraw_notices_only_where_the_letter_went(agent, smtp_server, tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    names.write_text(f"name\n{GALT}\n{TRACY}\n\"{SD}\"\n")
    made = agent("campaign", "new", "--template", "alpr", "--agencies", str(names), "--var", "years=2023", "--yes")
    assert made.exit_code == 0 and "campaign 1: 3 requests queued" in made.output
    smtp_server.script_data([451])  # the first letter is put off: it is still queued when the campaign is withdrawn
    assert "sent 2" in agent("outbox", "send", "--once").output
    states = {r["request_id"]: r["state"] for r in _outbox(agent)}
    assert sorted(states.values()) == ["queued", "sent", "sent"]

    withdrawn = agent("campaign", "withdraw", "1", input="y\n")
    assert withdrawn.exit_code == 0, withdrawn.output
    assert "2 of the 3 open requests went out" in withdrawn.output
    assert "campaign 1: 3 requests withdrawn" in withdrawn.output
    assert "2 withdrawal notices queued; no notice: 1 never sent to the agency" in withdrawn.output
    rows = _outbox(agent)
    notices = sorted(r["request_id"] for r in rows if r["kind"] == "withdrawal")
    assert notices == sorted(rid for rid, state in states.items() if state == "sent")
    assert [r["state"] for r in rows if r["kind"] == "request" and r["request_id"] not in notices] == ["cancelled"]
    assert "0 requests withdrawn" in agent("campaign", "withdraw", "1", "--yes").output

    # --no-notice: the agencies are not told.
    second = agent("campaign", "new", "--template", "alpr", "--agencies", str(names), "--var", "years=2022", "--yes")
    assert "campaign 2: 3 requests queued" in second.output
    assert "sent 5" in agent("outbox", "send", "--once").output  # 3 letters and the 2 notices
    quiet = agent("campaign", "withdraw", "2", "--yes", "--no-notice")
    assert quiet.exit_code == 0 and "campaign 2: 3 requests withdrawn" in quiet.output
    assert "0 withdrawal notices queued; no notice: 3 not requested" in quiet.output
    assert [r["kind"] for r in _outbox(agent)].count("withdrawal") == 2
