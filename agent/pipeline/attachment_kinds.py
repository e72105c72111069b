"""What an attachment is to the reader of a reply: a letter to read, records received, or a file not read.

Once an attachment has been read (agent.documents), its method says which: a letter's words join the reply's
text and are judged like the body, so an acknowledgment sent as a PDF stays an acknowledgment; only records
(spreadsheets, archives, files that are not letters) count as records by themselves. An attachment never read
(corpus rows, reading switched off, over the size cap) is judged by its type as before.
"""

from __future__ import annotations

from agent.documents.sniff import OLE, is_document
from agent.pipeline.stage_data import AttachmentInfo

# Methods whose text is the letter's words (agent.documents.reading).
LETTER_METHODS = frozenset({"text", "docx", "ocr"})
# Read, but its words are not known: the cover note is all there is.
UNREAD_METHODS = frozenset({"failed", "ocr_pending"})
RECORDS_METHOD = "records"


def file_type(attachment: AttachmentInfo) -> str:
    """By content when it was sniffed (PDFs come as application/octet-stream), else as declared."""
    return attachment.sniffed_type or attachment.content_type


def counts_as_records(attachment: AttachmentInfo, unread_types: tuple[str, ...]) -> bool:
    """Whether the file by itself is evidence that records came; `unread_types` decides for files not read
    (never read, or of a type no reader takes: a zip, an old Excel file)."""
    if attachment.method == RECORDS_METHOD:
        return True
    if attachment.method and attachment.method != "none":
        return False
    return not _may_hold_letter(attachment) and file_type(attachment).startswith(unread_types)


def letter_unread(attachment: AttachmentInfo, document_types: tuple[str, ...]) -> bool:
    """A file that may hold the letter but whose words we do not have (a failed read, a scan waiting for OCR
    or with OCR off, an old Word file)."""
    if attachment.method:
        return attachment.method in UNREAD_METHODS or (attachment.method == "none" and _may_hold_letter(attachment))
    return file_type(attachment).startswith(document_types)


def _may_hold_letter(attachment: AttachmentInfo) -> bool:
    """Read by content: a type a letter comes in (PDF, Word, text, an image of a page). Never-read files are
    judged by their declared type alone, as before reading existed."""
    if not attachment.sniffed_type:
        return False
    return is_document(attachment.sniffed_type) or attachment.sniffed_type == OLE
