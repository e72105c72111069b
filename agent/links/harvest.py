"""The link harvest: record every link of a matched reply (and of its attached letters), then fetch the records.

Runs outside the ingest transaction (a daemon job and `agent links fetch`): a slow file share never holds up
reading mail. Recording and fetching are separate steps, and no database transaction stays open while a
download runs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import LinksSettings, Settings
from agent.db.models import FetchedFile, Message, Request, ReviewItem
from agent.links import fetch as fetching
from agent.links.fetch import Fetched, Fetcher, FetchLimits
from agent.links.guard import AddressPolicy
from agent.links.kinds import NEVER_FETCHED, LinkRules, link_kind, load_link_rules
from agent.links.unwrap import Unwrapped, unwrap
from agent.links.urls import BadUrl, host_matches, parse, url_sha256
from agent.mail.attachments import AttachmentStore
from agent.pipeline.extract import links as find_links

log = logging.getLogger("agent.links")

HARVESTED = "links_harvested"  # Message.facts marker: this message's links are recorded
UNWRAPPED = "links_unwrapped"  # Message.facts: each wrapped link's original beside its target
PENDING = "pending"
SKIPPED = "skipped"
REVIEW_KIND = "download_by_hand"
BATCH = 200

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class HarvestReport:
    messages: int = 0  # messages whose links were recorded this run
    found: int = 0  # new link rows
    fetched: int = 0
    needs_login: int = 0
    refused: int = 0
    too_large: int = 0
    failed: int = 0
    retry_later: int = 0


@dataclass(frozen=True)
class FoundLink:
    link: Unwrapped
    attachment_id: int | None


def links_of(message: Message) -> list[FoundLink]:
    """The message's links: those in its attachments' text first (so the row names the letter), then the body's."""
    out: list[FoundLink] = []
    for attachment in sorted(message.attachments, key=lambda a: a.id):
        for url in find_links(attachment.text or ""):
            out.append(FoundLink(unwrap(url), attachment.id))
    for url in (message.facts or {}).get("links") or []:
        out.append(FoundLink(unwrap(str(url)), None))
    return out


def initial_state(link: Unwrapped, kind: str, settings: LinksSettings) -> tuple[str, str | None]:
    """pending when the fetch job may try it; skipped (with why) when it never will."""
    if kind in NEVER_FETCHED:
        return SKIPPED, f"{kind} links are recorded, never fetched"
    try:
        host = parse(link.url).host
    except BadUrl as exc:
        return SKIPPED, str(exc)
    if not host_matches(host, settings.allow_hosts):
        if link.wrapped:
            return SKIPPED, f"wrapped by {link.wrappers[-1]}: the target cannot be read offline"
        return SKIPPED, f"host {host} is not on [links] allow_hosts"
    return PENDING, None


def record_links(session: Session, message: Message, rules: LinkRules, settings: LinksSettings) -> int:
    """FetchedFile rows for the message's links not yet recorded; returns how many were added."""
    existing = set(session.scalars(select(FetchedFile.url_sha256).where(FetchedFile.message_row_id == message.id)))
    added = 0
    unwrapped: list[dict[str, Any]] = []
    for found in links_of(message):
        link = found.link
        digest = url_sha256(link.url)
        if link.wrappers:
            unwrapped.append({"original": link.original, "url": link.url, "wrappers": list(link.wrappers)})
        if digest in existing:
            continue
        existing.add(digest)
        kind = link_kind(link, rules)
        state, why = initial_state(link, kind, settings)
        try:
            host = parse(link.url).host
        except BadUrl:
            host = ""
        session.add(FetchedFile(
            request_id=message.request_id, message_row_id=message.id, attachment_id=found.attachment_id,
            url=link.url, url_sha256=digest, host=host[:255], link_kind=kind, state=state, error=why,
        ))
        added += 1
    facts = dict(message.facts or {})
    facts[HARVESTED] = True
    if unwrapped:
        facts[UNWRAPPED] = unwrapped
    message.facts = facts  # a new dict: the JSON column sees the change
    return added


def _ready(message: Message) -> bool:
    """A reply whose attached letter still waits for OCR is harvested once its text is there."""
    return all(a.method != "ocr_pending" for a in message.attachments)


