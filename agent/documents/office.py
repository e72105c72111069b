"""Word and ODF text documents (their words) and spreadsheets (counted as records), behind a zip-bomb guard.

The guard reads only the zip's central directory: a member's inflated size is bounded by what the directory
declares (zipfile stops reading there), so checking declared sizes before opening is enough.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

from agent.documents import sniff as kinds
from agent.documents.plain import decode
from agent.documents.reading import DocumentReading, ReadingError, ReadingLimits

# Office XML compresses ten to thirty times; a member inflating more than this (past a megabyte) is a bomb.
MAX_RATIO = 200
MAX_MEMBERS = 10_000
_BIG_MEMBER = 1 << 20
_PAGES = re.compile(rb"<Pages>\s*(\d+)\s*</Pages>")
_ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_ODF_TABLE = b"<table:table "


def check_zip(payload: bytes, *, max_unzipped_bytes: int) -> zipfile.ZipFile:
    """The archive, opened only after its declared sizes pass; ReadingError("zip bomb: ...") otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ReadingError(f"malformed zip: {exc}") from None
    members = archive.infolist()
    total = sum(m.file_size for m in members)
    if len(members) > MAX_MEMBERS:
        raise ReadingError(f"zip bomb: {len(members)} members")
    if total > max_unzipped_bytes:
        raise ReadingError(f"zip bomb: inflates to {total} bytes (limit {max_unzipped_bytes})")
    for member in members:
        if member.file_size > _BIG_MEMBER and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise ReadingError(f"zip bomb: a member inflates {member.file_size // max(member.compress_size, 1)} times")
    return archive


def read_word(kind: str, payload: bytes, *, limits: ReadingLimits) -> DocumentReading:
    """Paragraphs, then table cells, of a DOCX (python-docx) or an ODT (its content.xml)."""
    with check_zip(payload, max_unzipped_bytes=limits.max_unzipped_bytes) as archive:
        if kind == kinds.ODT:
            text, pages = _odt_text(archive), None
        else:
            text, pages = _docx_text(payload), _docx_pages(archive)
    return DocumentReading(sniffed_type=kind, method="docx", text=text[: limits.max_text_chars], pages=pages)


def _docx_text(payload: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(payload))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(lines).strip()


def _docx_pages(archive: zipfile.ZipFile) -> int | None:
    """The page count Word saved in docProps/app.xml (python-docx does not compute one)."""
    try:
        found = _PAGES.search(archive.read("docProps/app.xml"))
    except KeyError:
        return None
    return int(found.group(1)) if found else None


def _odt_text(archive: zipfile.ZipFile) -> str:
    from lxml import etree

    root = etree.fromstring(archive.read("content.xml"), etree.XMLParser(resolve_entities=False, no_network=True))
    lines = ["".join(str(t) for t in node.itertext()) for node in root.iter(f"{_ODF_TEXT}p", f"{_ODF_TEXT}h")]
    return "\n".join(lines).strip()


def count_records(kind: str, payload: bytes, *, limits: ReadingLimits) -> DocumentReading:
    """Spreadsheets are records, not letters: pages = sheets (XLSX, ODS) or rows (CSV); no text."""
    if kind == kinds.CSV:
        rows = sum(1 for _ in csv.reader(io.StringIO(decode(payload))))
        return DocumentReading(sniffed_type=kind, method="records", pages=rows)
    with check_zip(payload, max_unzipped_bytes=limits.max_unzipped_bytes) as archive:
        if kind == kinds.ODS:
            sheets = archive.read("content.xml").count(_ODF_TABLE)
        else:
            sheets = _xlsx_sheets(archive)
    return DocumentReading(sniffed_type=kind, method="records", pages=sheets)


def _xlsx_sheets(archive: zipfile.ZipFile) -> int:
    """Worksheets listed in the workbook part (no cell is parsed)."""
    try:
        workbook = archive.read("xl/workbook.xml")
    except KeyError:
        raise ReadingError("malformed XLSX: no xl/workbook.xml") from None
    return len(re.findall(rb"<(?:\w+:)?sheet\b", workbook))
