"""What a file is, by its first bytes: agencies send PDFs as application/octet-stream and Word files as zip."""

from __future__ import annotations

import io
import zipfile

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ZIP = "application/zip"
OLE = "application/x-ole-storage"  # old .doc/.xls/.msg: recognised, not read
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
TIFF = "image/tiff"
BMP = "image/bmp"
HTML = "text/html"
CSV = "text/csv"
TEXT = "text/plain"
UNKNOWN = "application/octet-stream"

IMAGES = frozenset({PNG, JPEG, GIF, TIFF, BMP})
SPREADSHEETS = frozenset({XLSX, ODS, CSV})

# How many leading bytes sniff() needs; a caller streaming a download passes at least this much.
HEAD_BYTES = 4096

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"BM", BMP),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
)
_OOXML_PARTS: tuple[tuple[str, str], ...] = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_ODF_TYPES = {ODT.encode(): ODT, ODS.encode(): ODS}


def sniff(payload: bytes, *, filename: str = "", declared: str = "") -> str:
    """The file's type from its content; the name and declared type only break ties between text formats.

    A zip is opened only to list its member names (never to decompress), so a zip bomb costs nothing here."""
    head = payload[:HEAD_BYTES]
    # PDF writers may put junk before the header; readers accept it within the first kilobyte.
    if b"%PDF-" in head[:1024]:
        return PDF
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(payload)
    return _text_kind(head, filename=filename.lower(), declared=declared.lower())


def is_document(kind: str) -> bool:
    """A type that can hold a letter's words (as opposed to records such as spreadsheets)."""
    return kind in {PDF, DOCX, ODT, HTML, TEXT} or kind in IMAGES


def _zip_kind(payload: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size < 200:
                    found = _ODF_TYPES.get(archive.read(info).strip())
                    if found:
                        return found
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        return ZIP
    if "[Content_Types].xml" in names:
        for prefix, kind in _OOXML_PARTS:
            if any(n.startswith(prefix) for n in names):
                return kind
    return ZIP


def _text_kind(head: bytes, *, filename: str, declared: str) -> str:
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return UNKNOWN
    start = head.lstrip()[:512].lower()
    if start.startswith((b"<!doctype html", b"<html")) or b"<html" in start or b"<body" in start:
        return HTML
    if filename.endswith(".csv") or declared == CSV:
        return CSV
    if filename.endswith((".htm", ".html")) or declared == HTML:
        return HTML
    if _looks_like_text(head):
        return TEXT
    return UNKNOWN


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the HEAD_BYTES boundary is still text.
        if exc.start < len(head) - 4:
            return _mostly_printable(head)
    return True


def _mostly_printable(head: bytes) -> bool:
    printable = sum(1 for b in head if b >= 32 or b in (9, 10, 13))
    return printable / len(head) > 0.95
