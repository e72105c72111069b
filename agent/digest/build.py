"""Gather one week's digest from the database into frozen records; rendering and sending are elsewhere."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from agent.config import Settings
from agent.db.models import Agency, Campaign, Event, Message, Request, ReviewItem
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
from agent.operators.queries import REVIEW_PRIORITY, effective_due
from agent.operators.vocab import CLOSED_STATES, UNFILED_STATES, WAITING_ON_US, waiting_on_agency
from agent.pipeline.stage_data import LABELS

# Mail that is not the agency answering: it never counts towards a response time.
NOT_AN_ANSWER = frozenset({"auto_reply", "bounce"})


def build_digest(session: Session, *, since: dt.date, until: dt.date, settings: Settings) -> Digest:
    """The week [since, until) in the operators' time zone; sections with nothing in them stay empty."""
    if until <= since:
        raise ValueError(f"the digest window is empty: since {since} is not before until {until}")
    zone = settings.schedule.timezone
    start, end = day_start(since, zone), day_start(until, zone)
    requests = session.scalars(
        select(Request).options(selectinload(Request.agency), selectinload(Request.campaign))
    ).all()
    by_id = {r.id: r for r in requests}
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
        .options(selectinload(Message.attachments))
    ).all()
    week_msgs = sorted((m for m in candidates if start <= arrived(m) < end), key=lambda m: (arrived(m), m.id))
    overdue, still = _overdue(requests, since, until)
    return Digest(
        since=since,
        until=until,
        replies=_replies(week_msgs, by_id, zone),
        became_overdue=overdue,
        still_overdue=still,
        due_soon=_due_soon(requests, until),
        waiting=_waiting(session, by_id, end, until, zone),
        received=_received(week_msgs, by_id, zone),
        campaigns=_campaigns(session, requests, week_msgs, start, end, until),
        response_times=_response_times(session, requests, week_msgs, end),
    )


def arrived(m: Message) -> dt.datetime:
    """When the agency's mail came: its Date header, unless missing or later than our own receipt (a wrong clock)."""
    received = as_utc(m.received_at) or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    sent = as_utc(m.sent_date)
    if sent is not None and sent <= received + dt.timedelta(days=1):
        return sent
    return received


def _agency_of(request: Request | None, message: Message | None = None) -> str:
    if request is not None:
        return request.agency.name
    return (message.from_addr or "unknown sender") if message is not None else "unknown"


def _replies(msgs: list[Message], by_id: dict[int, Request], zone: str) -> tuple[LabelGroup, ...]:
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


def _overdue(requests: list[Request], since: dt.date, until: dt.date) -> tuple[tuple[Overdue, ...], int]:
    """A request becomes overdue the day after its due date; count days over as of the digest day."""
    became: list[Overdue] = []
    still = 0
    for r in requests:
        due = effective_due(r)
        if due is None or not waiting_on_agency(r.state) or due >= until:
            continue
        first_overdue_day = due + dt.timedelta(days=1)
        if first_overdue_day < since:
            still += 1
        elif first_overdue_day < until:
            became.append(Overdue(r.reference, r.agency.name, due, (until - due).days, r.state))
    became.sort(key=lambda o: (-o.days_over, o.reference))
    return tuple(became), still


def _due_soon(requests: list[Request], until: dt.date) -> tuple[DueSoon, ...]:
    horizon = until + dt.timedelta(days=7)
    out: list[DueSoon] = []
    for r in requests:
        due = effective_due(r)
        if due is None or not waiting_on_agency(r.state) or not until <= due < horizon:
            continue
        basis = "promised" if due == r.promised_date else ("extended" if r.extended_due else "statutory")
        out.append(DueSoon(r.reference, r.agency.name, due, basis, r.state))
    out.sort(key=lambda d: (d.due, d.reference))
    return tuple(out)


def _waiting(
    session: Session, by_id: dict[int, Request], end: dt.datetime, until: dt.date, zone: str
) -> tuple[Waiting, ...]:
    # Still undecided now and already there when the week ended (a past week's digest stays about that week).
    items = session.scalars(
        select(ReviewItem).where(ReviewItem.state.in_(["open", "skipped"]), ReviewItem.created_at < end)
    ).all()
    out = []
    for i in items:
        req = by_id.get(i.request_id) if i.request_id else None
        made = local_date(i.created_at, zone) or until
        out.append(Waiting(i.id, i.kind, req.reference if req else None, i.reason, max(0, (until - made).days)))
    out.sort(key=lambda w: (REVIEW_PRIORITY.get(w.kind, 99), -w.days_waiting, w.item_id))
    return tuple(out)


