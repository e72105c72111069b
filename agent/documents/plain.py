"""HTML and plain-text attachments: decoded (UTF-8, else Windows-1252, what agency mail systems write)."""

from __future__ import annotations

import codecs

from agent.documents import sniff as kinds
from agent.documents.reading import DocumentReading, ReadingLimits

# HTML carries markup around its words; read this many bytes of it per character of text kept.
_HTML_BYTES_PER_CHAR = 40


def decode(data: bytes) -> str:
    """Text by its byte-order mark, else UTF-8, else cp1252 (which maps nearly every byte)."""
    for mark, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(mark):
            return data[len(mark):].decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # a character cut at the end of a truncated read
            return data[: exc.start].decode("utf-8")
    return data.decode("cp1252", errors="replace")


def read_plain(kind: str, payload: bytes, *, limits: ReadingLimits) -> DocumentReading:
    if kind == kinds.HTML:
        from agent.mail.html_text import html_to_text

        text = html_to_text(decode(payload[: limits.max_text_chars * _HTML_BYTES_PER_CHAR]))
    else:
        text = decode(payload[: limits.max_text_chars * 4]).replace("\r\n", "\n")
    return DocumentReading(sniffed_type=kind, method="text", text=text[: limits.max_text_chars])
