"""Types come from content: a PDF declared as octet-stream is a PDF, a Word file is not just a zip."""

from __future__ import annotations

import io
import zipfile

import pytest

from agent.documents import sniff


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("payload", "declared", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "application/octet-stream", sniff.PDF),
        (b"\r\n\r\n%PDF-1.4\n", "application/octet-stream", sniff.PDF),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "application/pdf", sniff.PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "", sniff.JPEG),
        (b"II*\x00\x08\x00", "", sniff.TIFF),
        (b"<!DOCTYPE html><html><body>Letter</body></html>", "application/octet-stream", sniff.HTML),
        (b"Dear requester,\nPlease find", "application/octet-stream", sniff.TEXT),
        (b"\x00\x01\x02\x03binary", "text/plain", sniff.UNKNOWN),
        (b"", "application/pdf", sniff.UNKNOWN),
    ],
)
def test_magic_wins_over_declared_type(payload: bytes, declared: str, expected: str) -> None:
    assert sniff.sniff(payload, declared=declared) == expected


def test_office_files_are_told_apart_from_plain_zips() -> None:
    docx = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    xlsx = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    odt = _zip({"mimetype": sniff.ODT.encode(), "content.xml": b"<office/>"})
    plain = _zip({"records/log.txt": b"x"})
    assert [sniff.sniff(p) for p in (docx, xlsx, odt, plain)] == [sniff.DOCX, sniff.XLSX, sniff.ODT, sniff.ZIP]


def test_csv_needs_the_name_or_declared_type() -> None:
    rows = b"agency,detections\nPolice,7\n"
    assert sniff.sniff(rows, filename="ALPR.CSV") == sniff.CSV
    assert sniff.sniff(rows, declared="text/csv") == sniff.CSV
    assert sniff.sniff(rows) == sniff.TEXT


def test_a_broken_zip_is_a_zip_and_costs_nothing() -> None:
    assert sniff.sniff(b"PK\x03\x04" + b"\x00" * 40) == sniff.ZIP


def test_documents_and_records() -> None:
    assert sniff.is_document(sniff.PDF) and sniff.is_document(sniff.PNG)
    assert not sniff.is_document(sniff.XLSX) and not sniff.is_document(sniff.ZIP)