def _received(msgs: list[Message], by_id: dict[int, Request], zone: str) -> tuple[Received, ...]:
    out = []
    for m in msgs:
        files = tuple((a.filename, int(a.size or 0)) for a in sorted(m.attachments, key=lambda a: a.id))
        links = tuple(str(link) for link in (m.facts or {}).get("links") or ())
        if not files and not links:
            continue
        req = by_id.get(m.request_id) if m.request_id else None
        out.append(Received(req.reference if req else None, _agency_of(req, m),
                            local_date(arrived(m), zone) or dt.date.min, files, links))
    return tuple(out)


def _campaigns(
    session: Session, requests: list[Request], msgs: list[Message], start: dt.datetime, end: dt.datetime,
    until: dt.date,
) -> tuple[CampaignProgress, ...]:
    """Campaigns that moved this week (a reply or an event on one of their requests), with where each stands."""
    in_campaign = {r.id: r.campaign_id for r in requests if r.campaign_id}
    if not in_campaign:
        return ()
    active = {in_campaign[m.request_id] for m in msgs if m.request_id in in_campaign}
    touched = session.scalars(
        select(Event.request_id).where(Event.created_at >= start, Event.created_at < end,
                                       Event.request_id.in_(list(in_campaign))).distinct()
    ).all()
    active |= {in_campaign[rid] for rid in touched if rid in in_campaign}
    out = []
    for camp in session.scalars(select(Campaign).where(Campaign.id.in_(active)).order_by(Campaign.id)):
        counts = {"done": 0, "waiting": 0, "overdue": 0, "needs_us": 0, "not_filed": 0}
        for r in requests:
            if r.campaign_id == camp.id:
                counts[_bucket(r, until)] += 1
        out.append(CampaignProgress(camp.id, camp.name, **counts))
    return tuple(out)


def _bucket(r: Request, until: dt.date) -> str:
    if r.state in CLOSED_STATES:
        return "done"
    if r.state in UNFILED_STATES:
        return "not_filed"
    if r.state in WAITING_ON_US or r.state == "needs_review":
        return "needs_us"
    due = effective_due(r)
    return "overdue" if due is not None and due < until else "waiting"


def _response_times(
    session: Session, requests: list[Request], msgs: list[Message], end: dt.datetime
) -> tuple[ResponseTime, ...]:
    """Median days from filing to the first real answer, for each agency that answered something this week."""
    agencies = {r.agency_id for r in requests if any(m.request_id == r.id and _answers(m) for m in msgs)}
    if not agencies:
        return ()
    answers = session.scalars(
        select(Message)
        .join(Request, Request.id == Message.request_id)
        .where(Message.direction == "in", Request.agency_id.in_(agencies),
               or_(Message.kind.is_(None), Message.kind.not_in(NOT_AN_ANSWER)),
               or_(Message.label.is_(None), Message.label.not_in(NOT_AN_ANSWER)))
    ).all()
    first: dict[int, dt.datetime] = {}
    for m in answers:
        when = arrived(m)
        if when < end and (m.request_id not in first or when < first[m.request_id]):
            first[m.request_id] = when
    days: dict[int, list[float]] = defaultdict(list)
    unanswered: dict[int, int] = defaultdict(int)
    for r in requests:
        if r.agency_id not in agencies or r.filed_at is None:
            continue
        answered_at, filed = as_utc(first.get(r.id)), as_utc(r.filed_at)
        if answered_at is None or filed is None:
            unanswered[r.agency_id] += 1
        else:
            days[r.agency_id].append(max(0.0, (answered_at - filed).total_seconds() / 86400))
    names = dict(session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agencies))).all())
    out = [
        ResponseTime(names[a], round(statistics.median(days[a]), 1), len(days[a]), unanswered[a])
        for a in agencies
        if days[a]
    ]
    out.sort(key=lambda t: (-t.median_days, t.agency))
    return tuple(out)


def _answers(m: Message) -> bool:
    return m.kind not in NOT_AN_ANSWER and m.label not in NOT_AN_ANSWER
