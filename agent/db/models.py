"""The tables: the database is the truth about requests, messages, deadlines and the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from agent.db.types import UTCDateTime

# Stable constraint names make migrations reproducible on SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _now() -> Mapped[dt.datetime]:
    return mapped_column(UTCDateTime(), server_default=func.now(), default=func.now())


class Agency(Base):
    """A body that answers requests: where it writes from and how it numbers requests."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    jurisdiction: Mapped[str] = mapped_column(String(8), index=True)
    emails: Mapped[list[Any]] = mapped_column(default=list)
    domains: Mapped[list[Any]] = mapped_column(default=list)
    portal_url: Mapped[str | None] = mapped_column(String(500))
    portal: Mapped[str | None] = mapped_column(String(100))
    tracking_patterns: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = _now()

    requests: Mapped[list["Request"]] = relationship(back_populates="agency")


class Campaign(Base):
    """The same letter filed with many agencies at once."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    template: Mapped[str] = mapped_column(String(200))
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = _now()

    requests: Mapped[list["Request"]] = relationship(back_populates="campaign")


class Request(Base):
    """One letter to one agency, and everything we know about its progress."""

    __tablename__ = "requests"
    __table_args__ = (
        # The deadline scan reads only due rows: its cost follows the number due, not the total.
        Index("ix_requests_next_action", "next_action_date", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    state: Mapped[str] = mapped_column(String(32), default="draft", index=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    template: Mapped[str | None] = mapped_column(String(200))
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    subject: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    reply_address: Mapped[str | None] = mapped_column(String(320), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(500), index=True)
    filed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    clock_start: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    extended_due: Mapped[dt.date | None] = mapped_column(Date)
    promised_date: Mapped[dt.date | None] = mapped_column(Date)
    next_action_date: Mapped[dt.date | None] = mapped_column(Date)
    followups_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_followup_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_reply_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), server_default=func.now(), default=func.now(), onupdate=func.now()
    )

    agency: Mapped[Agency] = relationship(back_populates="requests")
    campaign: Mapped[Campaign | None] = relationship(back_populates="requests")
    tracking_numbers: Mapped[list["TrackingNumber"]] = relationship(back_populates="request")


class TrackingNumber(Base):
    """A number the agency gave the request; agencies assign several over time."""

    __tablename__ = "tracking_numbers"
    __table_args__ = (UniqueConstraint("request_id", "value", name="uq_tracking_numbers_request_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    value: Mapped[str] = mapped_column(String(100), index=True)
    first_seen: Mapped[dt.datetime] = _now()
    last_seen: Mapped[dt.datetime] = _now()

    request: Mapped[Request] = relationship(back_populates="tracking_numbers")


class Message(Base):
    """A message in or out. The raw bytes live in the archive; parsed fields are a cache."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_folder_uid", "account", "folder", "uidvalidity", "uid"),
        # The weekly digest selects the week's mail by these; without them it scans every message.
        Index("ix_messages_received_at", "received_at"),
        Index("ix_messages_sent_date", "sent_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    # Message-ID when present, else "sha256:<hex>": recognises a redelivery forever.
    dedupe_key: Mapped[str] = mapped_column(String(600), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(500), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    archive_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer, default=0)
    account: Mapped[str | None] = mapped_column(String(100))
    folder: Mapped[str | None] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    # new -> processed | orphan | quarantined; "review" when a person must look.
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    from_addr: Mapped[str | None] = mapped_column(String(320), index=True)
    to_addrs: Mapped[list[Any]] = mapped_column(default=list)
    sent_date: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    references: Mapped[list[Any]] = mapped_column(default=list)
    kind: Mapped[str | None] = mapped_column(String(20))  # reply | auto_reply | bounce | ours
    label: Mapped[str | None] = mapped_column(String(32), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    rule_hits: Mapped[list[Any]] = mapped_column(default=list)
    match_evidence: Mapped[list[Any]] = mapped_column(default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cleaned_text: Mapped[str | None] = mapped_column(Text)
    folded: Mapped[list[Any]] = mapped_column(default=list)
    received_at: Mapped[dt.datetime] = _now()
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    attachments: Mapped[list["Attachment"]] = relationship(back_populates="message")


class Attachment(Base):
    """A file that came with a message, stored once by content hash under a safe name."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_row_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_path: Mapped[str | None] = mapped_column(String(500))
    # Over the size cap: kept in the raw archive, flagged, not extracted.
    oversized: Mapped[bool] = mapped_column(Boolean, default=False)
    # What reading the file found (agent reprocess re-derives all of it from the stored bytes).
    sniffed_type: Mapped[str | None] = mapped_column(String(100))  # by magic number, not the declared type
    # text | ocr | docx | records | none | failed, or ocr_pending while a scan waits for the OCR job
    method: Mapped[str | None] = mapped_column(String(20), index=True)
    text: Mapped[str | None] = mapped_column(Text)  # the letter's text, capped; None for records and failures
    text_chars: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)  # why reading failed (timeout, memory, encrypted, malformed)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    message: Mapped[Message] = relationship(back_populates="attachments")


class FetchedFile(Base):
    """A link found in a reply (or in its attached letter), what kind of link it is, and what fetching it gave.

    The URL is often a capability (whoever has it can download): it lives here and never in logs."""

    __tablename__ = "fetched_files"
    __table_args__ = (UniqueConstraint("message_row_id", "url_sha256", name="uq_fetched_files_message_row_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    message_row_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))  # the link was in this file's text
    url: Mapped[str] = mapped_column(Text)  # as unwrapped (Safe Links / Proofpoint / Mimecast removed)
    url_sha256: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255), default="")
    # records_portal | file_share | login | unsubscribe | tracking | other
    link_kind: Mapped[str] = mapped_column(String(20), default="other")
    # pending | fetched | needs_login | refused | too_large | failed | skipped
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    stored_path: Mapped[str | None] = mapped_column(String(500))  # in the attachment store, relative
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(200))
    sniffed_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    pages: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = _now()


class Event(Base):
    """The audit trail: every state change and operator action, with its cause."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_created_at", "created_at"),)  # the digest's "moved this week"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    message_row_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(20))  # message | operator | timer | system
    actor: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = _now()


class Outbox(Base):
    """Outgoing mail as a row first: its Message-ID is fixed at queue time, so a retry is the same mail."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(500), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # request | followup | withdrawal | digest | reply
    sender: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(String(500), default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    # queued -> sending -> sent | failed | uncertain | cancelled
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set (committed) just before MAIL FROM: a row claimed but never started can be requeued after a crash.
    smtp_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = _now()


class MailboxState(Base):
    """The IMAP checkpoint per folder: advanced in the same transaction as the message row."""

    __tablename__ = "mailbox_state"
    __table_args__ = (UniqueConstraint("account", "folder", name="uq_mailbox_state_account_folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(100))
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), server_default=func.now(), default=func.now(), onupdate=func.now()
    )


class ReviewItem(Base):
    """Something a person must decide before the daemon acts on it."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    # low_confidence | orphan | fee | clarification | bounce | spoof | escalation | send_failed | quarantined
    # | unknown_sender | suspect_bounce | download_by_hand | attachment_failed
    kind: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | done | skipped
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    message_row_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    suggestions: Mapped[list[Any]] = mapped_column(default=list)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = _now()


class Correction(Base):
    """An operator's confirm or relabel in review, kept as a labelled example of this deployment.

    It teaches the model (on its next load) and the per-agency template memory; it never leaves the database
    except through `agent corrections export`."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_row_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    sender_domain: Mapped[str] = mapped_column(String(255), default="", index=True)
    text: Mapped[str] = mapped_column(Text, default="")  # the cleaned text the classifier read
    label: Mapped[str] = mapped_column(String(32))
    previous_label: Mapped[str | None] = mapped_column(String(32))
    previous_confidence: Mapped[float | None] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(16))  # confirm | relabel
    operator: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _now()


class BoilerplateStat(Base):
    """How often a masked paragraph was seen per sender domain: boilerplate is learned, not listed."""

    __tablename__ = "boilerplate_stats"
    __table_args__ = (UniqueConstraint("domain", "fingerprint", name="uq_boilerplate_stats_domain_fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    threads: Mapped[list[Any]] = mapped_column(default=list)
    seen: Mapped[int] = mapped_column(Integer, default=0)
    sample: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[dt.datetime] = _now()


class DigestLog(Base):
    """One row per digest week, so a restart never sends the same week twice."""

    __tablename__ = "digest_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(10), unique=True)  # ISO week, e.g. 2025-W10
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[dt.datetime] = _now()


class DaemonState(Base):
    """Small named facts the daemon publishes for `agent status` (last poll, last send, errors)."""

    __tablename__ = "daemon_state"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), server_default=func.now(), default=func.now(), onupdate=func.now()
    )


class Appeal(Base):
    """An administrative appeal of one decision: offered on a denial, filed through the outbox, answered or late.

    The dates are the law's (rules/statutes `[appeal]`), computed once when the row is written, so the scan
    reads due rows only."""

    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeals_state_dates", "state", "window_closes", "body_due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    decision_message_row_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    decision_kind: Mapped[str] = mapped_column(String(20))  # denial | no_records | silence
    decision_date: Mapped[dt.date] = mapped_column(Date)
    window_closes: Mapped[dt.date | None] = mapped_column(Date)  # None: the law fixes no window
    # offered -> filed -> answered | overdue; offered -> expired (window passed) | declined | superseded (a later decision)
    state: Mapped[str] = mapped_column(String(16), default="offered", index=True)
    reminded_on: Mapped[dt.date | None] = mapped_column(Date)  # the window reminder went to review
    filed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    message_id: Mapped[str | None] = mapped_column(String(500))
    body_due: Mapped[dt.date | None] = mapped_column(Date)  # None: the law fixes no period for the body
    followups_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_followup_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(32))  # the label of the body's answer
    answer_message_row_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[dt.datetime] = _now()
