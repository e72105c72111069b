"""OCR with Tesseract (pytesseract drives Debian's tesseract binary): scans, photos, image-only PDFs.

Page by page under a page cap and one deadline for the file; a page started near the deadline gets only the
time left (pytesseract kills Tesseract past it), so the cap holds within a second or so.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterable

from PIL import Image

from agent.documents import sniff as kinds
from agent.documents.reading import DocumentReading, ReadingError, ReadingLimits

DPI = 200
# A larger picture is refused before decoding (Pillow's own bomb check is twice its default of ~89 Mpx).
MAX_PIXELS = 60_000_000
LANGUAGE = "eng"


def read_image(kind: str, payload: bytes, *, ocr: bool, limits: ReadingLimits) -> DocumentReading:
    try:
        image = Image.open(io.BytesIO(payload))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ReadingError(f"malformed image: {exc}") from None
    if image.width * image.height > MAX_PIXELS:
        raise ReadingError(f"image too large: {image.width}x{image.height} pixels")
    frames = int(getattr(image, "n_frames", 1))
    if not ocr:
        return DocumentReading(sniffed_type=kind, method="ocr_pending", pages=frames)
    return _recognise(kind, _frames(image, limits.ocr_pages), pages=frames, limits=limits)


def ocr_pdf(payload: bytes, *, pages: int, limits: ReadingLimits) -> DocumentReading:
    from agent.documents.pdf import page_images

    return _recognise(kinds.PDF, page_images(payload, max_pages=limits.ocr_pages, dpi=DPI), pages=pages, limits=limits)


def _frames(image: Image.Image, most: int) -> Iterable[Image.Image]:
    for index in range(min(int(getattr(image, "n_frames", 1)), most)):
        image.seek(index)
        yield image.convert("L")


def _recognise(kind: str, images: Iterable[Image.Image], *, pages: int, limits: ReadingLimits) -> DocumentReading:
    import pytesseract

    # Tesseract's OpenMP threads would take every core for a few percent; one file, one core.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    deadline = time.monotonic() + limits.ocr_seconds
    parts: list[str] = []
    done = 0
    why = ""
    for image in images:
        left = deadline - time.monotonic()
        if left <= 0:
            why = "time"
            break
        try:
            words = pytesseract.image_to_string(image, lang=LANGUAGE, timeout=left)
        except RuntimeError as exc:  # pytesseract's timeout
            if "timeout" in str(exc).lower():
                why = "time"
                break
            raise
        except pytesseract.TesseractNotFoundError:
            raise ReadingError("ocr unavailable: tesseract is not installed") from None
        parts.append(words.strip())
        done += 1
        if sum(len(p) for p in parts) >= limits.max_text_chars:
            break
    text = "\n\n".join(parts)[: limits.max_text_chars]
    if done == 0 and why:
        raise ReadingError(f"timeout: OCR took over {limits.ocr_seconds:g} s")
    capped = ""
    if done < pages:
        capped = f"capped: OCR of {done} of {pages} pages" + (f" ({why})" if why else "")
    return DocumentReading(sniffed_type=kind, method="ocr", text=text, pages=pages, error=capped)
