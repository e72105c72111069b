"""Simulated agencies: each answers a request the way a real office does, on its own timetable.

The portal city is modelled on the Beverly Hills thread in the seeds (a portal that repeats every
earlier notice and the same footer in each new mail); the wording here is our own.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Filed:
    """What an agency learns from our request mail."""

    reference: str
    subject: str
    message_id: str
    reply_to: str
    received: dt.date


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    payload: bytes


@dataclass(frozen=True)
class Reply:
    """One mail an agency will send, `day` days after it received the request."""

    day: int
    subject: str
    body: str
    threaded: bool = True  # portals often start a new thread; people press "reply"
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[Attachment, ...] = ()


Script = Callable[[Filed], list[Reply]]


@dataclass(frozen=True)
class SimAgency:
    name: str
    email: str
    behaviour: str  # one line for the screen
    script: Script
    portal: str | None = None
    portal_url: str | None = None
    tracking_patterns: tuple[str, ...] = field(default=())

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


def _us(d: dt.date) -> str:
    return d.strftime("%m/%d/%Y")


def _long(d: dt.date) -> str:
    return f"{d.strftime('%B')} {d.day}, {d.year}"


# ---- a records portal that repeats itself (after the Beverly Hills thread) ----------------------


def harbor_city(filed: Filed) -> list[Reply]:
    number = f"CRM-{filed.received.year % 100:02d}-{400 + secrets.randbelow(500)}"
    portal_ref = "CRM-" + secrets.token_urlsafe(7).replace("-", "x").replace("_", "y")[:9]
    footer = (
        f"This message concerns request {number} ({portal_ref}). To ask about it, reply to this email "
        "and the Clerk's staff will write back as soon as they can.\n"
        "City of Harbor City, CA\n"
        "200 Wharf Street, Harbor City, CA 90999"
    )

    def link() -> str:
        return f"https://notify.harborcity-records.example/t/{secrets.token_urlsafe(24)}"

    def acknowledgment() -> str:
        return (
            "Dear Records Desk,\n\n"
            f"The Harbor City Clerk's Office has received your public records request {number}. "
            f"Many City records are already published online at www.harborcity.example/records ({link()}).\n\n"
            "Records that are not online can be requested through the Harbor Records Portal: "
            f"1. Fill in the request form ({link()}). 2. Open portal.harborcity.example ({link()}). "
            "3. Pick the category Public Records and upload the form.\n\n"
            "With regards,\nThe Harbor City Clerk's Office\n\n" + footer
        )

    extended_to = filed.received + dt.timedelta(days=24)

    def extension() -> str:
        return (
            "Dear Records Desk,\n\n"
            "The City of Harbor City has your request for records under the California Public Records Act, "
            f"received on {_us(filed.received)}. This letter is the City's written notice under Government "
            "Code section 7922.535 that unusual circumstances make an extension of the 10-day determination "
            "period necessary: staff must search for, gather and review a large number of separate records. "
            "The Clerk's Office will release responsive records in installments as they are ready. "
            f"You will be told on or before {_us(extended_to)} about the rest of the disclosable records.\n\n"
            "With regards,\nThe Harbor City Clerk's Office\n\n" + footer
        )

    def batch() -> str:
        return (
            "Dear Records Desk,\n\n"
            "The first installment of responsive records is ready: the download link is in the attached "
            f"letter and here: https://portal.harborcity.example/release/{secrets.token_hex(6)}. "
            "Further records will follow as they become available.\n\n"
            "With regards,\nThe Harbor City Clerk's Office\n\n" + footer
        )

    subject = f"Harbor City Clerk - Public Records Request :: {number}"
    # Each portal mail carries the new notice on top and every earlier one, footer and all, below it.
    ack, ext, first = acknowledgment(), extension(), batch()
    return [
        Reply(1, subject, ack, threaded=False),
        Reply(9, subject, ext + "\n\n" + ack, threaded=False),
        Reply(
            15,
            subject,
            first + "\n\n" + ext + "\n\n" + ack,
            threaded=False,
            attachments=(
                Attachment(
                    "Installment-1-letter.pdf",
                    "application/pdf",
                    _pdf(
                        "Harbor City Clerk - Installment 1",
                        f"Request {number}",
                        "The first installment of responsive records is released with this letter.",
                        "The City continues to review further records and will release them as they are ready.",
                    ),
                ),
            ),
        ),
    ]


# ---- a holding reply with a promised date, then the final answer (after Desert Hot Springs) -------


def mesa_verde(filed: Filed) -> list[Reply]:
    promised = filed.received + dt.timedelta(days=12)
    holding = (
        "Records Desk,\n\n"
        f"This email answers your request of {_long(filed.received)} under the California Public Records Act.\n\n"
        "Department staff are searching for and collecting the records you described and will release them "
        f"promptly. We expect to provide the records by {_long(promised)}.\n\n"
        "If you have questions in the meantime, please contact me.\n\n"
        "Sgt. Dana Ruiz\nRecords Unit, Mesa Verde Police Department"
    )
    final = (
        "Dear Records Desk,\n\n"
        f"Further to our message of {_long(filed.received + dt.timedelta(days=3))}, the Department has finished "
        "its search. The responsive records are attached: the data-sharing report and the yearly hit-ratio "
        "summaries. This completes our response, and the request is now closed.\n\n"
        "Sgt. Dana Ruiz\nRecords Unit, Mesa Verde Police Department"
    )
    return [
        Reply(3, f"RE: {filed.subject}", holding),
        Reply(
            12,  # on the promised day, so no reminder is needed
            f"RE: {filed.subject}",
            final,
            attachments=(
                Attachment(
                    "data-sharing-report.pdf",
                    "application/pdf",
                    _pdf("ALPR data sharing report", "Agency                      Access since", "Northern County Sheriff     2021"),
                ),
                Attachment(
                    "hit-ratio-2022-2024.pdf",
                    "application/pdf",
                    _pdf("ALPR hit ratio", "Year   Detections   Hits", "2022   18,204       41", "2023   20,117       38"),
                ),
            ),
        ),
    ]


def pine_county(filed: Filed) -> list[Reply]:
    body = (
        "Hello,\n\n"
        f"We located about 640 pages responsive to your request {filed.reference}. Under the County's fee "
        "schedule the cost of duplication is $37.50. Please send a deposit of $37.50 (check or money order "
        "payable to Pine County) before we continue; the request is on hold until payment arrives.\n\n"
        "Records Section\nPine County Sheriff's Office"
    )
    return [Reply(4, f"RE: {filed.subject}", body)]


def lakeside(filed: Filed) -> list[Reply]:
    body = (
        "Dear requester,\n\n"
        "After a diligent search the District found no records responsive to your request. The District "
        "does not operate automated license plate readers and holds no documents of the kind you describe. "
        "We consider this request closed.\n\n"
        "Office of the General Counsel\nLakeside Unified School District"
    )
    return [Reply(6, f"RE: {filed.subject}", body)]


def cedar_hills(filed: Filed) -> list[Reply]:
    body = (
        "Dear Records Desk,\n\n"
        "The Department has reviewed your request. The records you seek are records of investigations and "
        "are exempt from disclosure under Government Code section 7923.600. Your request is therefore denied "
        "in full.\n\n"
        "Lt. Morgan Hale\nCedar Hills Police Department"
    )
    return [Reply(7, f"RE: {filed.subject}", body)]


def riverside_transit(filed: Filed) -> list[Reply]:
    away_until = filed.received + dt.timedelta(days=7)
    out_of_office = (
        f"I am out of the office until {_long(away_until)} with limited access to email. "
        "Your message has not been forwarded. For urgent matters please call the Clerk's main line."
    )
    number = f"PRR-{filed.received.year}-{100 + secrets.randbelow(800)}"
    ack = (
        "Good afternoon,\n\n"
        f"We received your public records request and assigned it number {number}. The Authority will "
        "respond within the time the law allows.\n\n"
        "Jamie Ortiz\nClerk of the Board, Riverside Transit Authority"
    )
    return [
        Reply(
            0,
            f"Automatic reply: {filed.subject}",
            out_of_office,
            headers=(("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes")),
        ),
        Reply(8, f"RE: {filed.subject}", ack),
    ]


def granite_water(filed: Filed) -> list[Reply]:
    return []  # never answers: the deadline passes and the agent follows up


def _pdf(title: str, *lines: str) -> bytes:
    """A small well-formed one-page PDF with a text layer (Helvetica), so viewers open it and the agent reads it."""
    def escaped(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "".join(f"({escaped(line)}) Tj T* " for line in (title, "", *lines))
    stream = f"BT /F1 11 Tf 14 TL 50 750 Td {text}ET".encode("latin-1", "replace")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj" % number + body + b"endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


AGENCIES: tuple[SimAgency, ...] = (
    SimAgency(
        "Harbor City Clerk",
        "clerk@harborcity.example",
        "records portal: acknowledgment with a tracking number, extension, first installment (repeats earlier notices)",
        harbor_city,
        portal="govqa",
        portal_url="https://portal.harborcity.example",
        tracking_patterns=(r"(?P<num>CRM-\d{2}-\d{1,7})",),
    ),
    SimAgency(
        "Mesa Verde Police Department",
        "records@mesaverdepd.example",
        "holding reply with a promised date, then the final answer with records attached",
        mesa_verde,
    ),
    SimAgency("Pine County Sheriff's Office", "records@pinecountyso.example", "asks for a fee deposit", pine_county),
    SimAgency("Lakeside Unified School District", "counsel@lakesideusd.example", "no responsive records", lakeside),
    SimAgency("Cedar Hills Police Department", "records@cedarhillspd.example", "denies under an exemption", cedar_hills),
    SimAgency(
        "Riverside Transit Authority",
        "clerk@riversidetransit.example",
        "out-of-office auto-reply, then an acknowledgment with a number",
        riverside_transit,
    ),
    SimAgency("Granite Water District", "info@granitewater.example", "never answers", granite_water),
)
