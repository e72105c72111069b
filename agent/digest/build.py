"""Gather one week's digest from the database into frozen records; rendering and sending are elsewhere.

Each section reads only what it shows: column rows of the requests the week's messages and review items point at,
the requests whose due date falls near the week (filtered in SQL), counts for the rest. So memory and time follow
what the week holds, not how many requests the database has (a whole Request row carries its letter and JSON).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Unpack

from sqlalchemy import Row, Select, case, func, or_, select
from sqlalchemy.orm import Session, load_only, selectinload

from agent.config import Settings
from agent.db.models import Agency, Attachment, Campaign, Event, FetchedFile, Message, Request, ReviewItem
from agent.digest.sections import (
    CampaignProgress,
    Digest,
    DueSoon,
    LabelGroup,
    Overdue,
    Received,
    Reply,
    ResponseTime,
    Waiting,
)
from agent.operators.clock import as_utc, day_start, local_date
from agent.operators.queries import REVIEW_PRIORITY, effective_due, effective_due_sql
from agent.operators.records import NOT_FROM_AGENCY, attachment_role
from agent.operators.vocab import AGENCY_OWES, CLOSED_STATES, UNFILED_STATES, WAITING_ON_US, waiting_on_agency
from agent.pipeline.answers import ANSWER_LABELS
from agent.pipeline.items import letter_items
from agent.pipeline.stage_data import LABELS

ANSWER_SET_EVENT = "answer_set"  # agent.filing.answers.SET_EVENT: an operator's correction of one answer

# Mail that is not the agency answering: it never counts towards a response time.
NOT_AN_ANSWER = frozenset({"auto_reply", "bounce"})
# Ids per IN (...) list: well under SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 500
BUCKETS = ("done", "waiting", "overdue", "needs_us", "not_filed")
WEEK = dt.timedelta(days=7)
# Overdue-before-this-week requests named in the digest, oldest first; a long tail is "and N more".
OVERDUE_NAMED = 10
DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """The columns of a request the digest shows or decides by (the field order is _facts_query's column order)."""

    id: int
    reference: str
    state: str
    agency_id: int
    agency: str  # the agency's name
    campaign_id: int | None
    due_date: dt.date | None
    extended_due: dt.date | None
    promised_date: dt.date | None
    filed_at: dt.datetime | None


def build_digest(session: Session, *, since: dt.date, until: dt.date, settings: Settings) -> Digest:
    """The week [since, until) in the operators' time zone; sections with nothing in them stay empty."""
    if until <= since:
        raise ValueError(f"the digest window is empty: since {since} is not before until {until}")
    zone = settings.schedule.timezone
    start, end = day_start(since, zone), day_start(until, zone)
    week_msgs = _week_messages(session, start, end)
    items = _review_items(session, end)
    by_id = _facts_by_id(session, [m.request_id for m in week_msgs if m.request_id]
                         + [i.request_id for i in items if i.request_id])
    near = _due_near(session, since, until)
    return Digest(
        since=since,
        until=until,
        replies=_replies(week_msgs, by_id, zone),
        became_overdue=_became_overdue(near, since, until),
        still_overdue=_count_still_overdue(session, since),
        long_overdue=_oldest_overdue(session, since, until),
        due_soon=_due_soon(near, until),
        waiting=_waiting(items, by_id, until, zone),
        received=_received(session, week_msgs, by_id, start, end, zone),
        campaigns=_campaigns(session, week_msgs, by_id, start, end, until),
        response_times=_response_times(session, week_msgs, by_id, end),
        zone=zone,
    )


def arrived(m: Message) -> dt.datetime:
    """When the agency's mail came: its Date header, unless missing or later than our own receipt (a wrong clock)."""
    return _arrival(m.sent_date, m.received_at)


def _arrival(sent_date: dt.datetime | None, received_at: dt.datetime | None) -> dt.datetime:
    # Columns in, so response times can use it on bare rows without loading messages.
    received = as_utc(received_at) or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    sent = as_utc(sent_date)
    if sent is not None and sent <= received + DAY:
        return sent
    return received


def _chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    """Distinct ids in sorted slices, so an IN list never outgrows the database's parameter limit."""
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), size):
        yield ordered[i:i + size]


