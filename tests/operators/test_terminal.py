"""Nothing a stranger writes reaches the operator's terminal raw: escape sequences show as escapes, markup as text.

Each command that prints mail-derived or user-provided text runs through the real CLI, on SQLite and
PostgreSQL, over a database where an agency, a campaign, a request, a reply, a review item, an event and
a daemon error all carry a screen clear (ESC[2J), an OSC 8 link, a C1 CSI, a bidi override and rich markup.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from agent.cli import app
from agent.daemon.status import record_error
from agent.db.models import Agency, Campaign, Event, Message, Request, ReviewItem, TrackingNumber
from agent.operators.terminal import printable

runner = CliRunner()
UTC = dt.timezone.utc
MARKUP = "[bold red]x[/]"
CLEAR = "\x1b[2J"
LINK = "\x1b]8;;https://evil.example/pay\x1b\\click here\x1b]8;;\x1b\\"
HOSTILE = f"{MARKUP} {CLEAR} {LINK} \x9b31m red \u202egpj.exe"
AGENCY = f"{MARKUP} Police Department {CLEAR}"
RAW = ("\x1b", "\x9b", "\u202e", "\x07")
TODAY = dt.datetime.now(UTC).date()


def run(config: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--config", str(config), *args], input=input, env={"COLUMNS": "250"})


@pytest.fixture
def hostile(sessions: sessionmaker[Session]) -> dict[str, int]:
    now = dt.datetime.now(UTC)
    with sessions.begin() as session:
        agency = Agency(name=AGENCY, jurisdiction="CA", emails=["records@evil.example.gov"], domains=["evil.example.gov"],
                        portal=None)
        campaign = Campaign(name=HOSTILE, template="cpra_general")
        session.add_all([agency, campaign])
        session.flush()
        request = Request(reference="RA-2025-0001", agency_id=agency.id, campaign_id=campaign.id, state="needs_review",
                          jurisdiction="CA", subject=f"[RA-2025-0001] {HOSTILE}", body=f"Dear clerk,\n{HOSTILE}\n",
                          filed_at=now - dt.timedelta(days=3), due_date=(now + dt.timedelta(days=7)).date())
        session.add(request)
        session.flush()
        session.add(TrackingNumber(request_id=request.id, agency_id=agency.id, value=f"T-1{CLEAR}"))
        message = Message(
            direction="in", dedupe_key="<hostile@evil>", message_id="<hostile@evil>", sha256="f" * 64,
            archive_key="key-hostile", request_id=request.id, status="review", subject=HOSTILE,
            from_addr=f"clerk{CLEAR}@evil.example.gov", to_addrs=[], sent_date=now, received_at=now, kind="reply",
            label="fee", confidence=0.5, cleaned_text=f"Pay now.\n{HOSTILE}", processed_at=now,
            rule_hits=["fee.amount"], folded=[{"reason": "signature", "text": HOSTILE}],
            match_evidence=[{"kind": "plus_address", "request_id": 1, "detail": HOSTILE}],
            facts={"links": [f"https://evil.example/{LINK}"], "fees": [{"amount": 5.0, "kind": "fee", "text": HOSTILE}],
                   "tracking_numbers": [], "expected_date": None, "records_attached": False},
        )
        session.add(message)
        session.flush()
        session.add(ReviewItem(kind="fee", request_id=request.id, message_row_id=message.id, reason=HOSTILE))
        session.add(Event(request_id=request.id, message_row_id=message.id, kind="note", cause="operator",
                          actor=HOSTILE, detail={"text": HOSTILE}, created_at=now))
        record_error(session, "poll", f"cannot parse {HOSTILE}", now=now)
        return {"message": message.id, "campaign": campaign.id}


def shown_safely(result, *, must_show: bool = True, exit_code: int = 0) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == exit_code, result.output
    out = str(result.output)
    for char in RAW:
        assert char not in out, f"{char!r} reached the terminal: {out!r}"
    if must_show:
        # The markup is shown as the agency wrote it, and the sequences as visible escapes.
        assert MARKUP in out and "\\x1b[2J" in out, out
    return out


def test_every_command_prints_hostile_text_as_text(hostile: dict[str, int], config_file: Path) -> None:
    commands: list[tuple[str, ...]] = [
        ("thread", "RA-2025-0001"),
        ("thread", "RA-2025-0001", "--full"),
        ("explain", str(hostile["message"])),
        ("review", "list"),
        ("requests",),
        ("agency", "list"),
        ("agency", "show", AGENCY),
        ("campaign", "show", str(hostile["campaign"])),
        ("campaign", "list"),
        ("request", "show", "RA-2025-0001"),
        ("digest", "--preview", "--since", (TODAY - dt.timedelta(days=7)).isoformat(),
         "--until", (TODAY + dt.timedelta(days=2)).isoformat()),
        ("status",),
        ("messages",),
        ("messages", "--request", "RA-2025-0001"),
    ]
    for command in commands:
        # `status` exits 1 here: the seeded daemon never polled, and it says so (a monitoring check).
        out = shown_safely(run(config_file, *command), exit_code=1 if command == ("status",) else 0)
        if command[0] == "explain":
            assert "\\x1b]8;;https://evil.example/pay\\x1b\\click here" in out  # the link's target is visible
        if command[0] == "thread":
            assert "\\u202egpj.exe" in out and "\\x9b31m" in out
    walk = run(config_file, "review", input="q\n")
    shown_safely(walk)


def test_agency_names_round_trip_as_text(hostile: dict[str, int], config_file: Path) -> None:
    # What `agency list` shows is what `agency show` finds: the markup is part of the name, not styling.
    listed = shown_safely(run(config_file, "agency", "list"))
    assert f"{MARKUP} Police Department \\x1b[2J" in listed
    shown = shown_safely(run(config_file, "agency", "show", AGENCY))
    assert "records@evil.example.gov" in shown
    missing = run(config_file, "agency", "show", f"{MARKUP} nowhere {CLEAR}")
    assert missing.exit_code == 1
    assert MARKUP in missing.output and "\x1b" not in missing.output


def test_agency_import_refuses_control_characters(config_file: Path, tmp_path: Path) -> None:
    csv = tmp_path / "hostile.csv"
    csv.write_text(f'name,emails,jurisdiction\n"Clear {CLEAR} PD",a@a.example.gov,CA\n"{MARKUP} PD",b@b.example.gov,CA\n',
                   encoding="utf-8")
    assert run(config_file, "db", "upgrade").exit_code == 0
    result = run(config_file, "agency", "import", str(csv))
    assert result.exit_code == 2 and "line 2: name" in result.output and "U+001B" in result.output
    assert "\x1b" not in result.output


def test_printable_keeps_text_and_shows_controls() -> None:
    assert printable("line one\r\nline two\tend") == "line one\nline two\tend"
    assert printable(f"{CLEAR}{MARKUP}") == "\\x1b[2J" + MARKUP
    assert printable("\x00\x7f\x85\u2066x\u2069") == "\\x00\\x7f\\x85\\u2066x\\u2069"
    assert printable("Ünïcödé — ok ✓") == "Ünïcödé — ok ✓"
