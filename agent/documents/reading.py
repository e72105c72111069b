"""The words of an attached or fetched file: which reader fits its type, under limits, never raising.

read_here() does the reading in this process; read_document() runs it in a child process held to memory and
time limits, so a hostile file (zip bomb, malformed PDF, 1,000-page scan) costs a failed reading, not the daemon.

Methods: "text" (PDF text layer, HTML, plain text), "docx" (Word or ODF text document), "ocr" (Tesseract),
"records" (spreadsheets: counted, not read as a letter), "none" (a type we do not read: zip, old Office, other),
"ocr_pending" (a scan when ocr=False: the daemon OCRs it later), "failed" (error says why, in one line).

`pages` is the PDF's page count, the DOCX's page count when the file records one (docProps/app.xml), the
frame count of an image, the number of sheets of an XLSX/ODS workbook, or the number of rows of a CSV.
A reading cut short by a cap keeps what it read, and says so in `error` starting "capped:".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.documents import sniff as kinds

if TYPE_CHECKING:  # the sandbox child imports this module: no pydantic at run time
    from agent.config import AttachmentSettings


@dataclass(frozen=True)
class ReadingLimits:
    seconds: float = 20.0  # wall time for one file (text layer, docx, html)
    memory_mb: int = 500  # address-space limit of the child process
    max_pages: int = 300  # text-layer pages read
    ocr_pages: int = 20  # pages OCRed at most
    ocr_seconds: float = 180.0  # wall time for OCR of one file
    max_text_chars: int = 60_000  # text kept
    max_unzipped_bytes: int = 50_000_000  # zip-bomb guard for DOCX/XLSX


@dataclass(frozen=True)
class DocumentReading:
    sniffed_type: str
    method: str  # text | ocr | docx | records | none | failed | ocr_pending
    text: str = ""  # letter text; "" for records/none/failed/ocr_pending
    pages: int | None = None  # see the module docstring for what is counted
    error: str = ""  # one line: why it failed (timeout, memory, encrypted, malformed, zip bomb) or "capped: ..."


def limits_from(settings: AttachmentSettings) -> ReadingLimits:
    """The [attachments] section's reading limits; the rest keep their defaults."""
    return ReadingLimits(
        seconds=settings.read_seconds,
        memory_mb=settings.read_memory_mb,
        ocr_pages=settings.ocr_pages,
        ocr_seconds=settings.ocr_seconds,
    )


class ReadingError(Exception):
    """A file that cannot be read; str() is the one-line reason stored on the attachment."""


def read_document(
    payload: bytes, *, filename: str, declared_type: str, ocr: bool, limits: ReadingLimits = ReadingLimits()
) -> DocumentReading:
    """Read in a child process under memory and time limits; never raises for a bad file.
    ocr=False: an image or image-only PDF comes back as method "ocr_pending" (the daemon OCRs it later);
    ocr=True: OCR runs now (within ocr_pages / ocr_seconds)."""
    from agent.documents.sandbox import read_in_child

    return read_in_child(payload, filename=filename, declared_type=declared_type, ocr=ocr, limits=limits)


def read_here(
    payload: bytes, *, filename: str, declared_type: str, ocr: bool, limits: ReadingLimits = ReadingLimits()
) -> DocumentReading:
    """The same, in this process (what the child runs; tests and the bench call it directly)."""
    kind = kinds.sniff(payload, filename=filename, declared=declared_type)
    try:
        return _read(kind, payload, ocr=ocr, limits=limits)
    except ReadingError as exc:
        return failed(kind, str(exc))
    except MemoryError:
        return failed(kind, f"memory: the file needs more than {limits.memory_mb} MB")
    except Exception as exc:  # noqa: BLE001 - a parser's surprise on a bad file is that file's failure
        return failed(kind, f"malformed: {type(exc).__name__}: {exc}")


def failed(kind: str, reason: str) -> DocumentReading:
    line = " ".join(reason.split())[:300] or "failed"
    return DocumentReading(sniffed_type=kind, method="failed", error=line)


def _read(kind: str, payload: bytes, *, ocr: bool, limits: ReadingLimits) -> DocumentReading:
    if kind == kinds.PDF:
        from agent.documents.pdf_reading import read_pdf

        return read_pdf(payload, ocr=ocr, limits=limits)
    if kind in (kinds.DOCX, kinds.ODT):
        from agent.documents.office import read_word

        return read_word(kind, payload, limits=limits)
    if kind in kinds.SPREADSHEETS:
        from agent.documents.office import count_records

        return count_records(kind, payload, limits=limits)
    if kind in (kinds.HTML, kinds.TEXT):
        from agent.documents.plain import read_plain

        return read_plain(kind, payload, limits=limits)
    if kind in kinds.IMAGES:
        from agent.documents.ocr import read_image

        return read_image(kind, payload, ocr=ocr, limits=limits)
    return DocumentReading(sniffed_type=kind, method="none")
