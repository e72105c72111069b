"""Every test letter read back from each format it arrives in, with its key words and date; records counted."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from agent.config import AttachmentSettings
from agent.documents import sniff
from agent.documents.reading import DocumentReading, ReadingLimits, limits_from, read_here
from support import letters

KINDS = sorted(letters.LETTERS)


def _read(payload: bytes, filename: str = "letter", declared: str = "application/octet-stream", *, ocr: bool = False,
          limits: ReadingLimits = ReadingLimits()) -> DocumentReading:
    return read_here(payload, filename=filename, declared_type=declared, ocr=ocr, limits=limits)


def _spelled(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _assert_letter(kind: str, reading: DocumentReading) -> None:
    text, _label, day = letters.LETTERS[kind]
    found = " ".join(reading.text.split()).lower()
    for words in letters.KEY_WORDS[kind]:
        assert words.lower() in found, (kind, words, reading.text)
    if day is not None:
        assert _spelled(day).lower() in found


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_text_layer(kind: str) -> None:
    reading = _read(letters.pdf_with_text(letters.LETTERS[kind][0]), "letter.pdf", "application/pdf")
    assert (reading.sniffed_type, reading.method, reading.pages, reading.error) == (sniff.PDF, "text", 1, "")
    _assert_letter(kind, reading)


@pytest.mark.parametrize("kind", KINDS)
def test_docx(kind: str) -> None:
    reading = _read(letters.docx(letters.LETTERS[kind][0]), "letter.docx")
    assert (reading.sniffed_type, reading.method, reading.error) == (sniff.DOCX, "docx", "")
    _assert_letter(kind, reading)


@pytest.mark.parametrize("kind", KINDS)
def test_scanned_pdf_is_ocred(kind: str) -> None:
    reading = _read(letters.scanned_pdf(letters.LETTERS[kind][0]), "scan.pdf", "application/pdf", ocr=True)
    assert (reading.method, reading.pages, reading.error) == ("ocr", 1, "")
    _assert_letter(kind, reading)


def test_scan_waits_for_ocr_when_not_asked_now() -> None:
    for payload in (letters.scanned_pdf("Dear Requester, your request is denied."), letters.png_scan("Denied.")):
        reading = _read(payload, ocr=False)
        assert (reading.method, reading.text, reading.pages) == ("ocr_pending", "", 1)


def test_png_scan_is_ocred() -> None:
    reading = _read(letters.png_scan(letters.LETTERS["fee_deposit"][0]), "IMG_0042.png", "image/png", ocr=True)
    assert (reading.sniffed_type, reading.method) == (sniff.PNG, "ocr")
    _assert_letter("fee_deposit", reading)


def test_octet_stream_pdf_without_a_name_is_read() -> None:
    payload = letters.pdf_with_text(letters.LETTERS["denial"][0])
    reading = _read(payload, filename="ATT00001", declared="application/octet-stream")
    assert (reading.sniffed_type, reading.method) == (sniff.PDF, "text")
    _assert_letter("denial", reading)


def test_seed_link_in_the_attached_letter() -> None:
    """Beverly Hills: the cover note points at the letter, and the letter holds the records' link."""
    for payload in (letters.pdf_with_text(letters.SEED_LINK_LETTER), letters.docx(letters.SEED_LINK_LETTER)):
        assert letters.SEED_LINK_URL in _read(payload).text
    scanned = _read(letters.scanned_pdf(letters.SEED_LINK_LETTER), ocr=True)
    assert "cityofbeverlyhills.nextrequest.com" in scanned.text


def test_spreadsheets_are_records_not_letters() -> None:
    rows = letters.SPREADSHEET_ROWS
    workbook = _read(letters.xlsx(rows, sheets=3), "records.xlsx")
    assert (workbook.sniffed_type, workbook.method, workbook.text, workbook.pages) == (sniff.XLSX, "records", "", 3)
    table = _read(letters.csv(rows), "records.csv", "text/csv")
    assert (table.sniffed_type, table.method, table.text, table.pages) == (sniff.CSV, "records", "", len(rows))


