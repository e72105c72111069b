"""The frozen records passed between pipeline stages; stages never hand each other dicts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

MessageKind = Literal["reply", "auto_reply", "bounce"]

LABELS: tuple[str, ...] = (
    "acknowledgment",
    "extension",
    "batch",
    "final_records",
    "no_records",
    "denial",
    "fee",
    "clarification",
    "portal_redirect",
    "auto_reply",
    "bounce",
    "other",
)


@dataclass(frozen=True)
class AttachmentInfo:
    """One attachment as parsed; payload is None when it was over the size cap."""

    filename: str  # already sanitised: no path parts, no control characters
    content_type: str
    size: int
    sha256: str | None
    payload: bytes | None
    oversized: bool = False
    # Set once the file was read (agent.inbound.attachment_reading): its type by content, and how it was
    # read (text | docx | ocr | records | none | failed | ocr_pending); "" when never read.
    sniffed_type: str = ""
    method: str = ""


@dataclass(frozen=True)
class DeliveryReport:
    """The fields of an RFC 3464 delivery report that say which letter failed, where, and for whom."""

    envelope_id: str = ""  # Original-Envelope-Id, xtext decoded
    reporting_mta: str = ""  # host named by Reporting-MTA
    final_recipients: tuple[str, ...] = ()
    original_recipients: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()  # failed, delayed, delivered, relayed, expanded
    returned_message_ids: tuple[str, ...] = ()  # Message-ID of the returned message or its headers


@dataclass(frozen=True)
class ParsedMessage:
    """What parse() makes of raw bytes; everything later works from this alone."""

    message_id: str | None
    subject: str
    from_addr: str  # lower-cased bare address, "" when missing (what the From header claims: see sender_doubt)
    from_name: str
    to_addrs: tuple[str, ...]
    cc_addrs: tuple[str, ...] = ()
    # Delivered-To / X-Original-To / Envelope-To: where the mail really arrived (plus-addresses live here).
    delivered_to: tuple[str, ...] = ()
    date: dt.datetime | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()  # (lower-cased name, decoded value) in order
    text: str = ""  # plain text; HTML-only mail converted to readable text
    html: str | None = None
    attachments: tuple[AttachmentInfo, ...] = ()
    kind: MessageKind = "reply"
    defects: tuple[str, ...] = ()  # what was wrong with the mail but did not stop parsing
    attachment_text: str = ""  # text of attached letters when known (e.g. corpus rows)
    # Why from_addr cannot be taken at its word (two From headers, an encoded address...); "" when it can.
    sender_doubt: str = ""
    delivery_report: DeliveryReport | None = None  # set only for a real multipart/report delivery-status

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    @property
    def sender_trusted(self) -> bool:
        """The From header names one plain mailbox: from_addr may be weighed as evidence."""
        return bool(self.from_addr) and not self.sender_doubt

    @property
    def sender_domain(self) -> str:
        """The domain boilerplate is learned under; none for a doubtful sender, who must not teach an agency's."""
        return self.from_addr.rpartition("@")[2] if self.sender_trusted else ""


def parsed_from_text(
    body: str,
    *,
    subject: str | None = None,
    from_addr: str | None = None,
    date: dt.date | dt.datetime | None = None,
    attachment_text: str | None = None,
) -> ParsedMessage:
    """Build a ParsedMessage from bare text (corpus rows), so they take the daemon's own code path."""
    when: dt.datetime | None
    if isinstance(date, dt.datetime):
        when = date
    elif isinstance(date, dt.date):
        when = dt.datetime(date.year, date.month, date.day, 12, tzinfo=dt.timezone.utc)
    else:
        when = None
    return ParsedMessage(
        message_id=None,
        subject=subject or "",
        from_addr=(from_addr or "").strip().lower(),
        from_name="",
        to_addrs=(),
        date=when,
        text=body or "",
        attachment_text=attachment_text or "",
    )


@dataclass(frozen=True)
class Folded:
    """A block the cleaner hid from the display, and why; the full body is always kept elsewhere."""

    reason: str  # e.g. "quoted", "signature", "disclaimer", "portal_boilerplate", "repeated_in_thread"
    text: str


@dataclass(frozen=True)
class Fee:
    amount: float
    currency: str = "USD"
    kind: Literal["fee", "deposit", "estimate"] = "fee"
    text: str = ""


@dataclass(frozen=True)
class ThreadContext:
    """What the cleaner may know beyond the message itself, gathered from the DB by the caller."""

    earlier_texts: tuple[str, ...] = ()  # earlier inbound bodies of this request's thread, oldest first
    our_texts: tuple[str, ...] = ()  # bodies we sent on this request (echoed requests get folded)
    domain_fingerprints: frozenset[str] = frozenset()  # paragraph fingerprints common across the sender's threads
    request_reference: str | None = None
    known_tracking_numbers: tuple[str, ...] = ()
    tracking_patterns: tuple[str, ...] = ()  # the agency's own tracking-number regexes (Agency.tracking_patterns)
    jurisdiction: str | None = None  # for business-day arithmetic ("within 10 business days")
    request_state: str | None = None  # the matched request's state before this message (thread sense)
    agency_id: int | None = None  # the request's agency: operator corrections are remembered per agency


@dataclass(frozen=True)
class Understanding:
    """What the agency said: the label that drives action, and the facts pulled from the text."""

    label: str
    confidence: float
    rules: tuple[str, ...]  # ids of the rules that fired, for `agent explain`
    cleaned_text: str
    folded: tuple[Folded, ...] = ()
    expected_date: dt.date | None = None
    tracking_numbers: tuple[str, ...] = ()
    fees: tuple[Fee, ...] = ()
    links: tuple[str, ...] = ()
    records_attached: bool = False
    fingerprints: tuple[str, ...] = field(default=())  # masked paragraph fingerprints, for boilerplate learning