def collect(sessions: sessionmaker[Session], rules: LinkRules, settings: LinksSettings) -> tuple[int, int]:
    """Record the links of every processed, matched inbound message not yet harvested: (messages, rows)."""
    messages = rows = 0
    with sessions.begin() as session:
        candidates = session.scalars(
            select(Message)
            .where(Message.direction == "in", Message.status == "processed", Message.request_id.is_not(None))
            .order_by(Message.id)
        )
        for message in candidates:
            if (message.facts or {}).get(HARVESTED) or not _ready(message):
                continue
            rows += record_links(session, message, rules, settings)
            messages += 1
    return messages, rows


def fetch_pending(
    sessions: sessionmaker[Session],
    fetcher: Fetcher,
    settings: LinksSettings,
    report: HarvestReport,
    *,
    now: Clock = utcnow,
    limit: int = BATCH,
) -> None:
    """Fetch pending rows one by one; each result is written in its own short transaction."""
    with sessions() as session:
        due = [(r.id, r.url) for r in session.scalars(
            select(FetchedFile).where(FetchedFile.state == PENDING).order_by(FetchedFile.id).limit(limit)
        )]
    for row_id, url in due:
        outcome = fetcher.fetch(url)
        with sessions.begin() as session:
            row = session.get(FetchedFile, row_id)
            if row is None or row.state != PENDING:
                continue
            _apply(session, row, outcome, settings, now())
            retried = row.state == PENDING
        _count(report, outcome, retried=retried)


def _apply(session: Session, row: FetchedFile, outcome: Fetched, settings: LinksSettings, now: dt.datetime) -> None:
    row.attempts = (row.attempts or 0) + 1
    row.error = outcome.error or None
    row.response_headers = dict(outcome.headers)
    row.content_type = outcome.content_type
    row.sniffed_type = outcome.sniffed_type
    if outcome.retry and row.attempts < settings.max_attempts:
        return  # stays pending; the next run tries again
    row.state = outcome.state
    row.fetched_at = now
    if outcome.state == fetching.FETCHED:
        row.sha256, row.stored_path, row.size = outcome.sha256, outcome.stored_path, outcome.size
        row.filename = outcome.filename
    elif outcome.state == fetching.NEEDS_LOGIN:
        session.add(download_by_hand(session, row, outcome))


def download_by_hand(session: Session, row: FetchedFile, outcome: Fetched) -> ReviewItem:
    """The operator opens the link themselves: the item names the request and the host, and holds the link."""
    request = session.get(Request, row.request_id) if row.request_id is not None else None
    reference = request.reference if request is not None else "(no request)"
    where = "a letter attached to the reply" if row.attachment_id is not None else "the reply"
    return ReviewItem(
        kind=REVIEW_KIND,
        request_id=row.request_id,
        message_row_id=row.message_row_id,
        reason=(f"{reference}: the {row.link_kind.replace('_', ' ')} link at {row.host} (in {where}) gave "
                f"{outcome.error or 'no file'}; download the records by hand: {row.url}"),
        suggestions=[{"action": REVIEW_KIND, "fetched_file_id": row.id, "host": row.host}],
    )


def _count(report: HarvestReport, outcome: Fetched, *, retried: bool) -> None:
    if retried:
        report.retry_later += 1
        return
    name = {fetching.FETCHED: "fetched", fetching.NEEDS_LOGIN: "needs_login", fetching.REFUSED: "refused",
            fetching.TOO_LARGE: "too_large"}.get(outcome.state, "failed")
    setattr(report, name, getattr(report, name) + 1)


def make_fetcher(settings: Settings, *, verify: Any = True, policy: AddressPolicy | None = None) -> Fetcher:
    links = settings.links
    return Fetcher(
        FetchLimits.from_settings(links),
        AttachmentStore(settings.attachments.path),
        policy=policy or AddressPolicy(allow_private=links.allow_private_addresses),
        verify=verify,
    )


def harvest_once(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    fetcher: Fetcher | None = None,
    now: Clock = utcnow,
) -> HarvestReport:
    """Record new links, then fetch what is pending (when [links] fetch = true). The daemon's links job."""
    rules = load_link_rules(settings.rules_path)
    report = HarvestReport()
    report.messages, report.found = collect(sessions, rules, settings.links)
    if settings.links.fetch:
        own = fetcher is None
        active = fetcher or make_fetcher(settings)
        try:
            fetch_pending(sessions, active, settings.links, report, now=now)
        finally:
            if own:
                active.close()
    return report
