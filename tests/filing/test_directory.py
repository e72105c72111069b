"""Agency CSV: every bad row reported with its line, nothing half-imported, re-import updates by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent.db.models import Agency
from agent.deadlines.statutes import JURISDICTIONS
from agent.filing.directory import (
    DirectoryError,
    find_agency,
    import_agency_file,
    parse_agency_csv,
    read_agency_file,
)

HEADER = "name,emails,jurisdiction,domains,portal_url,portal,tracking_patterns\n"
ALL = frozenset(JURISDICTIONS)


def problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(DirectoryError) as info:
        parse_agency_csv(text, jurisdictions=ALL, source="t.csv")
    return [(p.line, p.column) for p in info.value.problems]


def test_example_files_are_valid(ca_rows, federal_rows) -> None:
    assert len(ca_rows) == 60
    assert {r.jurisdiction for r in ca_rows} == {"CA"}
    assert len({r.name for r in ca_rows}) == 60
    assert len({r.emails[0] for r in ca_rows}) == 60
    assert all(e.endswith(".example.gov") for r in ca_rows for e in r.emails)
    assert {r.jurisdiction for r in federal_rows} == {"US"}
    bh = next(r for r in ca_rows if r.name == "Beverly Hills Police Department")
    assert bh.portal == "govqa" and bh.tracking_patterns == (r"CRM-\d{2}-\d{1,7}",)
    assert "beverlyhills.example.gov" in bh.domains


def test_rows_are_normalised() -> None:
    rows = parse_agency_csv(
        HEADER + "  Galt   Police Department ,Records@Galt.Example.GOV; pra@galt.example.gov ,ca,,,,\n",
        jurisdictions=ALL,
    )
    (row,) = rows
    assert row.name == "Galt Police Department"
    assert row.jurisdiction == "CA"
    assert row.emails == ("records@galt.example.gov", "pra@galt.example.gov")
    # Sender domains default to the domains we write to.
    assert row.domains == ("galt.example.gov",)
    assert row.line == 2


def test_every_bad_row_is_reported_with_its_line() -> None:
    text = (
        "# comment line, skipped\n"  # 1
        + HEADER  # 2
        + "Good PD,records@good.example.gov,CA,,,,\n"  # 3
        + "Bad Email PD,not-an-address,CA,,,,\n"  # 4
        + "\n"  # 5 (blank)
        + "Nowhere PD,records@nowhere.example.gov,XX,,,,\n"  # 6
        + 'Multi PD,records@multi.example.gov,CA,,,,"ok\n'  # 7 (quoted field spans two lines)
        + 'still the same field"\n'  # 8
        + "Regex PD,records@regex.example.gov,CA,,,,CRM-(\\d+\n"  # 9
        + "Empty Regex PD,records@er.example.gov,CA,,,,\\d*\n"  # 10
        + "Good PD,records@dup.example.gov,CA,,,,\n"  # 11 duplicate name
        + ",records@noname.example.gov,CA,,,,\n"  # 12
        + "Portal PD,records@p.example.gov,CA,,ftp://x,,\n"  # 13
        + "No Contact PD,,CA,,,,\n"  # 14
        + "Wide PD,a@b.example.gov,CA,,,,,extra\n"  # 15
        + "Bad Domain PD,a@bd.example.gov,CA,not a domain,,,\n"  # 16
        + "Broad Regex PD,a@br.example.gov,CA,,,,\\d{4}\n"  # 17: would match every year in every letter
    )
    found = problems(text)
    assert (4, "emails") in found
    assert (6, "jurisdiction") in found
    assert (7, "tracking_patterns") in found  # the line break inside a field is refused, line 7 named
    assert (9, "tracking_patterns") in found
    assert (10, "tracking_patterns") in found
    assert (11, "name") in found
    assert (12, "name") in found
    assert (13, "portal_url") in found
    assert (14, "emails") in found
    assert (15, "") in found
    assert (16, "domains") in found
    assert (17, "tracking_patterns") in found
    assert not any(line == 3 for line, _ in found)


def test_error_message_names_file_and_lines() -> None:
    with pytest.raises(DirectoryError) as info:
        parse_agency_csv(HEADER + "X PD,bad,CA,,,,\nY PD,y@y.example.gov,ZZ,,,,\n", jurisdictions=ALL, source="agencies.csv")
    message = str(info.value)
    assert message.startswith("agencies.csv: 2 problem(s), nothing imported")
    assert "line 2: emails: 'bad' is not an email address" in message
    assert "line 3: jurisdiction: 'ZZ'" in message


def test_header_problems() -> None:
    assert problems("name,emails,jurisdicton\nA,a@a.example.gov,CA\n") == [(1, ""), (1, "")]  # unknown + missing
    assert problems("name,email,emails,jurisdiction\n") == [(1, "")]
    assert problems("") == [(0, "")]


def test_jurisdictions_are_checked_against_the_statutes(tmp_path: Path, rules_dir: Path) -> None:
    csv_file = tmp_path / "a.csv"
    csv_file.write_text(HEADER + "A PD,a@a.example.gov,CA,,,,\nB PD,b@b.example.gov,GU,,,,\n")
    with pytest.raises(DirectoryError) as info:
        read_agency_file(csv_file, rules_dir=rules_dir)
    assert [(p.line, p.column) for p in info.value.problems] == [(3, "jurisdiction")]
    # With a rules folder whose statutes are broken, the import refuses rather than guesses.
    broken = tmp_path / "rules" / "statutes"
    broken.mkdir(parents=True)
    (broken / "CA.toml").write_text("id = 'CA'\n")
    with pytest.raises(DirectoryError, match="cannot check jurisdictions"):
        read_agency_file(csv_file, rules_dir=tmp_path / "rules")


def count(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(Agency)) or 0


def test_import_is_all_or_nothing_and_updates_by_name(sessions, tmp_path: Path, rules_dir: Path, example_files) -> None:
    report = import_agency_file(sessions, example_files["ca"], rules_dir=rules_dir)
    assert len(report.created) == 60 and count(sessions) == 60

    # One bad row among good ones, including an update to an existing agency: nothing changes.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "Galt Police Department,changed@galt.example.gov,CA,,,,\n"
        + "New Agency,new@new.example.gov,CA,,,,\n"
        + "Broken Agency,broken,CA,,,,\n"
    )
    with pytest.raises(DirectoryError) as info:
        import_agency_file(sessions, bad, rules_dir=rules_dir)
    assert [(p.line, p.column) for p in info.value.problems] == [(4, "emails")]
    assert count(sessions) == 60
    with sessions.begin() as session:
        assert find_agency(session, "Galt Police Department").emails == ["records@galt.example.gov"]
        assert find_agency(session, "New Agency") is None

    # A failure in the middle of writing rolls everything back as well.
    def explode_on_second(row) -> None:  # type: ignore[no-untyped-def]
        if row.line == 3:
            raise RuntimeError("disk full")

    good = tmp_path / "good.csv"
    good.write_text(
        HEADER
        + "Galt Police Department,changed@galt.example.gov,CA,,,,GPD-\\d{2}-\\d+\n"
        + "New Agency,new@new.example.gov,CA,,https://new.example.gov/pra,nextrequest,\n"
    )
    with pytest.raises(RuntimeError):
        import_agency_file(sessions, good, rules_dir=rules_dir, on_row=explode_on_second)
    assert count(sessions) == 60

    report = import_agency_file(sessions, good, rules_dir=rules_dir)
    assert report.created == ("New Agency",) and report.updated == ("Galt Police Department",)
    assert count(sessions) == 61
    with sessions.begin() as session:
        galt = find_agency(session, "galt police department")  # case-insensitive lookup
        assert galt.emails == ["changed@galt.example.gov"]
        assert galt.tracking_patterns == [r"GPD-\d{2}-\d+"]
        assert find_agency(session, "New Agency").portal == "nextrequest"
    again = import_agency_file(sessions, good, rules_dir=rules_dir)
    assert again.unchanged == ("Galt Police Department", "New Agency")