def _facts_query() -> Select[Unpack[tuple[Any, ...]]]:
    return select(
        Request.id, Request.reference, Request.state, Request.agency_id, Agency.name, Request.campaign_id,
        Request.due_date, Request.extended_due, Request.promised_date, Request.filed_at,
    ).join(Agency, Agency.id == Request.agency_id)


def _facts(session: Session, stmt: Select[Unpack[tuple[Any, ...]]]) -> list[RequestFacts]:
    return [RequestFacts(*row) for row in session.execute(stmt)]


def _facts_by_id(session: Session, ids: Iterable[int]) -> dict[int, RequestFacts]:
    """The requests the week's messages and review items name, and only those."""
    out: dict[int, RequestFacts] = {}
    for chunk in _chunks(ids):
        out.update((f.id, f) for f in _facts(session, _facts_query().where(Request.id.in_(chunk))))
    return out


def _week_messages(session: Session, start: dt.datetime, end: dt.datetime) -> list[Message]:
    """Inbound mail that arrived in [start, end), oldest first; without the text and JSON the digest never shows."""
    # Either timestamp in the window, then the message's own arrival time decides (see arrived()).
    candidates = session.scalars(
        select(Message)
        .where(
            Message.direction == "in",
            or_(
                (Message.received_at >= start) & (Message.received_at < end),
                (Message.sent_date >= start) & (Message.sent_date < end),
            ),
        )
        .options(
            load_only(Message.request_id, Message.label, Message.kind, Message.subject, Message.from_addr,
                      Message.sent_date, Message.received_at, Message.confidence, Message.facts),
            selectinload(Message.attachments).load_only(Attachment.message_row_id, Attachment.filename,
                                                        Attachment.size, Attachment.method),
        )
    ).all()
    return sorted((m for m in candidates if start <= arrived(m) < end), key=lambda m: (arrived(m), m.id))


def _review_items(session: Session, end: dt.datetime) -> Sequence[Row[Unpack[tuple[Any, ...]]]]:
    # Still undecided now and already there when the week ended (a past week's digest stays about that week).
    return session.execute(
        select(ReviewItem.id, ReviewItem.kind, ReviewItem.request_id, ReviewItem.reason, ReviewItem.created_at)
        .where(ReviewItem.state.in_(["open", "skipped"]), ReviewItem.created_at < end)
    ).all()


def _agency_of(request: RequestFacts | None, message: Message | None = None) -> str:
    if request is not None:
        return request.agency
    return (message.from_addr or "unknown sender") if message is not None else "unknown"


def _replies(msgs: list[Message], by_id: dict[int, RequestFacts], zone: str) -> tuple[LabelGroup, ...]:
    groups: dict[str, list[Reply]] = defaultdict(list)
    for m in msgs:
        req = by_id.get(m.request_id) if m.request_id else None
        label = m.label or ("unmatched" if req is None else "unlabelled")
        groups[label].append(
            Reply(
                reference=req.reference if req else None,
                agency=_agency_of(req, m),
                received=local_date(arrived(m), zone) or dt.date.min,
                subject=m.subject or "",
                confidence=m.confidence,
            )
        )
    order = {label: i for i, label in enumerate(LABELS)}
    return tuple(LabelGroup(k, tuple(v)) for k, v in sorted(groups.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))


def _due_near(session: Session, since: dt.date, until: dt.date) -> list[RequestFacts]:
    """Requests the agency owes whose effective due could make them newly overdue this week or due in the next.

    Each digest reports a request as newly overdue once: when its first overdue day (the day after the due
    date) falls after the previous digest's day (`since`) and no later than this digest's day (`until`). So
    the due dates that matter start at `since`; "due soon" ends before until + 7 days. Earlier ones are counted.
    """
    due = effective_due_sql()
    return _facts(session, _facts_query().where(
        Request.state.in_(sorted(AGENCY_OWES)), due >= since, due < until + WEEK))


