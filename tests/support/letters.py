"""Agency letters written for the tests, and the files they arrive in: PDF, Word, scans, spreadsheets, hostile files.

The texts are invented (no real letter is pasted); each kind carries the words a reader must find in it,
so a test can render one letter to every format and check that reading gives the same words back.
"""

from __future__ import annotations

import csv as _csv
import datetime as dt
import functools
import io
import textwrap
import zipfile
import zlib

from PIL import Image, ImageDraw, ImageFont

# kind -> (letter text, expected label, expected date or None)
LETTERS: dict[str, tuple[str, str, dt.date | None]] = {
    "denial": (
        """Dear Requester,

The Department of Transportation has completed its review of your public records request
number 2025-0418 for the signal timing studies on Harbor Avenue.

The records you asked for are withheld in full. They are deliberative drafts prepared for
the planning commission and are exempt from disclosure under Government Code section 7927.500
(the deliberative process exemption). Your request is therefore denied.

You may seek review of this decision in the superior court.

Sincerely,
Marta Ilves, Records Officer""",
        "denial",
        None,
    ),
    "fee_deposit": (
        """Dear Requester,

Regarding public records request 25-1107 for the body camera footage index: staff time to
locate and copy the responsive records is $37.50 estimated. A deposit of $18.75 is required
before we proceed. Please send a check payable to the City of Larkspur or pay online.

Processing will begin when the deposit is received.

Regards,
Owen Paquet, Clerk's Office""",
        "fee",
        None,
    ),
    "no_records": (
        """Dear Requester,

In response to your request 7731 for contracts with Brightline Analytics, the County searched
the files of the Purchasing and Information Technology divisions. No responsive records were
located. The County has no records matching your description.

This concludes our response to your request.

Respectfully,
Dana Whitcombe, Public Information Office""",
        "no_records",
        None,
    ),
    "extension_new_date": (
        """Dear Requester,

Your records request C-4410 concerning parking enforcement audits requires review of a
voluminous number of records held at a separate facility. Under the unusual circumstances
provision we are extending the time to respond by fourteen days.

We now expect to provide a determination on or before April 18, 2025.

Thank you for your patience,
Priya Raman, Records Unit""",
        "extension",
        dt.date(2025, 4, 18),
    ),
    "final_release": (
        """Dear Requester,

Enclosed please find the records responsive to your request 2025-0912 for the fleet
maintenance logs. The attached records consist of 42 pages. No records were withheld.

With this release your request is complete and will be closed.

Sincerely,
Luis Ferreira, Records Custodian""",
        "final_records",
        None,
    ),
    "clarification": (
        """Dear Requester,

We received your request 88-230 for emails about the stadium lease. Before we can search,
please clarify which departments and which date range you mean. Could you also tell us
whether you want attachments included?

Please reply with your clarification so we can continue processing.

Best regards,
Hanna Soto, Records Coordinator""",
        "clarification",
        None,
    ),
    "acknowledgment": (
        """Dear Requester,

This letter acknowledges receipt of your public records request, which we received
and assigned tracking number PRR-5562. Staff will review the request and respond within
the time allowed by law.

You do not need to do anything at this time.

Sincerely,
Grace Mbeki, Office of the City Clerk""",
        "acknowledgment",
        None,
    ),
    "spreadsheet_only": (
        "Please see the attached spreadsheet.",
        "final_records",
        None,
    ),
}

# Words each letter's reading must contain (case-insensitive), beyond its date.
KEY_WORDS: dict[str, tuple[str, ...]] = {
    "denial": ("exempt", "7927.500", "denied"),
    "fee_deposit": ("$37.50", "deposit", "$18.75"),
    "no_records": ("No responsive records", "Brightline"),
    "extension_new_date": ("extending", "April 18, 2025"),
    "final_release": ("Enclosed", "42 pages", "complete"),
    "clarification": ("clarify", "date range"),
    "acknowledgment": ("acknowledges receipt", "PRR-5562"),
    "spreadsheet_only": ("spreadsheet",),
}

# The records sent with the spreadsheet-only reply.
SPREADSHEET_ROWS: list[list[str | int]] = [
    ["case", "opened", "status", "officer"],
    ["24-0101", "2024-01-03", "closed", 4471],
    ["24-0102", "2024-01-05", "open", 3390],
    ["24-0103", "2024-01-09", "closed", 4471],
]

# The Beverly Hills seed: the mail says "the records link is in the attached letter"; the letter holds it.
SEED_LINK_URL = "https://cityofbeverlyhills.nextrequest.com/documents/3f9c2a71-batch-1"
SEED_LINK_LETTER = f"""Dear Requester,

Re: Public Records Request CRM-25-191

The City has identified a first batch of records responsive to your request. The first batch
of responsive records is available at the following link:

{SEED_LINK_URL}

Additional documents will be released as they become available.

The City Clerk's Office"""
SEED_COVER_NOTE = (
    "Dear Requester, Please find the first batch of responsive records link in the attached letter. "
    "Additional document(s) will be forwarded as they become available."
)


