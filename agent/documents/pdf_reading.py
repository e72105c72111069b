"""A PDF as a letter: its text layer, or OCR of its pages when the text layer is (nearly) empty."""

from __future__ import annotations

from agent.documents import sniff as kinds
from agent.documents.pdf import PdfError, text_layer
from agent.documents.reading import DocumentReading, ReadingError, ReadingLimits


def read_pdf(payload: bytes, *, ocr: bool, limits: ReadingLimits) -> DocumentReading:
    try:
        layer = text_layer(payload, max_pages=limits.max_pages, max_chars=limits.max_text_chars)
    except PdfError as exc:
        raise ReadingError(str(exc)) from None
    if not layer.needs_ocr:
        capped = ""
        if layer.pages_read < layer.pages:
            capped = f"capped: text of {layer.pages_read} of {layer.pages} pages"
        return DocumentReading(kinds.PDF, "text", layer.text, layer.pages, capped)
    if not ocr:
        return DocumentReading(kinds.PDF, "ocr_pending", pages=layer.pages)
    from agent.documents.ocr import ocr_pdf

    return ocr_pdf(payload, pages=layer.pages, limits=limits)