def _count_still_overdue(session: Session, since: dt.date) -> int:
    """Owed and already overdue when the previous digest went out (due before `since`): a number, not rows."""
    n = session.scalar(
        select(func.count()).select_from(Request)
        .where(Request.state.in_(sorted(AGENCY_OWES)), effective_due_sql() < since)
    )
    return int(n or 0)


def _oldest_overdue(session: Session, since: dt.date, until: dt.date, cap: int = OVERDUE_NAMED) -> tuple[Overdue, ...]:
    """The requests _count_still_overdue counts, oldest due date first, at most `cap` of them (a LIMIT in SQL)."""
    due = effective_due_sql()
    rows = _facts(session, _facts_query()
                  .where(Request.state.in_(sorted(AGENCY_OWES)), due < since)
                  .order_by(due, Request.reference).limit(cap))
    named = []
    for r in rows:
        when = effective_due(r)
        if when is not None:
            named.append(Overdue(r.reference, r.agency, when, (until - when).days, r.state))
    return tuple(named)


def _became_overdue(requests: Iterable[RequestFacts], since: dt.date, until: dt.date) -> tuple[Overdue, ...]:
    """A request becomes overdue the day after its due date; reported in the first digest sent on or after that
    day (one due on the week's last day is overdue on the digest day itself); days over as of the digest day."""
    became: list[Overdue] = []
    for r in requests:
        due = effective_due(r)
        if due is None or not waiting_on_agency(r.state):
            continue
        if since < due + DAY <= until:
            became.append(Overdue(r.reference, r.agency, due, (until - due).days, r.state))
    became.sort(key=lambda o: (-o.days_over, o.reference))
    return tuple(became)


def _due_soon(requests: Iterable[RequestFacts], until: dt.date) -> tuple[DueSoon, ...]:
    horizon = until + WEEK
    out: list[DueSoon] = []
    for r in requests:
        due = effective_due(r)
        if due is None or not waiting_on_agency(r.state) or not until <= due < horizon:
            continue
        basis = "promised" if due == r.promised_date else ("extended" if r.extended_due else "statutory")
        out.append(DueSoon(r.reference, r.agency, due, basis, r.state))
    out.sort(key=lambda d: (d.due, d.reference))
    return tuple(out)


def _waiting(
    items: Iterable[Row[Unpack[tuple[Any, ...]]]], by_id: dict[int, RequestFacts], until: dt.date, zone: str
) -> tuple[Waiting, ...]:
    out = []
    for i in items:
        req = by_id.get(i.request_id) if i.request_id else None
        made = local_date(i.created_at, zone) or until
        out.append(Waiting(i.id, i.kind, req.reference if req else None, i.reason, max(0, (until - made).days)))
    out.sort(key=lambda w: (REVIEW_PRIORITY.get(w.kind, 99), -w.days_waiting, w.item_id))
    return tuple(out)


