"""What each request has received: the files attached to the agency's replies and those fetched from its links.

An attachment the reader took words from (text layer, DOCX, OCR) is the agency's letter; every other file, and
every fetched file, is records. Rows read before attachments were read have no method: their role is unknown,
so they count as records (nothing received is hidden) and their type is the declared one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, defer

from agent.db.models import Agency, Attachment, Campaign, FetchedFile, Message, Request
from agent.operators.clock import as_utc
from agent.operators.ids import as_id

LETTER_METHODS = frozenset({"text", "docx", "ocr"})
# A bounce carries our own letter back; its files are not anything the agency sent.
NOT_FROM_AGENCY = ("bounce",)
LINK_ID_CHARS = 10


class UnknownCampaign(LookupError):
    """The --campaign argument names no campaign."""


@dataclass(frozen=True)
class RecordFile:
    origin: str  # "attachment" | "fetched"
    id: int  # the row id in its table
    role: str  # "letter" | "records"
    name: str
    type: str  # by content when known, else as declared
    declared_type: str
    size: int
    pages: int | None
    sha256: str | None
    stored_path: str | None  # in the attachment store; None when not kept (over the size cap)
    received_at: dt.datetime  # the reply's arrival, or when the file was fetched
    message_row_id: int
    message_id: str | None
    sender: str | None
    message_date: dt.datetime | None = None  # when the reply came (its Date header, else our receipt)
    method: str | None = None
    host: str | None = None
    link_kind: str | None = None
    link_id: str | None = None  # the start of the URL's sha256: names the link without revealing it
    url: str | None = None  # only when asked for: the URL is often a capability

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "origin": self.origin, "id": self.id, "role": self.role, "name": self.name, "type": self.type,
            "declared_type": self.declared_type, "size": self.size, "pages": self.pages, "sha256": self.sha256,
            "stored": self.stored_path is not None, "received_at": self.received_at.isoformat(),
            "source": {"message_row_id": self.message_row_id, "message_id": self.message_id, "from": self.sender,
                       "date": self.message_date.isoformat() if self.message_date else None},
        }
        if self.origin == "attachment":
            data["method"] = self.method
        else:
            data["source"].update(host=self.host, link_kind=self.link_kind, link_id=self.link_id)
            if self.url is not None:
                data["source"]["url"] = self.url
        return data


@dataclass(frozen=True)
class UnfetchedLink:
    """A link in a reply that did not give a file (yet): it needs a login, was refused, failed, or waits."""

    id: int
    host: str
    link_kind: str
    state: str
    link_id: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "host": self.host, "link_kind": self.link_kind, "state": self.state,
                "link_id": self.link_id}


@dataclass(frozen=True)
class RequestRecords:
    request_id: int
    reference: str
    agency: str
    campaign: str | None
    files: tuple[RecordFile, ...]
    unfetched: tuple[UnfetchedLink, ...] = ()

    @property
    def record_count(self) -> int:
        return sum(1 for f in self.files if f.role == "records")

    @property
    def letter_count(self) -> int:
        return sum(1 for f in self.files if f.role == "letter")

    def as_json(self) -> dict[str, Any]:
        return {"request": self.reference, "request_id": self.request_id, "agency": self.agency,
                "campaign": self.campaign, "records": self.record_count, "letters": self.letter_count,
                "files": [f.as_json() for f in self.files],
                "links_not_fetched": [link.as_json() for link in self.unfetched]}


def attachment_role(method: str | None) -> str:
    return "letter" if method in LETTER_METHODS else "records"


def records_of(
    session: Session, *, request_id: int | None = None, campaign: str | None = None, show_urls: bool = False
) -> list[RequestRecords]:
    """The files per request: one request, a campaign's requests (those with nothing too), or every request
    that received something. In reference order; files oldest first."""
    stmt = select(Request.id, Request.reference, Agency.name, Campaign.name).join(
        Agency, Agency.id == Request.agency_id).outerjoin(Campaign, Campaign.id == Request.campaign_id)
    if request_id is not None:
        stmt = stmt.where(Request.id == request_id)
    elif campaign is not None:
        stmt = stmt.where(Request.campaign_id == campaign_id(session, campaign))
    requests = list(session.execute(stmt.order_by(Request.reference)))
    ids = [r[0] for r in requests]
    files = _attachments(session, ids)
    unfetched: dict[int, list[UnfetchedLink]] = defaultdict(list)
    for rid, item in _fetched(session, ids, show_urls=show_urls):
        if isinstance(item, RecordFile):
            files[rid].append(item)
        else:
            unfetched[rid].append(item)
    everything = request_id is None and campaign is None
    out = []
    for rid, reference, agency, campaign_name in requests:
        found = sorted(files.get(rid, ()), key=lambda f: (f.received_at, f.origin, f.id))
        if everything and not found and not unfetched.get(rid):
            continue
        out.append(RequestRecords(rid, reference, agency, campaign_name, tuple(found), tuple(unfetched.get(rid, ()))))
    return out


def source_line(f: RecordFile) -> str:
    """Where a file came from, without the capability URL (unless asked): the message, or the link's host and id."""
    if f.origin == "fetched":
        line = f"link {f.host or '?'} ({f.link_kind or 'other'}, id {f.link_id})"
        return f"{line} {f.url}" if f.url else line
    return f"message {f.message_id or f'#{f.message_row_id}'} from {f.sender or '?'}"


