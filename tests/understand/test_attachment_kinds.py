"""How attachments weigh in a reading: a letter that was read speaks through its words, records files count
as records, a letter we could not read leaves the cover note unable to close anything."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from agent.pipeline.attachment_kinds import counts_as_records, letter_unread
from agent.pipeline.autoapply import UNREAD_COVER_NOTE, decide
from agent.pipeline.stage_data import AttachmentInfo, ThreadContext, parsed_from_text
from agent.pipeline.understand import UnderstandRules, understand

COVER = "Please see the attached letter regarding your request."
ACK = (
    "Dear Requester,\n\nThis letter acknowledges receipt of your public records request, which we received and "
    "assigned tracking number PRR-5562. Staff will review the request and respond within the time allowed by law."
)
PDF = AttachmentInfo("letter.pdf", "application/pdf", 2000, None, None)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TYPES = ("application/pdf", "application/zip", "application/vnd", "text/csv", "application/msword")


def _read(info: AttachmentInfo, method: str, sniffed: str = "application/pdf") -> AttachmentInfo:
    return dataclasses.replace(info, method=method, sniffed_type=sniffed)


@pytest.mark.parametrize(
    ("info", "records", "unread"),
    [
        (PDF, True, True),  # never read: judged by its declared type, as before reading existed
        (_read(PDF, "text"), False, False),
        (_read(PDF, "ocr"), False, False),
        (_read(PDF, "failed"), False, True),
        (_read(PDF, "ocr_pending"), False, True),
        (_read(PDF, "none"), False, True),  # a scan with OCR off
        (_read(AttachmentInfo("log.xlsx", "application/octet-stream", 9, None, None), "records", XLSX_TYPE), True, False),
        (_read(AttachmentInfo("all.zip", "application/zip", 9, None, None), "none", "application/zip"), True, False),
        (_read(AttachmentInfo("old.doc", "application/msword", 9, None, None), "none", "application/x-ole-storage"), False, True),
    ],
)
def test_what_an_attachment_counts_as(info: AttachmentInfo, records: bool, unread: bool) -> None:
    assert counts_as_records(info, TYPES) is records
    assert letter_unread(info, TYPES) is unread


def _reply(attachments: tuple[AttachmentInfo, ...], attachment_text: str = ""):  # type: ignore[no-untyped-def]
    msg = parsed_from_text(COVER, subject="RE: records request", date=dt.date(2025, 2, 11), attachment_text=attachment_text)
    return dataclasses.replace(msg, attachments=attachments)


def test_an_acknowledgment_letter_read_from_a_pdf_stays_an_acknowledgment(understand_rules: UnderstandRules) -> None:
    result = understand(_reply((_read(PDF, "text"),), ACK), ThreadContext(), understand_rules)
    assert result.label == "acknowledgment" and not result.records_attached
    assert "final.document_attachment" not in result.rules and UNREAD_COVER_NOTE not in result.rules
    # The same PDF never read: the old reading, which leans to records and so can never close by itself.
    unread = understand(_reply((PDF,)), ThreadContext(), understand_rules)
    assert unread.records_attached and UNREAD_COVER_NOTE in unread.rules


@pytest.mark.parametrize("method", ["failed", "ocr_pending", "none"])
def test_a_cover_note_with_an_unread_letter_never_closes(understand_rules: UnderstandRules, method: str) -> None:
    result = understand(_reply((_read(PDF, method),)), ThreadContext(), understand_rules)
    assert UNREAD_COVER_NOTE in result.rules and not result.records_attached
    assert not decide(result).auto


def test_records_files_alone_are_records_not_an_unread_letter(understand_rules: UnderstandRules) -> None:
    sheet = _read(AttachmentInfo("log.xlsx", XLSX_TYPE, 5000, None, None), "records", XLSX_TYPE)
    result = understand(_reply((sheet,)), ThreadContext(), understand_rules)
    assert result.records_attached and UNREAD_COVER_NOTE not in result.rules
    assert "final.document_attachment" in result.rules