def _received(
    session: Session, msgs: list[Message], by_id: dict[int, RequestFacts], start: dt.datetime, end: dt.datetime,
    zone: str,
) -> tuple[Received, ...]:
    """Records, not links: each reply's attached records (its letter is in "new replies"; a bounce returns only our
    own mail) and the files fetched this week from links in any reply: under that reply when it came this week,
    else on their own, dated by the fetch."""
    fetched: dict[int, list[Row[Unpack[tuple[Any, ...]]]]] = defaultdict(list)
    for row in _fetched_in_week(session, start, end):
        fetched[row.message_row_id].append(row)
    out: list[Received] = []
    for m in msgs:
        files = tuple((a.filename, int(a.size or 0)) for a in sorted(m.attachments, key=lambda a: a.id)
                      if attachment_role(a.method) == "records" and m.kind not in NOT_FROM_AGENCY)
        got = fetched.pop(m.id, [])
        if not files and not got:
            continue
        req = by_id.get(m.request_id) if m.request_id else None
        out.append(Received(req.reference if req else None, _agency_of(req, m),
                            local_date(arrived(m), zone) or dt.date.min, files, _fetched_files(got)))
    # What is left came from replies of earlier weeks, whose requests the week's rows did not name.
    earlier = _facts_by_id(session, {r[0].request_id for r in fetched.values() if r[0].request_id} - set(by_id))
    for rows in fetched.values():
        req = by_id.get(rows[0].request_id) or earlier.get(rows[0].request_id)
        agency = req.agency if req else (rows[0].from_addr or "unknown sender")
        when = local_date(rows[0].fetched_at, zone) or dt.date.min
        out.append(Received(req.reference if req else None, agency, when, (), _fetched_files(rows)))
    out.sort(key=lambda r: r.received)  # stable: replies keep their arrival order within a day
    return tuple(out)


def _fetched_in_week(session: Session, start: dt.datetime, end: dt.datetime) -> Sequence[Row[Unpack[tuple[Any, ...]]]]:
    """Files fetched in [start, end): bare columns, never the URL (a capability, and not for a mailed digest)."""
    return session.execute(
        select(FetchedFile.message_row_id, FetchedFile.request_id, FetchedFile.filename, FetchedFile.size,
               FetchedFile.host, FetchedFile.fetched_at, Message.from_addr)
        .join(Message, Message.id == FetchedFile.message_row_id)
        .where(FetchedFile.state == "fetched", FetchedFile.fetched_at >= start, FetchedFile.fetched_at < end)
        .order_by(FetchedFile.fetched_at, FetchedFile.id)
    ).all()


def _fetched_files(rows: Iterable[Row[Unpack[tuple[Any, ...]]]]) -> tuple[tuple[str, int, str], ...]:
    return tuple((r.filename or f"file from {r.host}", int(r.size or 0), r.host) for r in rows)


def _campaigns(
    session: Session, msgs: list[Message], by_id: dict[int, RequestFacts], start: dt.datetime, end: dt.datetime,
    until: dt.date,
) -> tuple[CampaignProgress, ...]:
    """Campaigns that moved this week (a reply or an event on one of their requests), with where each stands."""
    replied = (by_id[m.request_id].campaign_id for m in msgs if m.request_id in by_id)
    touched = session.scalars(
        select(Request.campaign_id).join(Event, Event.request_id == Request.id)
        .where(Event.created_at >= start, Event.created_at < end, Request.campaign_id.is_not(None)).distinct()
    )
    active: set[int] = {cid for cid in (*replied, *touched) if cid is not None}
    if not active:
        return ()
    counts = _bucket_counts(session, active, until)
    answered = _new_answers(session, msgs, by_id, start, end)
    names = session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(active)).order_by(Campaign.id))
    return tuple(CampaignProgress(cid, name, **counts[cid], new_answers=answered.get(cid, 0)) for cid, name in names)


def _new_answers(
    session: Session, msgs: list[Message], by_id: dict[int, RequestFacts], start: dt.datetime, end: dt.datetime,
) -> dict[int, int]:
    """Per campaign whose letter asks numbered items: how many of its requests got answers (or a hand
    correction) this week, so the digest can point at `agent campaign answers`."""
    requests: dict[int, set[int]] = defaultdict(set)
    for m in msgs:
        facts = by_id.get(m.request_id) if m.request_id else None
        if facts is not None and facts.campaign_id is not None and m.label in ANSWER_LABELS:
            requests[facts.campaign_id].add(facts.id)
    corrected = session.execute(
        select(Request.campaign_id, Request.id).join(Event, Event.request_id == Request.id)
        .where(Event.kind == ANSWER_SET_EVENT, Event.created_at >= start, Event.created_at < end,
               Request.campaign_id.is_not(None))
    )
    for cid, rid in corrected:
        if cid is not None:
            requests[cid].add(rid)
    out = {}
    for cid, ids in requests.items():
        body = session.scalar(select(Request.body).where(Request.campaign_id == cid).order_by(Request.id).limit(1))
        if letter_items(body or ""):
            out[cid] = len(ids)
    return out


