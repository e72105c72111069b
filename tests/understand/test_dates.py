"""Promised dates in the shapes agencies write them, and the look-alikes that promise nothing (our own phrasings)."""

from __future__ import annotations

import datetime as dt

import pytest

from agent.deadlines.business_days import BusinessCalendar
from agent.pipeline import extract

LETTER = dt.date(2025, 5, 13)  # a Tuesday; Memorial Day is Monday May 26
CALENDAR = BusinessCalendar()


def on_calendar(start: dt.date, n: int) -> dt.date:
    return CALENDAR.add_business_days(start, n, "CA")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The agency moves its own date and says to when: the stated date, not the count from the letter.
        ("Your response date has been extended by fourteen (14) days to June 9, 2025.", dt.date(2025, 6, 9)),
        ("The time to respond is extended by ten (10) working days, to 06/03/2025.", dt.date(2025, 6, 3)),
        ("Our deadline has been moved to Monday, June 16, 2025 because of the volume of records.", dt.date(2025, 6, 16)),
        ("We anticipate the documents will be ready on or about May 30, 2025.", dt.date(2025, 5, 30)),
        ("A determination should issue on or about 5/29/25.", dt.date(2025, 5, 29)),
        ("Staff will reply no later than next Friday, May 23, 2025.", dt.date(2025, 5, 23)),
        ("The next release is scheduled no later than July 1, 2025.", dt.date(2025, 7, 1)),
        ("The second installment is scheduled for June 20, 2025.", dt.date(2025, 6, 20)),
        # Counted from the letter's date, on the business calendar when the letter says business days.
        ("You can expect a response within 10 business days.", dt.date(2025, 5, 28)),
        ("You can expect a response within ten business days.", dt.date(2025, 5, 28)),
        ("You should expect to hear from us within fourteen (14) calendar days.", dt.date(2025, 5, 27)),
        ("You may expect our answer within 20 days.", dt.date(2025, 6, 2)),
        ("We will respond within twenty-five (25) business days of the date of this letter.", dt.date(2025, 6, 18)),
        ("The office requires an additional seventeen working days to finish its search.", dt.date(2025, 6, 6)),
        ("We will respond within three weeks.", dt.date(2025, 6, 3)),
        # A condition about the requester does not make the agency's promise conditional.
        ("If you have questions, call us; we expect to respond by May 27, 2025.", dt.date(2025, 5, 27)),
    ],
)
def test_promised_dates(text: str, expected: dt.date) -> None:
    assert extract.expected_date(text, LETTER, on_calendar) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Conditionals: nothing is promised until the condition holds.
        "If we cannot locate the files by May 30, 2025, we will write to you again.",
        "Should additional time be necessary, we will respond by June 13, 2025.",
        "In the event that an extension is needed, the new date will be June 13, 2025.",
        "We will let you know if the search is not finished by May 30, 2025.",
        "If payment is received, records will be released within 10 business days.",
        # Past dates and the dates of the request itself.
        "We received your request dated May 2, 2025 on May 5, 2025.",
        "Your request submitted on May 12, 2025 is being processed in the order received.",
        "On April 28, 2025 we sent you the first set of records.",
        "The City expected to finish by April 30, 2025.",
        # A count from another day than the letter's, or time already gone.
        "It will take no fewer than forty-five days from receipt of your deposit to complete the work.",
        "We will respond within 10 days after payment is received.",
        "Because more than thirty (30) days have elapsed since the invoice, the request is on hold.",
        "Records will be available for download for the next 30 days.",
        # Deadlines for the requester.
        "You must pay within 20 days or the request will be closed.",
        # A quoted history: the earlier promise is not this letter's.
        "Thank you for your patience.\nOn May 1, 2025, Records Unit wrote:\n> We will respond by May 15, 2025.",
        "Thank you for your patience.\n> We will respond by May 15, 2025.",
        "Thank you.\nFrom: Records Unit\nSent: Thursday, May 1, 2025\nWe will respond by May 15, 2025.",
        "No date has been set for the release of the records.",
    ],
)
def test_no_date_where_none_is_promised(text: str) -> None:
    assert extract.expected_date(text, LETTER, on_calendar) is None


def test_the_latest_promise_of_the_letter_wins() -> None:
    text = ("The first installment will be ready by May 20, 2025. If we cannot finish by May 23, 2025, we will tell "
            "you. The final installment is scheduled for June 27, 2025.")
    assert extract.expected_date(text, LETTER) == dt.date(2025, 6, 27)


def test_extraction_stays_linear_on_hostile_text() -> None:
    import time

    text = ("extended by " + "fourteen (14) " * 4000 + "days to ") * 3 + "if " * 20000 + "on or about " * 5000
    text += " We will respond within fourteen (14) business days to May 3, 2025 if" * 3000
    started = time.perf_counter()
    extract.expected_date(text, LETTER)
    assert time.perf_counter() - started < 2.0
