"""The test letters (tests/support/letters.py) mean what they say: today's understanding labels each as LETTERS expects, when its text
arrives as the attachment's text behind a one-line cover note (what the ingest wiring will feed it)."""

from __future__ import annotations

import datetime as dt

import pytest

from agent.pipeline.stage_data import AttachmentInfo, ParsedMessage, ThreadContext
from agent.pipeline.understand import UnderstandRules, understand
from support import letters

COVER_NOTE = "Please see the attached letter regarding your request."


@pytest.fixture
def rules(understand_rules: UnderstandRules) -> UnderstandRules:
    return understand_rules


def _reply(body: str, attachment_text: str, content_type: str) -> ParsedMessage:
    return ParsedMessage(
        message_id="<letter@city.example.gov>",
        subject="RE: Public records request",
        from_addr="clerk@city.example.gov",
        from_name="City Clerk",
        to_addrs=("records@example.org",),
        date=dt.datetime(2025, 4, 1, 15, 0, tzinfo=dt.timezone.utc),
        text=body,
        attachment_text=attachment_text,
        attachments=(AttachmentInfo("letter", content_type, 2048, "0" * 64, None),),
    )


@pytest.mark.parametrize("kind", sorted(set(letters.LETTERS) - {"spreadsheet_only"}))
def test_letter_in_the_attachment_gets_its_label(kind: str, rules: UnderstandRules) -> None:
    text, label, day = letters.LETTERS[kind]
    understood = understand(_reply(COVER_NOTE, text, "application/pdf"), ThreadContext(), rules)
    assert (understood.label, understood.expected_date) == (label, day)


def test_spreadsheet_only_reply_is_records(rules: UnderstandRules) -> None:
    text, label, _ = letters.LETTERS["spreadsheet_only"]
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert understand(_reply(text, "", sheet), ThreadContext(), rules).label == label


def test_seed_link_letter(rules: UnderstandRules) -> None:
    understood = understand(_reply(letters.SEED_COVER_NOTE, letters.SEED_LINK_LETTER, "application/pdf"),
                            ThreadContext(), rules)
    assert understood.label == "batch"
    assert letters.SEED_LINK_URL in understood.links