# Page geometry for reportlab (points) and for scans (pixels at SCAN_DPI).
_LINE_CHARS = 88
SCAN_DPI = 200


def _lines(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in text.splitlines():
        out.extend(textwrap.wrap(paragraph, _LINE_CHARS) or [""])
    return out


def pdf_with_text(text: str, *, pages: int = 1) -> bytes:
    """A PDF with a real text layer (what a word processor exports); `pages` copies of the text."""
    return _reportlab_pdf([text] * pages)


def many_pages_pdf(pages: int, *, text: str = "Page of the records released under the request, number") -> bytes:
    """A long PDF made cheaply (one short line a page)."""
    return _reportlab_pdf([f"{text} {n + 1}" for n in range(pages)])


def encrypted_pdf(text: str, *, password: str = "sesame") -> bytes:
    """A PDF encrypted with a user password; password="" makes one any reader may open."""
    from reportlab.lib import pdfencrypt

    encrypt = pdfencrypt.StandardEncryption(password, ownerPassword="owner-" + password, strength=128)
    return _reportlab_pdf([text], encrypt=encrypt)


def _reportlab_pdf(page_texts: list[str], encrypt: object = None) -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=letter, encrypt=encrypt)
    width, height = letter
    for page_text in page_texts:
        y = height - 72
        pdf.setFont("Helvetica", 11)
        for line in _lines(page_text):
            if y < 72:
                pdf.showPage()
                pdf.setFont("Helvetica", 11)
                y = height - 72
            pdf.drawString(72, y, line)
            y -= 15
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def docx(text: str) -> bytes:
    """A Word file with one paragraph per line of the text."""
    import docx as python_docx

    document = python_docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _scan_image(text: str) -> Image.Image:
    """The letter printed and scanned: black text on a white letter-size page, grayscale."""
    width, height = int(8.5 * SCAN_DPI), int(11 * SCAN_DPI)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=int(SCAN_DPI * 12 / 72))  # 12-point type
    y = SCAN_DPI
    step = int(SCAN_DPI * 16 / 72)
    for line in _lines(text):
        draw.text((SCAN_DPI, y), line, fill=0, font=font)
        y += step
    return page


def png_scan(text: str) -> bytes:
    """A phone photo or scanner output of the letter, as PNG."""
    out = io.BytesIO()
    _scan_image(text).save(out, format="PNG")
    return out.getvalue()


def scanned_pdf(text: str, *, pages: int = 1) -> bytes:
    """An image-only PDF (no text layer), as a copier's scan-to-email makes."""
    images = [_scan_image(text) for _ in range(pages)]
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=float(SCAN_DPI), save_all=True, append_images=images[1:])
    return out.getvalue()


def xlsx(rows: list[list[str | int]], *, sheets: int = 1) -> bytes:
    """A workbook with `sheets` copies of the rows."""
    from openpyxl import Workbook

    book = Workbook()
    for n in range(sheets):
        sheet = book.active if n == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = f"Records {n + 1}"
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv(rows: list[list[str | int]]) -> bytes:
    out = io.StringIO()
    _csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


@functools.lru_cache(maxsize=1)
def zip_bomb(unzipped_mb: int = 100) -> bytes:
    """A DOCX-shaped zip whose document part inflates to `unzipped_mb` MB of zeros (about 100 KB on the wire)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(unzipped_mb):
                member.write(block)
    return out.getvalue()


def malformed_pdf() -> bytes:
    """Starts like a PDF, then nothing a parser can use: no xref, a truncated object, binary noise."""
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n" + bytes(range(256)) * 8 + b"\nstream\n\x00\x01"


def many_pages_scan(pages: int) -> bytes:
    """A long image-only PDF made cheaply: every page shows the same small picture of a line of text.

    Written by hand (one image object shared by all pages), since Pillow would encode the picture per page."""
    picture = Image.new("L", (425, 550), 255)
    ImageDraw.Draw(picture).text((40, 40), "Scanned records page", fill=0, font=ImageFont.load_default(size=24))
    pixels = zlib.compress(picture.tobytes())
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (5 + n) for n in range(pages)) + b"] /Count %d >>" % pages,
        b"<< /Type /XObject /Subtype /Image /Width 425 /Height 550 /ColorSpace /DeviceGray /BitsPerComponent 8"
        b" /Filter /FlateDecode /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream",
        b"<< /Length 32 >>\nstream\nq 612 0 0 792 0 0 cm /Im0 Do Q\nendstream",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 3 0 R >> >> /Contents 4 0 R >>"
    objects.extend([page] * pages)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
