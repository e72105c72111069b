"""`agent messages`: processed mail in one list (the JSON contract scripts use), filters, errors, a table that wraps."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from agent.cli import app
from agent.db.models import Message, ReviewItem
from operators.seed import Shared, at, seed

runner = CliRunner()
CONTRACT = {"message_id", "request", "label", "confidence", "expected_date", "tracking_numbers", "review"}


def run(config: Path, *args: str, columns: int = 200):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--config", str(config), *args], env={"COLUMNS": str(columns)})


def listed(config: Path, *args: str) -> list[dict]:  # type: ignore[type-arg]
    result = run(config, "messages", *args, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


def test_json_contract_on_both_databases(shared: Shared) -> None:
    seeded, config = shared.seeded, shared.config
    data = listed(config)
    assert all(CONTRACT <= row.keys() for row in data)
    by_id = {row["message_id"]: row for row in data}
    with shared.sessions() as session:
        expected = set(session.scalars(select(Message.message_id).where(Message.status != "new")))
    assert set(by_id) == expected and len(data) == len(seeded.messages)

    ext = by_id["<r1-ext@seed>"]
    assert ext["request"] == "RA-2025-0001" and ext["label"] == "extension" and ext["confidence"] == 0.9
    assert ext["expected_date"] == (seeded.today + dt.timedelta(days=4)).isoformat()
    assert ext["tracking_numbers"] == ["R012399-030525"] and ext["review"] is None
    assert ext["direction"] == "in" and ext["from"] == "records@bhpd.example.gov" and ext["status"] == "processed"
    assert ext["date"].startswith((seeded.today - dt.timedelta(days=6)).isoformat())
    # The review state is the open item's kind; the orphan has no request.
    assert by_id["<r3-ack@seed>"]["review"] == "low_confidence"
    assert by_id["<r6-fee@seed>"]["review"] == "fee"
    assert by_id["<orphan@seed>"]["request"] is None and by_id["<orphan@seed>"]["review"] == "orphan"
    assert by_id["<r1-out@seed>"]["direction"] == "out" and by_id["<r1-out@seed>"]["label"] is None

    # One request: its messages in the order they came.
    mine = listed(config, "--request", "RA-2025-0001")
    assert [r["message_id"] for r in mine] == ["<r1-out@seed>", "<r1-ack@seed>", "<r1-ext@seed>"]
    # By tracking number too, as everywhere a request is named.
    assert [r["message_id"] for r in listed(config, "--request", "DHS-2025-17")] == ["<r2-hold@seed>", "<r2-batch@seed>"]
    # Since a day (the desk's midnight): the last five days' mail.
    since = (seeded.today - dt.timedelta(days=5)).isoformat()
    recent = listed(config, "--since", since)
    assert [r["message_id"] for r in recent] == [
        "<r6-fee@seed>", "<r4-bounce@seed>", "<r2-batch@seed>", "<r3-ack@seed>", "<orphan@seed>"]
    assert listed(config, "--request", "RA-2025-0001", "--since", since) == []


def test_unread_and_own_mail_are_left_out_and_decided_reviews_are_not_open(
    lite_config: Path, lite_sessions: sessionmaker[Session], today: dt.date
) -> None:
    with lite_sessions.begin() as session:
        seeded = seed(session, today)
        for name, status in (("unread", "new"), ("echo", "own")):
            session.add(Message(direction="in", dedupe_key=name, message_id=f"<{name}@x>", sha256=name.ljust(64, "0"),
                                archive_key=name, status=status, received_at=at(today)))
        session.get(ReviewItem, seeded.reviews["fee"]).state = "done"  # type: ignore[union-attr]
        session.get(ReviewItem, seeded.reviews["low"]).state = "skipped"  # type: ignore[union-attr]
    by_id = {r["message_id"]: r for r in listed(lite_config)}
    assert "<unread@x>" not in by_id and "<echo@x>" not in by_id
    assert by_id["<r6-fee@seed>"]["review"] is None
    assert by_id["<r3-ack@seed>"]["review"] == "low_confidence"  # skipped is still undecided


def test_bad_request_or_since_is_one_line_and_non_zero(lite_config: Path, lite_sessions: sessionmaker[Session]) -> None:
    for args, code, words in (
        (("--request", "RA-NOPE"), 1, "no request"),
        (("--since", "2025-13-01"), 2, "--since"),
        (("--since", "last tuesday"), 2, "--since"),
        (("--since", "9999-12-31T23:59:59+00:00junk"), 2, "--since"),
    ):
        result = run(lite_config, "messages", *args)
        assert result.exit_code == code, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], result.output
        assert "Traceback" not in result.output


def test_table_wraps_long_subjects_at_80_columns(
    lite_config: Path, lite_sessions: sessionmaker[Session], today: dt.date
) -> None:
    words = [f"word{i:02d}" for i in range(30)]
    with lite_sessions.begin() as session:
        seeded = seed(session, today)
        msg = session.get(Message, seeded.messages["r1-ext"])
        assert msg is not None
        msg.subject = " ".join(words)
    for columns in (80, 200):
        result = run(lite_config, "messages", columns=columns)
        assert result.exit_code == 0, result.output
        assert max(len(line) for line in result.output.splitlines()) <= columns
        for word in words:  # every word is there: wrapped, not cropped
            assert word in result.output, (columns, word)
        for ref in ("RA-2025-0001", "RA-2025-0006", "low_confidence", f"#{seeded.messages['r1-ext']}"):
            assert ref in result.output
    assert f"{len(seeded.messages)} messages" in result.output
