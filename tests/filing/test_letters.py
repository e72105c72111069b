"""Letters: each template cites its statute and the due date computed from it; template problems read clearly."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from agent.config import IdentitySettings
from agent.deadlines.compute import compute_deadline
from agent.filing.letters import (
    AgencyInfo,
    LetterError,
    list_templates,
    render_letter,
    template_variables,
    year_list,
)

IDENTITY = IdentitySettings(name="Jane Roe", address="records@example.org", signature="Jane Roe, Records Desk")
FILED = dt.date(2025, 2, 10)  # a Monday


def letter(rules_dir, book, template, jurisdiction="CA", filed_on=FILED, **variables):  # type: ignore[no-untyped-def]
    return render_letter(
        rules_dir, template, agency=AgencyInfo("Galt Police Department", jurisdiction), variables=variables,
        identity=IDENTITY, reference="RA-2025-0042", filed_on=filed_on, book=book,
    )


def long(d: dt.date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


def test_shipped_templates(rules_dir: Path) -> None:
    assert {"cpra_general", "foia_general", "alpr"} <= set(list_templates(rules_dir))
    assert template_variables(rules_dir, "cpra_general") == {"topic", "records"}
    assert template_variables(rules_dir, "foia_general") == {"topic", "records", "fee_limit"}
    assert template_variables(rules_dir, "alpr") == {"years", "access_since"}


def test_cpra_letter_cites_statute_and_due_date(rules_dir, book) -> None:
    made = letter(rules_dir, book, "cpra_general", topic="use-of-force policy", records="The current use-of-force policy.")
    # CPRA: 10 calendar days; 10 Feb + 10 = Thursday 20 Feb 2025; extension at most 14 more days.
    assert made.due == dt.date(2025, 2, 20) and made.extended_due == dt.date(2025, 3, 6)
    assert made.subject == "Public records request: use-of-force policy"
    assert "Cal. Gov. Code § 7922.535(a)" in made.body
    assert "February 20, 2025" in made.body
    assert "§ 7922.535(b) allows at most 14 more days" in made.body
    assert "The current use-of-force policy." in made.body
    assert "RA-2025-0042" in made.body and "Jane Roe, Records Desk" in made.body
    assert "{{" not in made.body and "Subject:" not in made.body


def test_foia_letter_counts_working_days(rules_dir, book) -> None:
    # 20 working days from Mon 10 Feb 2025, skipping Presidents' Day (17 Feb): Tuesday 11 March.
    made = letter(rules_dir, book, "foia_general", jurisdiction="US", topic="ALPR", records="Contracts.")
    assert made.due == dt.date(2025, 3, 11)
    assert "5 U.S.C. § 552(a)(6)(A)(i)" in made.body and "March 11, 2025" in made.body
    assert "fees will exceed $25" in made.body
    with_limit = letter(rules_dir, book, "foia_general", jurisdiction="US", topic="ALPR", records="x", fee_limit="50")
    assert "up to $50" in with_limit.body


def test_alpr_letter_items_per_year(rules_dir, book) -> None:
    made = letter(rules_dir, book, "alpr", years="2019-2021")
    body = made.body
    for item in ("A1.", "A4.", "A5.", "A7.", "C3."):
        assert item in body
    for n, year in zip((1, 3, 5), (2019, 2020, 2021)):
        assert f"B{n}. The total number of detections collected in {year}." in body
        assert f"B{n + 1}. The total number of hits in {year}." in body
    assert "B7." not in body
    assert "from 2019 to the date" in body
    assert "Civil Code § 1798.90.52" in body
    assert "Cal. Gov. Code § 7922.535(a)" in body and "February 20, 2025" in body
    assert made.subject.startswith("California Public Records Act request: automated license plate reader")
    picked = letter(rules_dir, book, "alpr", years="2018, 2020", access_since="2016")
    assert "B3. The total number of detections collected in 2020." in picked.body and "2019" not in picked.body
    assert "from 2016 to the date" in picked.body


@pytest.mark.parametrize("jurisdiction", ["CA", "US", "AZ", "TX", "NY", "DC", "WY"])
def test_alpr_letter_follows_each_jurisdiction(rules_dir, book, jurisdiction) -> None:
    made = letter(rules_dir, book, "alpr", jurisdiction=jurisdiction, years="2024")
    statute = book.statutes[jurisdiction]
    expected = compute_deadline(statute, FILED, book.calendar)
    assert made.due == expected.due and made.citation == statute.citation
    assert statute.citation in made.body and long(expected.due) in made.body
    assert statute.name in made.subject
    # The California Civil Code alternatives belong only in California letters.
    assert ("1798.90.52" in made.body) == (jurisdiction == "CA")


def test_missing_variables_are_all_named(rules_dir, book) -> None:
    with pytest.raises(LetterError) as info:
        letter(rules_dir, book, "cpra_general")
    assert str(info.value) == "template 'cpra_general' needs variable(s) records, topic; pass --var records=... --var topic=..."
    # An optional variable is not reported as missing.
    with pytest.raises(LetterError, match=r"needs variable\(s\) records;"):
        letter(rules_dir, book, "foia_general", jurisdiction="US", topic="x")
    with pytest.raises(LetterError, match=r"'alpr' needs variable\(s\) years;"):
        letter(rules_dir, book, "alpr")


def test_other_template_errors(rules_dir, book) -> None:
    with pytest.raises(LetterError, match=r"template 'nope' not found .*available: .*alpr"):
        letter(rules_dir, book, "nope")
    with pytest.raises(LetterError, match=r"'cpra_general' is for jurisdiction\(s\) CA; Galt Police Department is in US"):
        letter(rules_dir, book, "cpra_general", jurisdiction="US", topic="x", records="y")
    with pytest.raises(LetterError, match="filled in by the agent"):
        letter(rules_dir, book, "cpra_general", topic="x", records="y", reference="mine")
    with pytest.raises(LetterError, match=r"template 'alpr': years: '20x9' is not a year"):
        letter(rules_dir, book, "alpr", years="20x9")
    with pytest.raises(LetterError, match="plain name"):
        letter(rules_dir, book, "../secrets")


def test_broken_templates_name_file_and_line(tmp_path: Path, rules_dir: Path, book) -> None:
    rules = tmp_path / "rules"
    (rules / "templates" / "letters").mkdir(parents=True)
    shutil.copytree(rules_dir / "statutes", rules / "statutes")
    letters = rules / "templates" / "letters"
    (letters / "syntax.txt.j2").write_text("Subject: x\n\nline two\n{% if %}\n")
    (letters / "noheader.txt.j2").write_text("Dear {{ agency.name }},\n\nPlease.\n")
    with pytest.raises(LetterError, match=r"template 'syntax', line 4"):
        letter(rules, book, "syntax")
    with pytest.raises(LetterError, match="should be a header"):
        letter(rules, book, "noheader")


def test_year_list() -> None:
    assert year_list("2019-2021") == [2019, 2020, 2021]
    assert year_list("2021, 2019;2019") == [2019, 2021]
    assert year_list([2020, "2018"]) == [2018, 2020]
    for bad in ("", "2021-2019", "19", "1800-2020"):
        with pytest.raises(LetterError):
            year_list(bad)


@pytest.mark.parametrize(
    ("jurisdiction", "law", "citation"),
    [
        ("NY", "New York Freedom of Information Law", "N.Y. Pub. Off. Law § 89(3)(a)"),
        ("TX", "Texas Public Information Act", "Tex. Gov't Code § 552.221(d)"),
        ("WA", None, None),
    ],
)
def test_general_letter_needs_no_template_per_state(rules_dir, book, jurisdiction, law, citation) -> None:  # type: ignore[no-untyped-def]
    made = letter(rules_dir, book, "records_general", jurisdiction=jurisdiction, topic="ALPR", records="Audit logs.")
    statute, deadline = book.deadline(jurisdiction, FILED)
    assert made.jurisdiction == jurisdiction and made.due == deadline.due
    assert statute.name in made.body and statute.citation in made.body
    assert statute.name in made.subject and made.subject.endswith(": ALPR")
    assert long(deadline.due) in made.body and f"{statute.days} {statute.day_type} days" in made.body
    if law is not None:
        assert statute.name == law and statute.citation == citation
    if statute.extension.days:
        assert f"at most {statute.extension.days} more" in made.body
    else:
        assert "more time" not in made.body
    assert "{{" not in made.body and "Audit logs." in made.body


def test_general_letter_renders_for_every_statute(rules_dir, book) -> None:
    for jurisdiction, statute in sorted(book.statutes.items()):
        made = letter(rules_dir, book, "records_general", jurisdiction=jurisdiction, topic="t", records="r")
        assert statute.citation in made.body, jurisdiction
        # A law with no fixed period ("promptly") is not made to sound as if it set one.
        assert ("prompt response" in made.body) == statute.vague, jurisdiction
