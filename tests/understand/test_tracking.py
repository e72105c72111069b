"""Tracking numbers: generic labels, portal formats, and the shapes that must never count."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.pipeline.rules import RulesError
from agent.pipeline.tracking import find_tracking_numbers, load_tracking_rules

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture(scope="module")
def rules():
    return load_tracking_rules(RULES_DIR)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Your Public Records Request - CRM-25-191 - has been received", ("CRM-25-191",)),
        ("This email is in reference to issue CRM-25-191 (CRM-XNWk7HB5J).", ("CRM-25-191", "CRM-XNWk7HB5J")),
        ("Your request has been assigned Case Number 116392.", ("116392",)),
        ("FOIL Reference Number: 2024-117", ("2024-117",)),
        ("Reference No. R003193-052523 was created", ("R003193-052523",)),
        ("regarding your public records request #19-861, which", ("19-861",)),
        ("https://oaklandca.nextrequest.com/requests/21-4410", ("21-4410",)),
        ("Tracking #: 24-556", ("24-556",)),
        ("FOIA Request No. FOIA-2020-00123.", ("FOIA-2020-00123",)),
        ("Request ID: 2020-FOIA-06542 Description", ("2020-FOIA-06542",)),
        ("Re: Appeal, Freedom of Information Act Request No. 21-01534-FOIA,", ("21-01534-FOIA",)),
        ("DOI-OS-2017-000115 has been processed", ("DOI-OS-2017-000115",)),
        ("Re: FRA File No: FFRA-23-00175", ("FFRA-23-00175",)),
        ("Case No.: F-2014-18175 Mr. Hoge", ("F-2014-18175",)),
        ("your FOIA request 2017-0330-F.", ("2017-0330-F",)),
        ("PRR 04262021-Anon\n\nDear Requestor:", ("PRR 04262021-Anon",)),
        ("recall the message, \"NSA FOIA Request 116287\".", ("116287",)),
        # Bare ids the agency introduces in prose, and year-office-sequence ids kept whole (issue 14 item 6).
        ("Your request has been entered into our tracking system as 26-5133.", ("26-5133",)),
        ("It was logged in the records database under 2025-0117 today.", ("2025-0117",)),
        ("The request was logged under number 25-0012.", ("25-0012",)),
        ("For reference, your request number is 4471.", ("4471",)),
        ("Your request 2023-PRR-423 has been received.", ("2023-PRR-423",)),
        ("Re: 2023-PRR-423 Police reports", ("2023-PRR-423",)),
        ("Matter 24-RR-0012 is now closed.", ("24-RR-0012",)),
        ("your FOIA tracking number *RD 77093*, to reflect", ("RD 77093",)),
        ("Reference: C214305 Date Received: 01/02/2025", ("C214305",)),
        ("Re: PRR-2024-556 update", ("PRR-2024-556",)),
    ],
)
def test_finds_numbers(rules, text, expected):
    assert find_tracking_numbers(text, rules) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Pursuant to Government Code Section 7922.535, this letter serves",
        "Reference No. 7922.535",
        "Request # 2023",
        "Case Number is pending 123 days",
        "Your request no. 5 of today",
        "received by the City on 02/11/2025",
        "please call 301-688-6527",
        "a deposit of $350.00 is required",
        "under Gov. Code § 6253(b) and Public Officers Law § 87(2)(g)",
        "your request 2021-22 school year",
        "Request: 2 boxes of files",
        "Reference: 2024",
        "It was entered as 12.",
        "entered on 03/04/2025",
        "The request was filed under Section 7922.535",
        "assigned to Officer Diaz",
        "",
    ],
)
def test_rejects_non_numbers(rules, text):
    assert find_tracking_numbers(text, rules) == ()


def test_agency_patterns_come_first_and_bad_ones_are_skipped(rules):
    text = "Our matter ABC/77/X is open; Tracking # 24-556"
    assert find_tracking_numbers(text, rules, extra_patterns=(r"ABC/\d+/X", "([")) == ("ABC/77/X", "24-556")


def test_bad_regex_names_file_and_key(tmp_path):
    (tmp_path / "tracking.toml").write_text(
        "[settings]\ntoken = '(?P<num>\\\\d+)'\n[[portal]]\nid = 'broken'\npattern = '(?P<num>[0-9'\n"
    )
    with pytest.raises(RulesError) as info:
        load_tracking_rules(tmp_path)
    assert "tracking.toml" in str(info.value) and "portal[broken].pattern" in str(info.value)


def test_missing_group_and_duplicate_ids_rejected(tmp_path):
    path = tmp_path / "tracking.toml"
    path.write_text("[settings]\ntoken = '(?P<num>\\\\d+)'\n[[portal]]\nid = 'x'\npattern = 'abc'\n")
    with pytest.raises(RulesError, match="named 'num'"):
        load_tracking_rules(tmp_path)
    path.write_text(
        "[settings]\ntoken = '(?P<num>\\\\d+)'\n[[portal]]\nid = 'x'\npattern = '(?P<num>a)'\n"
        "[[portal]]\nid = 'x'\npattern = '(?P<num>b)'\n"
    )
    with pytest.raises(RulesError, match="duplicate id"):
        load_tracking_rules(tmp_path)