def test_html_and_plain_text_attachments() -> None:
    html = b"<html><body><p>Your request is <b>denied</b>.</p><p>Exempt under 7927.500</p></body></html>"
    reading = _read(html, "letter.htm", "text/html")
    assert (reading.method, reading.text) == ("text", "Your request is denied.\n\nExempt under 7927.500")
    windows = "The fee is \u201c$37.50\u201d \u2013 deposit first.".encode("cp1252")
    assert _read(windows, "fee.txt", "text/plain").text == "The fee is \u201c$37.50\u201d \u2013 deposit first."
    assert _read("Gebühr: 12 €".encode(), "fee.txt").text == "Gebühr: 12 €"


def test_unread_kinds_are_none() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    for payload in (ole, _zip_of_text(), b"\x00\x01\x02binary"):
        reading = _read(payload)
        assert (reading.method, reading.text, reading.error) == ("none", "", ""), reading


def _zip_of_text() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "records")
    return out.getvalue()


def test_encrypted_pdf() -> None:
    assert _read(letters.encrypted_pdf("Your request is denied.", password="")).text.strip() == "Your request is denied."
    locked = _read(letters.encrypted_pdf("Your request is denied."))
    assert (locked.method, locked.error, locked.text) == ("failed", "encrypted", "")


def test_caps_on_pages_and_text() -> None:
    long_pdf = letters.many_pages_pdf(40)
    reading = _read(long_pdf, limits=ReadingLimits(max_pages=10))
    assert (reading.method, reading.pages) == ("text", 40)
    assert reading.error == "capped: text of 10 of 40 pages"
    assert "number 10" in reading.text and "number 11" not in reading.text
    short = _read(long_pdf, limits=ReadingLimits(max_text_chars=100))
    assert len(short.text) == 100 and short.error.startswith("capped:")


def test_ocr_stops_at_its_page_cap() -> None:
    reading = _read(letters.many_pages_scan(1000), ocr=True, limits=ReadingLimits(ocr_pages=1))
    assert (reading.method, reading.pages, reading.error) == ("ocr", 1000, "capped: OCR of 1 of 1000 pages")
    assert "Scanned records page" in reading.text


def test_limits_from_settings() -> None:
    settings = AttachmentSettings(read_seconds=5, read_memory_mb=300, ocr_pages=3, ocr_seconds=30)
    limits = limits_from(settings)
    assert (limits.seconds, limits.memory_mb, limits.ocr_pages, limits.ocr_seconds) == (5, 300, 3, 30)
    assert dataclasses.replace(limits, seconds=20, memory_mb=500, ocr_pages=20, ocr_seconds=180) == ReadingLimits()
    assert limits_from(AttachmentSettings()) == ReadingLimits()
    assert AttachmentSettings().read and AttachmentSettings().ocr


def _odf(mimetype: str, body: str) -> bytes:
    import io
    import zipfile

    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body>'
        f"{body}</office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", mimetype)
        archive.writestr("content.xml", content)
    return out.getvalue()


def test_odf_text_and_spreadsheet() -> None:
    odt = _odf(sniff.ODT, "<office:text><text:h>Notice</text:h><text:p>Your request is <text:span>denied</text:span>."
                          "</text:p></office:text>")
    reading = _read(odt, "letter.odt")
    assert (reading.sniffed_type, reading.method, reading.text) == (sniff.ODT, "docx", "Notice\nYour request is denied.")
    ods = _odf(sniff.ODS, '<office:spreadsheet><table:table table:name="A"/><table:table table:name="B"/>'
                          "</office:spreadsheet>")
    assert (_read(ods).method, _read(ods).pages) == ("records", 2)


def test_zip_guard_reads_only_the_directory() -> None:
    """Under the total, but one member inflating a thousandfold: refused before anything is inflated."""
    small_bomb = letters.zip_bomb(20)
    reading = _read(small_bomb, limits=ReadingLimits(max_unzipped_bytes=50_000_000))
    assert reading.method == "failed" and reading.error.startswith("zip bomb: a member inflates")
    workbook = letters.xlsx(letters.SPREADSHEET_ROWS)
    refused = _read(workbook, limits=ReadingLimits(max_unzipped_bytes=1000))
    assert (refused.sniffed_type, refused.method) == (sniff.XLSX, "failed")
    assert refused.error.startswith("zip bomb: inflates to")