def campaign_id(session: Session, ident: str) -> int:
    """A campaign by row id or by name (any case)."""
    number = as_id(ident)
    if number is not None and session.get(Campaign, number) is not None:
        return number
    found = session.scalars(select(Campaign.id).where(func.lower(Campaign.name) == ident.strip().lower())).all()
    if len(found) == 1:
        return found[0]
    if found:
        raise UnknownCampaign(f"{len(found)} campaigns are named {ident!r}; use the campaign's id")
    raise UnknownCampaign(f"no campaign with id or name {ident!r}")


def _attachments(session: Session, request_ids: list[int]) -> dict[int, list[RecordFile]]:
    out: dict[int, list[RecordFile]] = defaultdict(list)
    for chunk in _chunks(request_ids):
        rows = session.execute(
            select(Attachment, Message.request_id, Message.message_id, Message.from_addr, Message.sent_date,
                   Message.received_at)
            .join(Message, Message.id == Attachment.message_row_id)
            .where(Message.request_id.in_(chunk), Message.direction == "in",
                   or_(Message.kind.is_(None), Message.kind.not_in(NOT_FROM_AGENCY)))
            .options(defer(Attachment.text))  # the letter's words (up to 60,000 characters) are never shown here
        )
        for a, rid, message_id, sender, sent, received in rows:
            if rid is None:
                continue
            out[rid].append(RecordFile(
                origin="attachment", id=a.id, role=attachment_role(a.method), name=a.filename,
                type=a.sniffed_type or a.content_type, declared_type=a.content_type, size=int(a.size or 0),
                pages=a.pages, sha256=a.sha256, stored_path=a.stored_path, received_at=_arrival(sent, received),
                message_row_id=a.message_row_id, message_id=message_id, sender=sender,
                message_date=_arrival(sent, received), method=a.method,
            ))
    return out


def _fetched(
    session: Session, request_ids: list[int], *, show_urls: bool
) -> list[tuple[int, RecordFile | UnfetchedLink]]:
    """Fetched files as records; links that gave nothing as notes. Unsubscribe and tracking links are neither."""
    out: list[tuple[int, RecordFile | UnfetchedLink]] = []
    for chunk in _chunks(request_ids):
        rows = session.execute(
            select(FetchedFile, Message.message_id, Message.from_addr, Message.sent_date, Message.received_at)
            .join(Message, Message.id == FetchedFile.message_row_id)
            .where(FetchedFile.request_id.in_(chunk))
        )
        for f, message_id, sender, sent, received in rows:
            if f.request_id is None:
                continue
            link_id = f.url_sha256[:LINK_ID_CHARS]
            if f.state != "fetched":
                if f.link_kind in ("records_portal", "file_share", "login") and f.state != "skipped":
                    out.append((f.request_id, UnfetchedLink(f.id, f.host, f.link_kind, f.state, link_id)))
                continue
            declared = f.content_type or "application/octet-stream"
            out.append((f.request_id, RecordFile(
                origin="fetched", id=f.id, role="records", name=f.filename or f"file from {f.host}",
                type=f.sniffed_type or declared, declared_type=declared, size=int(f.size or 0), pages=f.pages,
                sha256=f.sha256, stored_path=f.stored_path,
                received_at=as_utc(f.fetched_at) or _arrival(sent, received),
                message_row_id=f.message_row_id, message_id=message_id, sender=sender,
                message_date=_arrival(sent, received), host=f.host,
                link_kind=f.link_kind, link_id=link_id, url=f.url if show_urls else None,
            )))
    return out


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _arrival(sent: dt.datetime | None, received: dt.datetime | None) -> dt.datetime:
    """The reply's Date header unless it is missing or later than our receipt (a sender's wrong clock)."""
    got, dated = as_utc(received), as_utc(sent)
    if dated is not None and (got is None or dated <= got + dt.timedelta(days=1)):
        return dated
    return got or _EPOCH


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]
