"""The operator commands on a seeded database, through the real `agent` app, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from agent.cli import app
from agent.db.models import Event, Message, Outbox, Request, ReviewItem
from operators.seed import Seeded, Shared, seed

runner = CliRunner()


def run(config: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    # A wide "terminal", so tables are not folded into the assertions' way.
    return runner.invoke(app, ["--config", str(config), *args], input=input, env={"COLUMNS": "200"})


def refs(result) -> list[str]:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return [row["reference"] for row in json.loads(result.stdout)]


# ---- requests -----------------------------------------------------------------------------------


def test_requests_table_and_filters(shared: Shared) -> None:
    seeded, config_file = shared.seeded, shared.config
    table = run(config_file, "requests")
    assert table.exit_code == 0, table.output
    for ref in seeded.requests:
        assert ref in table.output
    assert "Beverly Hills" in table.output and "R012345-020525" in table.output

    data = json.loads(run(config_file, "requests", "--json").stdout)
    row = next(r for r in data if r["reference"] == "RA-2025-0001")
    assert row["tracking_numbers"] == ["R012345-020525", "R012399-030525"]
    assert row["state"] == "extended"
    assert row["due"] == (seeded.today + dt.timedelta(days=4)).isoformat()  # the extension moved it
    assert row["last_reply"] == (seeded.today - dt.timedelta(days=6)).isoformat()
    assert row["filed"] == (seeded.today - dt.timedelta(days=20)).isoformat()
    steps = {r["reference"]: r["next_step"] for r in data}
    assert steps == {"RA-2025-0001": "follow-up 1", "RA-2025-0002": "follow-up 1", "RA-2025-0003": "you: review",
                     "RA-2025-0004": "you: review", "RA-2025-0005": "", "RA-2025-0006": "you: fee"}

    overdue = json.loads(run(config_file, "requests", "--overdue", "--json").stdout)
    # RA-0002's promised date (5 days ago) counts, not its older statutory date; fee-pending RA-0006 is our move.
    assert {r["reference"]: r["days_overdue"] for r in overdue} == {"RA-2025-0002": 5, "RA-2025-0004": 15}
    assert refs(run(config_file, "requests", "--due-within", "7", "--json")) == ["RA-2025-0003", "RA-2025-0001"]
    assert refs(run(config_file, "requests", "--state", "extended,partial", "--json")) == [
        "RA-2025-0002", "RA-2025-0001"]
    assert sorted(refs(run(config_file, "requests", "--campaign", str(seeded.campaign_id), "--json"))) == [
        "RA-2025-0001", "RA-2025-0002", "RA-2025-0004"]
    assert len(refs(run(config_file, "requests", "--campaign", "use of force 2025", "--json"))) == 3
    assert sorted(refs(run(config_file, "requests", "--agency", "BEVERLY", "--json"))) == [
        "RA-2025-0001", "RA-2025-0005"]
    assert refs(run(config_file, "requests", "--agency", "nobody", "--json")) == []
    # --limit keeps the first rows of the full list, in its order (oldest due first).
    everything = refs(run(config_file, "requests", "--json"))
    assert refs(run(config_file, "requests", "--limit", "2", "--json")) == everything[:2]
    assert refs(run(config_file, "requests", "--overdue", "--limit", "1", "--json")) == ["RA-2025-0004"]


def test_requests_rejects_unknown_state(lite_config: Path) -> None:
    result = run(lite_config, "requests", "--state", "lost")
    assert result.exit_code == 2
    assert "unknown state lost" in result.output


# ---- thread -------------------------------------------------------------------------------------


def test_thread_timeline(shared: Shared) -> None:
    seeded, config_file = shared.seeded, shared.config
    result = run(config_file, "thread", "ra-2025-0001")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "portal footer folded, seen 2×" in out  # twice in this thread; RA-0005's copy is another thread
    assert "notice repeated from earlier in the thread folded" in out and "quoted earlier mail folded" in out
    assert "extension 0.90" in out and "acknowledgment 0.95" in out
    assert "acknowledged → extended" in out
    assert "extended to" in out
    assert out.index("acknowledgment 0.95") < out.index("extension 0.90")  # time order
    assert "our request as filed" not in out  # the letter as filed only with --full

    full = run(config_file, "thread", "RA-2025-0001", "--full")
    assert "our request as filed" in full.output and "please send" in full.output

    data = json.loads(run(config_file, "thread", "R012399-030525", "--json").stdout)  # by tracking number
    assert data["reference"] == "RA-2025-0001"
    kinds = [(e["type"], e.get("label") or e.get("kind")) for e in data["entries"]]
    assert kinds[:3] == [("message", "ours"), ("event", "state_change"), ("message", "acknowledgment")]
    ext = next(e for e in data["entries"] if e.get("label") == "extension")
    assert ext["folded"] == ["portal footer folded, seen 2×", "notice repeated from earlier in the thread folded",
                             "quoted earlier mail folded"]
    assert data["deadlines"]["effective_due"] == (seeded.today + dt.timedelta(days=4)).isoformat()

    batch = json.loads(run(config_file, "thread", "RA-2025-0002", "--json").stdout)
    msg = next(e for e in batch["entries"] if e.get("label") == "batch")
    assert [a["filename"] for a in msg["attachments"]] == ["incident_reports.pdf", "policy_300.pdf"]
    assert batch["deadlines"]["days_overdue"] == 5


def test_thread_unknown_reference_exits_1(lite_config: Path) -> None:
    result = run(lite_config, "thread", "RA-1999-0001")
    assert result.exit_code == 1
    assert "no request" in result.output


# ---- explain ------------------------------------------------------------------------------------


def test_explain_by_row_id_and_message_id(shared: Shared) -> None:
    seeded, config_file = shared.seeded, shared.config
    by_id = run(config_file, "explain", str(seeded.messages["r1-ext"]))
    assert by_id.exit_code == 0, by_id.output
    assert "tracking_number" in by_id.output and "R012399-030525" in by_id.output
    assert "extension.on_or_before" in by_id.output and "date.extract" in by_id.output
    data = json.loads(run(config_file, "explain", "r1-ext@seed", "--json").stdout)
    assert data["id"] == seeded.messages["r1-ext"]
    assert data["request"] == "RA-2025-0001"
    assert [(e["kind"], e["value"], e["note"]) for e in data["evidence"]] == [
        ("tracking_number", "RA-2025-0001", "R012399-030525"),
        ("sender_domain", "RA-2025-0001", "bhpd.example.gov"),
        ("decision", "RA-2025-0001", "matched by tracking_number"),
    ]
    assert [r["rule"] for r in data["rules"]] == ["extension.on_or_before", "date.extract"]
    assert data["folded"][0] == "portal footer folded, seen 2×"
    assert data["facts"]["expected_date"] == (seeded.today + dt.timedelta(days=4)).isoformat()
    assert any("acknowledged→extended" in line for line in data["events"])
    # Each fired rule says what it argued for, read from rules/classify.toml.
    from agent.operators.explain import rule_catalog

    catalog = rule_catalog(Path(__file__).resolve().parents[2] / "rules")
    fee = json.loads(run(config_file, "explain", str(seeded.messages["r6-fee"]), "--json").stdout)
    assert catalog and fee["rules"]
    for rule in fee["rules"]:
        assert (rule["label"], rule["weight"]) == (catalog[rule["rule"]]["label"], catalog[rule["rule"]]["weight"])
    assert "summed weight: fee" in run(config_file, "explain", str(seeded.messages["r6-fee"])).output
    orphan = run(config_file, "explain", "<orphan@seed>")
    assert "not matched" in orphan.output and "orphan (open)" in orphan.output
    assert run(config_file, "explain", "nope@nowhere").exit_code == 1


# ---- review -------------------------------------------------------------------------------------


def test_review_list_orders_by_urgency(shared: Shared) -> None:
    config_file = shared.config
    items = json.loads(run(config_file, "review", "list", "--json").stdout)
    assert [i["kind"] for i in items] == ["bounce", "fee", "orphan", "low_confidence"]
    assert items[2]["suggestions"][0]["reference"] == "RA-2025-0003"
    table = run(config_file, "review", "list")
    assert "4 items to review" in table.output


def _events(sessions: sessionmaker[Session], item: int) -> list[Event]:
    with sessions() as s:
        return [e for e in s.scalars(select(Event).order_by(Event.id)) if (e.detail or {}).get("review_item") == item]


def test_review_relabel_changes_state_and_writes_events(
    seeded: Seeded, config_file: Path, sessions: sessionmaker[Session]
) -> None:
    item = seeded.reviews["low"]
    result = run(config_file, "review", "relabel", str(item), "extension", "--operator", "alice", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["item_state"] == "done"
    with sessions() as s:
        req = s.get(Request, seeded.requests["RA-2025-0003"])
        msg = s.get(Message, seeded.messages["r3-ack"])
        it = s.get(ReviewItem, item)
        assert (req.state, msg.label, msg.confidence, it.state, it.resolved_by) == (
            "extended", "extension", 1.0, "done", "alice")
        state_events = s.scalars(select(Event).where(Event.request_id == req.id, Event.to_state == "extended")).all()
        assert state_events, "the state change is on the audit trail"
    events = _events(sessions, item)
    assert [(e.kind, e.cause, e.actor) for e in events][0] == ("review_relabel", "operator", "alice")
    assert events[0].detail["from_label"] == "acknowledgment"
    # Deciding it again is refused.
    again = run(config_file, "review", "confirm", str(item))
    assert again.exit_code == 1 and "already decided by alice" in again.output


def test_review_confirm_and_default_operator(
    seeded: Seeded, config_file: Path, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "bob")
    result = run(config_file, "review", "confirm", str(seeded.reviews["low"]))
    assert result.exit_code == 0, result.output
    with sessions() as s:
        msg = s.get(Message, seeded.messages["r3-ack"])
        assert (msg.confidence, msg.status) == (1.0, "processed")
        req = s.get(Request, seeded.requests["RA-2025-0003"])
        assert req.state == "acknowledged"  # out of needs_review, by the confirmed label
        # The agency replied when the mail came, not when bob decided.
        assert req.last_reply_at.date() == seeded.today - dt.timedelta(days=2)
    assert [(e.kind, e.actor) for e in _events(sessions, seeded.reviews["low"])] == [("review_confirmed", "bob")]
    # Confirming a bounce is the person's decision that our mail does not reach the agency.
    assert run(config_file, "review", "confirm", str(seeded.reviews["bounce"])).exit_code == 0
    with sessions() as s:
        bounced = s.get(Request, seeded.requests["RA-2025-0004"])
        assert bounced.state == "undeliverable" and bounced.flags.get("undeliverable") is True
        marked = s.scalars(select(Event).where(Event.request_id == bounced.id,
                                               Event.to_state == "undeliverable", Event.cause == "operator")).one()
        assert marked.actor == "bob"


def test_review_attach_orphan_and_confirm_takes_top_suggestion(
    seeded: Seeded, config_file: Path, sessions: sessionmaker[Session]
) -> None:
    item = seeded.reviews["orphan"]
    result = run(config_file, "review", "attach", str(item), "RA-2025-0001", "--operator", "carol")
    assert result.exit_code == 0, result.output
    with sessions() as s:
        msg = s.get(Message, seeded.messages["orphan"])
        assert msg.request_id == seeded.requests["RA-2025-0001"]
        assert msg.status == "processed"
        assert msg.match_evidence[-1] == {"kind": "operator", "request_id": seeded.requests["RA-2025-0001"],
                                          "detail": "attached by carol"}
    ev = _events(sessions, item)
    assert ev[0].kind == "review_attach" and ev[0].actor == "carol" and ev[0].request_id == seeded.requests[
        "RA-2025-0001"]


def test_review_confirm_orphan_attaches_to_best_suggestion(
    seeded: Seeded, config_file: Path, sessions: sessionmaker[Session]
) -> None:
    result = run(config_file, "review", "confirm", str(seeded.reviews["orphan"]), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["request"] == "RA-2025-0003"
    with sessions() as s:
        assert s.get(Message, seeded.messages["orphan"]).request_id == seeded.requests["RA-2025-0003"]


def test_review_set_state_note_skip(seeded: Seeded, config_file: Path, sessions: sessionmaker[Session]) -> None:
    fee, bounce = seeded.reviews["fee"], seeded.reviews["bounce"]
    assert run(config_file, "review", "note", str(fee), "called the clerk, they waive it", "--operator", "dan").exit_code == 0
    assert run(config_file, "review", "set-state", str(fee), "acknowledged", "--operator", "dan").exit_code == 0
    assert run(config_file, "review", "skip", str(bounce), "--operator", "dan").exit_code == 0
    with sessions() as s:
        assert s.get(Request, seeded.requests["RA-2025-0006"]).state == "acknowledged"
        assert s.get(ReviewItem, fee).state == "done"
        assert s.get(ReviewItem, bounce).state == "skipped"
        trail = s.scalars(select(Event).where(Event.request_id == seeded.requests["RA-2025-0006"],
                                              Event.cause == "operator").order_by(Event.id)).all()
        kinds = [e.kind for e in trail]
        assert kinds[:2] == ["note", "review_set_state"] and all(e.actor == "dan" for e in trail)
        assert trail[0].detail["text"] == "called the clerk, they waive it"
        assert any(e.to_state == "acknowledged" and e.from_state == "fee_required" for e in trail)
    # The skipped bounce now waits behind the open items; decided ones are gone.
    items = json.loads(run(config_file, "review", "list", "--json").stdout)
    assert [(i["kind"], i["state"]) for i in items] == [("orphan", "open"), ("low_confidence", "open"),
                                                        ("bounce", "skipped")]


def test_review_walk_stops_cleanly_when_input_ends(lite_config: Path, lite_sessions: sessionmaker[Session],
                                                    today: dt.date) -> None:
    with lite_sessions.begin() as session:
        seeded = seed(session, today)
    result = run(lite_config, "review", input="k\n")  # skip the first item, then the input runs dry
    assert result.exit_code == 0, result.output
    assert "decisions made so far are saved" in result.output
    with lite_sessions() as s:
        assert s.get(ReviewItem, seeded.reviews["bounce"]).state == "skipped"


def test_review_usage_errors(lite_config: Path, lite_sessions: sessionmaker[Session], today: dt.date) -> None:
    config_file = lite_config
    with lite_sessions.begin() as session:
        seeded = seed(session, today)
    assert run(config_file, "review", "relabel", str(seeded.reviews["low"]), "maybe").exit_code == 2
    assert run(config_file, "review", "set-state", str(seeded.reviews["fee"]), "lost").exit_code == 2
    missing = run(config_file, "review", "skip", "9999")
    assert missing.exit_code == 1 and "no review item 9999" in missing.output
    no_req = run(config_file, "review", "set-state", str(seeded.reviews["orphan"]), "completed")
    assert no_req.exit_code == 1 and "attach it first" in no_req.output


def test_review_interactive_walk(seeded: Seeded, config_file: Path, sessions: sessionmaker[Session]) -> None:
    # bounce: skip; fee: set state withdrawn; orphan: note, then quit.
    keys = "k\ns\nwithdrawn\nn\nlooks like spam\nq\n"
    result = run(config_file, "review", "--operator", "erin", input=keys)
    assert result.exit_code == 0, result.output
    assert "review item" in result.output and "1 of 4" in result.output
    assert "[c]onfirm [d]ismiss [r]elabel" in result.output  # the keys survive rich's markup
    with sessions() as s:
        assert s.get(ReviewItem, seeded.reviews["bounce"]).state == "skipped"
        assert s.get(Request, seeded.requests["RA-2025-0006"]).state == "withdrawn"
        # Declining the fee by withdrawing tells the agency, which has our letter: one notice, in its thread.
        notices = s.scalars(select(Outbox).where(Outbox.request_id == seeded.requests["RA-2025-0006"],
                                                 Outbox.kind == "withdrawal")).all()
        assert len(notices) == 1 and notices[0].recipients == ["clerk@dhs.example.gov"]
        assert s.get(ReviewItem, seeded.reviews["orphan"]).state == "open"
        notes = s.scalars(select(Event).where(Event.kind == "note")).all()
        assert [(n.actor, n.detail["text"]) for n in notes] == [("erin", "looks like spam")]


# ---- status -------------------------------------------------------------------------------------


def test_status_reads_what_the_daemon_publishes(
    seeded: Seeded, config_file: Path, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    from agent.daemon import status as daemon_status

    quiet = json.loads(run(config_file, "status", "--json").stdout)
    assert quiet["queues"]["review_open"] == 4 and quiet["queues"]["orphans"] == 1
    assert "published nothing yet" in quiet["notes"][0]
    now = dt.datetime.now(dt.timezone.utc)
    with sessions.begin() as s:
        daemon_status.publish(s, "daemon", {"state": "running", "pid": 4242, "worker": "w1", "at": now.isoformat()})
        daemon_status.publish(s, "poll", {"at": (now - dt.timedelta(minutes=2)).isoformat(), "ok": True, "new": 3})
        daemon_status.publish(s, "send", {"at": now.isoformat(), "ok": False, "error": "SMTPServerDisconnected: gone"})
        daemon_status.record_error(s, "send", "SMTPServerDisconnected: gone", now=now)
        daemon_status.publish(s, "next_jobs", {"poll": (now + dt.timedelta(minutes=1)).isoformat()})
    data = json.loads(run(config_file, "status", "--json").stdout)
    assert data["published"]["poll"]["new"] == 3
    assert data["published"]["daemon"]["pid"] == 4242
    assert data["notes"] == ["the last send failed: SMTPServerDisconnected: gone"]
    text = run(config_file, "status")
    # A failed last send makes the daemon unhealthy: monitoring sees exit 1 and the reason.
    assert text.exit_code == 1, text.output
    assert "unhealthy: the last send failed" in text.output
    for part in ("running pid 4242", "last poll", "min ago — new=3", "failed", "4 open, 1 orphans", "next poll",
                 "1 in all"):
        assert part in text.output, part


def test_status_file_fills_in_and_staleness_is_reported(lite_config: Path, tmp_path: Path) -> None:
    from agent.daemon import status as daemon_status

    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3)).isoformat()
    daemon_status.write_status_file(tmp_path / "status.json", {"daemon": {"state": "running", "at": old, "updated_at": old}})
    data = json.loads(run(lite_config, "status", "--json").stdout)
    assert data["published"]["daemon"]["state"] == "running"
    assert any("nothing heard from the daemon for 3 h" in n for n in data["notes"])
    (tmp_path / "status.json").write_text("{half a file")
    broken = run(lite_config, "status")
    assert broken.exit_code == 1 and "status file" in broken.output  # nothing readable: unhealthy


def test_every_command_has_help() -> None:
    for args in (["requests"], ["thread"], ["review"], ["review", "list"], ["review", "relabel"], ["explain"],
                 ["status"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_thread_full_shows_the_archived_body(lite_config: Path, lite_sessions: sessionmaker[Session],
                                             today: dt.date, tmp_path: Path) -> None:
    from agent.compose.message import build_message
    from agent.mail.archive import Archive

    with lite_sessions.begin() as session:
        seeded = seed(session, today)
    raw = build_message(sender_name="BHPD Records", sender_address="records@bhpd.example.gov",
                        to=["records@example.org"], subject="RE: request",
                        text="We need more time.\n\nTo monitor the progress of your request, log in to the portal.\n"
                             "> Dear records officer, please send ...\n").as_bytes()
    key = Archive(tmp_path / "mailbox").add(raw).key  # the config's archive folder
    with lite_sessions.begin() as s:
        s.get(Message, seeded.messages["r1-ext"]).archive_key = key
    cleaned = run(lite_config, "thread", "RA-2025-0001")
    assert "> Dear records officer" not in cleaned.output
    full = run(lite_config, "thread", "RA-2025-0001", "--full")
    assert full.exit_code == 0, full.output
    assert "> Dear records officer, please send" in full.output
    # Messages whose raw mail is not in the archive fall back to their cleaned text.
    assert "Your request R012345-020525 has been received." in full.output


def test_agency_text_is_never_rich_markup(lite_config: Path, lite_sessions: sessionmaker[Session],
                                          today: dt.date) -> None:
    with lite_sessions.begin() as session:
        seeded = seed(session, today)
        msg = session.get(Message, seeded.messages["r3-ack"])
        msg.subject = "[/bold] closing tag [red]not a style"
        msg.cleaned_text = "Item [b] of [/x] the list"
        session.get(ReviewItem, seeded.reviews["low"]).reason = "reason with [/] inside"
    thread = run(lite_config, "thread", "RA-2025-0003")
    assert thread.exit_code == 0, thread.output
    assert "Item [b] of [/x] the list" in thread.output
    listed = run(lite_config, "review", "list")
    assert listed.exit_code == 0, listed.output
    assert "[/bold] closing tag [red]not a style" in listed.output and "reason with [/] inside" in listed.output
    walked = run(lite_config, "review", input="q\n")
    assert walked.exit_code == 0, walked.output
    shown = run(lite_config, "explain", str(seeded.messages["r3-ack"]))
    assert shown.exit_code == 0 and "[/bold] closing tag" in shown.output


def test_review_walk_shows_items_its_own_decisions_open(lite_config: Path, lite_sessions: sessionmaker[Session],
                                                       today: dt.date) -> None:
    with lite_sessions.begin() as session:
        seeded = seed(session, today)
    # bounce: skip; fee: skip; orphan: skip; low confidence: relabel as a fee -> a new fee item opens; quit there.
    result = run(lite_config, "review", "--operator", "fay", input="k\nk\nk\nr\nfee\nq\n")
    assert result.exit_code == 0, result.output
    assert "4 of 4" in result.output and "5 of 5" in result.output
    with lite_sessions() as s:
        assert s.get(Request, seeded.requests["RA-2025-0003"]).state == "fee_required"
        assert s.get(ReviewItem, seeded.reviews["low"]).state == "done"


def test_confirming_an_escalation_resumes_the_request(lite_config: Path, lite_sessions: sessionmaker[Session],
                                                      today: dt.date) -> None:
    from agent.requests import lifecycle

    with lite_sessions.begin() as session:
        seeded = seed(session, today)
        req = session.get(Request, seeded.requests["RA-2025-0001"])
        lifecycle.fire(session, req, "escalate", cause="timer", actor="scan")  # what the follow-up scan does
        item = ReviewItem(kind="escalation", request_id=req.id, reason="3 follow-ups and still nothing",
                          suggestions=["appeal", "call", "close"])
        session.add(item)
        session.flush()
        item_id = item.id
    shown = run(lite_config, "review", input="k\nq\n")  # the bounce first, then the escalation
    assert "options" in shown.output and "appeal, call, close" in shown.output
    result = run(lite_config, "review", "confirm", str(item_id), "--operator", "gus")
    assert result.exit_code == 0, result.output
    assert "RA-2025-0001 is now extended" in result.output
