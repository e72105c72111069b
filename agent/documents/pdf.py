"""A PDF's text layer with pypdfium2 (Apache/BSD PDFium; PyMuPDF is AGPL), and its pages as images for OCR."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pypdfium2 as pdfium

if TYPE_CHECKING:  # Pillow is loaded only when a page is rendered for OCR
    from PIL import Image

# PDFium's FPDF_ERR_PASSWORD: the file needs a password we do not have.
_ERR_PASSWORD = 4
# A page rendered for OCR is scaled down to at most this many pixels (a page may declare itself 5 m wide).
MAX_RENDER_PIXELS = 40_000_000
# Fewer non-space characters than this on an average page means the words are in pictures (a scan).
SPARSE_CHARS_PER_PAGE = 20


class PdfError(Exception):
    """The PDF cannot be opened; str() is one line such as "encrypted" or "malformed: ..."."""


@dataclass(frozen=True)
class PdfText:
    pages: int  # pages in the file (not only those read)
    text: str
    pages_read: int

    @property
    def needs_ocr(self) -> bool:
        """A scan: the text layer is (nearly) empty for the pages read."""
        dense = sum(1 for c in self.text if not c.isspace())
        return dense < SPARSE_CHARS_PER_PAGE * max(self.pages_read, 1)


def open_pdf(payload: bytes) -> pdfium.PdfDocument:
    """Open with the empty password (PDFium tries it itself); a real password means "encrypted"."""
    try:
        return pdfium.PdfDocument(payload)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _ERR_PASSWORD:
            raise PdfError("encrypted") from None
        raise PdfError(f"malformed PDF: {exc}".splitlines()[0]) from None


def text_layer(payload: bytes, *, max_pages: int, max_chars: int) -> PdfText:
    """Words of the first `max_pages` pages, stopping once `max_chars` are collected."""
    document = open_pdf(payload)
    try:
        total = len(document)
        parts: list[str] = []
        size = 0
        read = 0
        for index in range(min(total, max_pages)):
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    words = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
            read += 1
            parts.append(words.replace("\r\n", "\n").replace("\r", "\n"))
            size += len(words)
            if size >= max_chars:
                break
        return PdfText(pages=total, text="\n\n".join(parts)[:max_chars], pages_read=read)
    finally:
        document.close()


def page_images(payload: bytes, *, max_pages: int, dpi: int = 250) -> Iterator[Image.Image]:
    """Grayscale renders of the first `max_pages` pages, one at a time (a 1,000-page scan never sits in memory)."""
    document = open_pdf(payload)
    try:
        for index in range(min(len(document), max_pages)):
            page = document[index]
            try:
                width, height = page.get_size()
                scale = min(dpi / 72, (MAX_RENDER_PIXELS / max(width * height, 1.0)) ** 0.5)
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_pil()
                bitmap.close()
            finally:
                page.close()
            yield image
    finally:
        document.close()
