"""Extraction: promised dates (absolute and relative, on a business-day calendar), fees, links, attachments."""

from __future__ import annotations

import datetime as dt

import pytest

from agent.pipeline import extract
from agent.pipeline.stage_data import AttachmentInfo

BASE = dt.date(2025, 2, 20)  # a Thursday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You will be notified on or before 03/07/2025 regarding the status.", dt.date(2025, 3, 7)),
        ("The City anticipates providing the requested records by March 1, 2025.", dt.date(2025, 3, 1)),
        ("We expect to have the records ready by March 3.", dt.date(2025, 3, 3)),
        ("Records will be produced no later than 4/15/25.", dt.date(2025, 4, 15)),
        ("The estimated completion date is now June 30, 2025.", dt.date(2025, 6, 30)),
        ("We will respond within 10 business days.", dt.date(2025, 3, 6)),
        ("We will need an additional 14 days to respond.", dt.date(2025, 3, 6)),
        ("We expect to finish within two weeks.", dt.date(2025, 3, 6)),
        ("The next installment will be ready on or before 3/1/2025, and the final one by April 4, 2025.", dt.date(2025, 4, 4)),
        ("We will have the records to you by Friday, March 14, 2025.", dt.date(2025, 3, 14)),
        ("We expect to respond on or about March 21st, 2025.", dt.date(2025, 3, 21)),
        ("The records will be ready no later than close of business on 3/10/2025.", dt.date(2025, 3, 10)),
    ],
)
def test_promised_dates(text, expected):
    assert extract.expected_date(text, BASE) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Pursuant to Government Code Section 7922.535, this letter serves as notice.",
        "Your request dated January 5, 2025 was received by the City on 02/11/2025.",
        "Please respond within 30 days clarifying your request.",
        "If we do not hear from you within 20 business days, we will close your request.",
        "You have the right to appeal within 90 days.",
        "We informed you on February 1 that the City would produce records by February 10, 2025.",
        "Case No. 2025-118 concerns incidents from January 1, 2014 through January 23, 2023.",
        "",
    ],
)
def test_not_promises(text):
    assert extract.expected_date(text, BASE) is None


def test_relative_days_need_a_message_date():
    assert extract.expected_date("We will respond within 10 business days.", None) is None


def test_business_days_use_the_calendar_and_skip_holidays():
    # Presidents' Day 2025 is Monday February 17.
    start = dt.date(2025, 2, 13)
    plain = extract.expected_date("We will respond within 3 business days.", start)
    assert plain == dt.date(2025, 2, 18)  # weekdays only: Fri, Mon, Tue
    from agent.deadlines.business_days import BusinessCalendar

    calendar = BusinessCalendar()
    with_holidays = extract.expected_date(
        "We will respond within 3 business days.", start, lambda d, n: calendar.add_business_days(d, n, "CA")
    )
    assert with_holidays == dt.date(2025, 2, 19)


def test_date_far_in_the_past_or_future_is_ignored():
    assert extract.expected_date("We will produce the records by March 1, 2019.", BASE) is None
    assert extract.expected_date("We will produce the records by March 1, 2035.", BASE) is None


def test_fees_kinds():
    text = (
        "The total estimated cost is $925.84. If you agree to this fee please make a required deposit of $200. "
        "There is no charge for the first $25.00 of copies."
    )
    fees = extract.fees(text)
    assert [(f.amount, f.kind) for f in fees] == [(925.84, "estimate"), (200.0, "deposit")]
    assert extract.fees("The fee is $1,240.00.")[0].amount == 1240.0
    assert extract.fees("Gov. Code 7922.535 and 10 pages") == ()


def test_links_and_records_attached():
    text = "Download here: https://city.box.com/s/abc123. Or see (https://portal.example.gov/r?id=9)."
    assert extract.links(text) == ("https://city.box.com/s/abc123", "https://portal.example.gov/r?id=9")
    assert extract.records_attached("Attached please find the responsive records.", ())
    assert not extract.records_attached("Please see the attached letter regarding your request.", ())
    pdf = AttachmentInfo("response.pdf", "application/pdf", 10, None, b"%PDF")
    assert extract.records_attached("", (pdf,))


def test_html_links_keep_the_targets_that_readable_text_drops():
    html = (
        '<p>Your records are ready: <a href="https://app.box.com/s/abc?x=1&amp;y=2">click here</a>.</p>'
        "<a href='https://agency.nextrequest.com/requests/25-191'>portal</a>"
        '<a href="mailto:clerk@city.gov">mail</a> <a href="https://app.box.com/s/abc?x=1&amp;y=2">again</a>'
        '<a href = "javascript:alert(1)">x</a>'
    )
    assert extract.html_links(html) == (
        "https://app.box.com/s/abc?x=1&y=2",
        "https://agency.nextrequest.com/requests/25-191",
    )
    assert extract.html_links(None) == () and extract.html_links("") == ()


def test_an_html_only_reply_reports_its_link_targets(understand_rules):
    from agent.mail.parse import parse
    from agent.pipeline.stage_data import ThreadContext
    from agent.pipeline.understand import understand

    raw = (
        b"From: Clerk <clerk@city.gov>\r\nTo: desk@example.org\r\nSubject: Records released\r\n"
        b"Message-ID: <h1@city.gov>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b'<html><body><p>The responsive records are available <a href="https://app.box.com/s/k3y">here</a>.</p>'
        b"</body></html>\r\n"
    )
    understood = understand(parse(raw), ThreadContext(), understand_rules)
    assert "https://app.box.com/s/k3y" in understood.links