def _bucket_counts(session: Session, campaigns: Iterable[int], until: dt.date) -> dict[int, dict[str, int]]:
    """Per campaign, how many requests sit in each bucket: grouped by state in SQL, with how many are past due."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    past_due = func.sum(case((effective_due_sql() < until, 1), else_=0))
    for chunk in _chunks(campaigns):
        rows = session.execute(
            select(Request.campaign_id, Request.state, func.count(), past_due)
            .where(Request.campaign_id.in_(chunk))
            .group_by(Request.campaign_id, Request.state)
        )
        for cid, state, n, over in rows:
            over = int(over or 0)
            counts[cid][_bucket(state, overdue=True)] += over
            counts[cid][_bucket(state, overdue=False)] += int(n) - over
    return counts


def _bucket(state: str, *, overdue: bool) -> str:
    """Where a request stands in its campaign; `overdue` (effective due before the digest day) matters only while
    the agency owes the answer."""
    if state in CLOSED_STATES:
        return "done"
    if state in UNFILED_STATES:
        return "not_filed"
    if state in WAITING_ON_US or state == "needs_review":
        return "needs_us"
    return "overdue" if overdue else "waiting"


def _response_times(
    session: Session, msgs: list[Message], by_id: dict[int, RequestFacts], end: dt.datetime
) -> tuple[ResponseTime, ...]:
    """Median days from filing to the first real answer, for each agency that answered something this week."""
    agencies = {by_id[m.request_id].agency_id for m in msgs if m.request_id in by_id and _answers(m)}
    if not agencies:
        return ()
    first = _first_answers(session, agencies, end)
    days: dict[int, list[float]] = defaultdict(list)
    unanswered: dict[int, int] = defaultdict(int)
    for chunk in _chunks(agencies):
        filed_rows = session.execute(
            select(Request.id, Request.agency_id, Request.filed_at)
            .where(Request.agency_id.in_(chunk), Request.filed_at.is_not(None))
        )
        for rid, agency_id, filed_at in filed_rows:
            answered_at, filed = as_utc(first.get(rid)), as_utc(filed_at)
            if answered_at is None or filed is None:
                unanswered[agency_id] += 1
            else:
                days[agency_id].append(max(0.0, (answered_at - filed).total_seconds() / 86400))
    names = dict(session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agencies))).all())
    out = [
        ResponseTime(names[a], round(statistics.median(days[a]), 1), len(days[a]), unanswered[a])
        for a in agencies
        if days[a]
    ]
    out.sort(key=lambda t: (-t.median_days, t.agency))
    return tuple(out)


def _first_answers(session: Session, agencies: Iterable[int], end: dt.datetime) -> dict[int, dt.datetime]:
    """Request id -> arrival of its first real answer before `end`, for these agencies' requests (bare columns)."""
    first: dict[int, dt.datetime] = {}
    for chunk in _chunks(agencies):
        rows = session.execute(
            select(Message.request_id, Message.sent_date, Message.received_at)
            .join(Request, Request.id == Message.request_id)
            .where(Message.direction == "in", Request.agency_id.in_(chunk),
                   or_(Message.kind.is_(None), Message.kind.not_in(NOT_AN_ANSWER)),
                   or_(Message.label.is_(None), Message.label.not_in(NOT_AN_ANSWER)))
        )
        for rid, sent_date, received_at in rows:
            when = _arrival(sent_date, received_at)
            if rid is not None and when < end and (rid not in first or when < first[rid]):
                first[rid] = when
    return first


def _answers(m: Message) -> bool:
    return m.kind not in NOT_AN_ANSWER and m.label not in NOT_AN_ANSWER
