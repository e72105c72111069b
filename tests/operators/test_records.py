"""`agent records` and `agent records export`: letters and records per request, from replies read by the real
poller and files fetched from their links; capability URLs stay out unless asked for; the export's layout and index."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from agent.cli import app
from agent.db.models import Campaign, Request
from operators.records_world import LOGIN_URL, SECRET_URL, RecordsWorld, build

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def _write_config(folder: Path, db_url: str) -> Path:
    # The store where the poller put the attachments (make_settings: <tmp>/attachments).
    path = folder / "config.toml"
    path.write_text(f"""
[database]
url = "{db_url}"
[rules]
path = "{REPO / 'rules'}"
[attachments]
path = "{folder / 'attachments'}"
[schedule]
timezone = "America/Los_Angeles"
""", encoding="utf-8")
    return path


def run(config: Path, *args: str, columns: int = 200):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--config", str(config), *args], env={"COLUMNS": str(columns)})


@pytest.fixture
def world(tmp_path: Path, sessions: sessionmaker[Session], db_url: str) -> tuple[RecordsWorld, Path]:
    """On SQLite and PostgreSQL: the listing's joins are the part that could differ."""
    return build(tmp_path, sessions, db_url), _write_config(tmp_path, db_url)


@pytest.fixture
def lite_world(tmp_path: Path, lite_sessions: sessionmaker[Session], sqlite_url: str) -> tuple[RecordsWorld, Path]:
    return build(tmp_path, lite_sessions, sqlite_url), _write_config(tmp_path, sqlite_url)


def listed(config: Path, *args: str) -> list[dict]:  # type: ignore[type-arg]
    result = run(config, "records", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_json_shows_letters_records_and_fetched_files(world: tuple[RecordsWorld, Path]) -> None:
    w, config = world
    [bh] = listed(config, "RA-2025-0001")
    assert (bh["request"], bh["agency"], bh["records"], bh["letters"]) == (
        "RA-2025-0001", "Beverly Hills Police Department", 5, 1)
    files = [(f["origin"], f["role"], f["name"], f["type"], f["pages"]) for f in bh["files"]]
    assert files == [
        # Read: the letter (octet-stream, sniffed a PDF) and the sheet; the fetched files after their reply.
        ("attachment", "letter", "letter.pdf", "application/pdf", 2),
        ("attachment", "records", "incident_log.xlsx",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 3),
        ("fetched", "records", "bodycam_index.pdf", "application/pdf", 7),
        ("fetched", "records", "lost.pdf", "application/pdf", None),
        # Not read (NULL columns): role unknown, so records; the declared type.
        ("attachment", "records", "incident log (copy).xlsx", "application/octet-stream", None),
        ("attachment", "records", "letter.pdf", "application/pdf", None),
    ]
    letter, _, fetched = bh["files"][:3]
    assert letter["declared_type"] == "application/octet-stream" and letter["method"] == "text"
    assert letter["source"]["message_id"] == w.first_reply and letter["source"]["from"] == "clerk@beverlyhills.org"
    assert letter["source"]["date"] == "2025-02-11T09:00:00+00:00" and letter["stored"] is True
    assert fetched["source"]["host"] == "bhpd.app.box.com" and fetched["source"]["link_kind"] == "file_share"
    assert fetched["source"]["message_id"] == w.first_reply and fetched["received_at"] == "2025-02-11T10:30:00+00:00"
    assert len(fetched["source"]["link_id"]) == 10 and "url" not in fetched["source"]
    # The portal sign-in that gave no file is a note; the unsubscribe link is nothing at all.
    assert [(x["host"], x["link_kind"], x["state"]) for x in bh["links_not_fetched"]] == [
        ("bhpd.govqa.us", "records_portal", "needs_login")]
    plain_out = run(config, "records", "RA-2025-0001", "--json").stdout
    assert "TOKEN" not in plain_out and "SESSION-77" not in plain_out and "track.example" not in plain_out
    # Asked for: the URL of each fetched file (not of the links that gave nothing).
    [shown] = listed(config, "RA-2025-0001", "--show-urls")
    assert shown["files"][2]["source"]["url"] == SECRET_URL and LOGIN_URL not in json.dumps(shown)


def test_scopes_every_request_a_campaign_and_errors(lite_world: tuple[RecordsWorld, Path],
                                                    lite_sessions: sessionmaker[Session]) -> None:
    _, config = lite_world
    # Everything: only requests that received something.
    assert [g["request"] for g in listed(config)] == ["RA-2025-0001", "RA-2025-0002"]
    with lite_sessions.begin() as s:
        camp = Campaign(name="ALPR 2025", template="t")
        s.add(camp)
        s.flush()
        for ref in ("RA-2025-0002", "RA-2025-0003"):
            s.scalars(select(Request).where(Request.reference == ref)).one().campaign_id = camp.id
        camp_id = camp.id
    # A campaign: each of its requests, those still without anything too.
    for ident in (str(camp_id), "alpr 2025"):
        got = listed(config, "--campaign", ident)
        assert [(g["request"], len(g["files"])) for g in got] == [("RA-2025-0002", 1), ("RA-2025-0003", 0)]
    # `show` is the default: the explicit form gives the same.
    assert run(config, "records", "show", "RA-2025-0002", "--json").stdout == run(
        config, "records", "RA-2025-0002", "--json").stdout
    for args, code in ((("RA-NOPE",), 1), (("--campaign", "nope"), 1), (("RA-2025-0001", "--campaign", "1"), 2)):
        result = run(config, "records", *args)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == code and len(lines) == 1 and lines[0].startswith("error:"), result.output


def test_table_marks_roles_and_keeps_capabilities_out(lite_world: tuple[RecordsWorld, Path]) -> None:
    _, config = lite_world
    for columns in (80, 200):
        result = run(config, "records", columns=columns)
        assert result.exit_code == 0, result.output
        text = result.output
        assert max(len(line) for line in text.splitlines()) <= columns
        for word in ("letter", "records", "bodycam_index.pdf", "incident_log.xlsx", "Excel (XLSX)", "7 pages",
                     "bhpd.app.box.com", "needs_login 1", "5 records, 1 letter", "=HYPERLINK(1).csv"):
            assert word in text, (columns, word)
        assert "TOKEN" not in text and "SESSION-77" not in text


def test_export_folders_dedupe_names_and_index(lite_world: tuple[RecordsWorld, Path], tmp_path: Path) -> None:
    w, config = lite_world
    target = tmp_path / "export"
    result = run(config, "records", "export", str(target))
    assert result.exit_code == 0, result.output
    assert "warning: 1 file could not be copied" in result.output
    bh = target / "Beverly Hills Police Department"
    dhs = target / "Desert Hot Springs Police Department"
    assert sorted(p.name for p in target.iterdir()) == sorted([bh.name, dhs.name, "index.csv"])
    on_disk = {p.name: p.read_bytes() for folder in (bh, dhs) for p in folder.iterdir()}
    # The sheet twice under two names is one file; two letters of one name both kept; a formula name defused.
    assert on_disk == w.files
    with open(target / "index.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["agency", "request", "filename", "role", "type", "size", "pages", "sha256", "source",
                             "received_at", "path", "status", "url"]
    by = {(r["request"], r["filename"], r["status"]): r for r in rows}
    assert len(rows) == 7
    assert by[("RA-2025-0001", "incident log (copy).xlsx", "duplicate")]["path"] == (
        "Beverly Hills Police Department/incident_log.xlsx")
    assert by[("RA-2025-0001", "lost.pdf", "missing")]["path"] == ""
    letters = [(r["role"], r["path"], r["pages"], r["type"]) for r in rows if r["filename"] == "letter.pdf"]
    assert letters == [("letter", "Beverly Hills Police Department/letter.pdf", "2", "application/pdf"),
                       ("records", "Beverly Hills Police Department/letter (2).pdf", "", "application/pdf")]
    assert by[("RA-2025-0001", "bodycam_index.pdf", "copied")]["source"].startswith("link bhpd.app.box.com")
    csv_row = next(r for r in rows if r["request"] == "RA-2025-0002")
    assert csv_row["filename"] == "'=HYPERLINK(1).csv"  # a spreadsheet shows it, never runs it
    assert csv_row["path"] == "Desert Hot Springs Police Department/_=HYPERLINK(1).csv"
    for r in rows:
        if r["path"]:
            assert (target / r["path"]).is_file()
    assert "TOKEN" not in (target / "index.csv").read_text(encoding="utf-8")

    # Not empty now: refused without --force; with it, nothing is copied twice or overwritten.
    again = run(config, "records", "export", str(target))
    assert again.exit_code == 1 and "not empty" in again.output
    forced = run(config, "records", "export", str(target), "--force", "--show-urls")
    assert forced.exit_code == 0, forced.output
    assert "0 copied now, 5 already there" in forced.output
    assert {p.name for folder in (bh, dhs) for p in folder.iterdir()} == set(w.files)
    assert SECRET_URL in (target / "index.csv").read_text(encoding="utf-8")


def test_export_of_one_campaign_or_request_and_a_file_in_the_way(lite_world: tuple[RecordsWorld, Path],
                                                                 tmp_path: Path) -> None:
    w, config = lite_world
    target = tmp_path / "one"
    target.mkdir()
    (target / "Beverly Hills Police Department").mkdir()
    # A file of ours already holds the name: the record gets the next free one, ours is untouched.
    (target / "Beverly Hills Police Department" / "letter.pdf").write_bytes(b"mine")
    result = run(config, "records", "export", str(target), "--request", "RA-2025-0001", "--force")
    assert result.exit_code == 0, result.output
    names = {p.name: p.read_bytes() for p in (target / "Beverly Hills Police Department").iterdir()}
    assert names["letter.pdf"] == b"mine"
    assert names["letter (2).pdf"] == w.files["letter.pdf"] and names["letter (3).pdf"] == w.files["letter (2).pdf"]
    assert not (target / "Desert Hot Springs Police Department").exists()
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    bad = run(config, "records", "export", str(not_a_folder))
    assert bad.exit_code == 1 and "not a folder" in bad.output


def test_export_agency_names_that_sanitize_alike_and_a_damaged_store_file(tmp_path: Path) -> None:
    import datetime as dt
    import hashlib

    from agent.mail.attachments import AttachmentStore
    from agent.operators.records import RecordFile, RequestRecords
    from agent.operators.records_export import export_records

    store = AttachmentStore(tmp_path / "store")
    good, _ = store.put(b"good bytes")
    bad, bad_path = store.put(b"original bytes")
    bad_path.write_bytes(b"bit rot")  # the store's copy no longer matches its hash

    def file(n: int, sha: str, name: str) -> RecordFile:
        return RecordFile(origin="attachment", id=n, role="records", name=name, type="application/pdf",
                          declared_type="application/pdf", size=10, pages=None, sha256=sha,
                          stored_path=store.key_for(sha), received_at=dt.datetime(2025, 2, 1, tzinfo=dt.timezone.utc),
                          message_row_id=n, message_id=f"<{n}@x>", sender="a@x")

    groups = [
        RequestRecords(1, "RA-1", "Police / Sheriff", None, (file(1, good, "a.pdf"), file(2, bad, "b.pdf"))),
        RequestRecords(2, "RA-2", "Police - Sheriff", None, (file(3, good, "a.pdf"),)),
        RequestRecords(3, "RA-3", "-rf", None, (file(4, good, "../../x.pdf"),
                                               file(5, hashlib.sha256(b"never stored").hexdigest(), "gone.pdf"))),
    ]
    report = export_records(groups, store, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "Police - Sheriff", "Police - Sheriff (2)", "_-rf", "index.csv"]
    statuses = [(r["request"], r["path"], r["status"]) for r in report.rows]
    assert statuses == [
        ("RA-1", "Police - Sheriff (2)/a.pdf", "copied"),  # agencies take folders in name order
        ("RA-1", "", "damaged"),
        ("RA-2", "Police - Sheriff/a.pdf", "copied"),
        ("RA-3", "_-rf/x.pdf", "copied"),  # neither an option nor a way out of the folder
        ("RA-3", "", "missing"),
    ]
    assert (report.copied, report.problems) == (3, 2)
    assert not any(p.name.endswith(".part") for p in (tmp_path / "out").rglob("*"))


def test_new_commands_have_help() -> None:
    for args, word in ((["records"], "export"), (["records", "show"], "--show-urls"),
                       (["records", "export"], "--force"), (["messages"], "--since")):
        result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output and word in result.output, (args, result.output)


def test_hostile_names_print_as_text(lite_config: Path, lite_sessions: sessionmaker[Session], today: object) -> None:
    import datetime as dt

    from agent.db.models import Attachment, FetchedFile, Message
    from operators.seed import seed

    hostile = "[bold red]x[/] \x1b[2J\u202egpj.exe"
    with lite_sessions.begin() as s:
        seeded = seed(s, today)  # type: ignore[arg-type]
        batch = s.get(Message, seeded.messages["r2-batch"])
        assert batch is not None
        batch.from_addr = f"clerk\x1b]0;owned\x07@dhs.example.gov"
        s.add(Attachment(message_row_id=batch.id, filename=hostile, content_type="application/pdf", size=1))
        s.add(FetchedFile(request_id=batch.request_id, message_row_id=batch.id, url="https://x.example/a",
                          url_sha256="f" * 64, host="x\x1b[31m.example", link_kind="file_share", state="fetched",
                          filename=hostile, size=2, fetched_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)))
    result = run(lite_config, "records", "RA-2025-0002")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output and "\x07" not in result.output
    assert "[bold red]x[/]" in result.output and "\\x1b[2J" in result.output and "\\u202egpj.exe" in result.output
