"""Gather from the DB only the rows one message's evidence can point at, so match() stays a pure function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.db.models import Agency, Message, Outbox, Request, TrackingNumber
from agent.pipeline.match import (
    CLOSED_STATES,
    AgencyInfo,
    MatchIndex,
    RequestInfo,
    message_tracking_numbers,
    normalize_msgid,
    reference_regex,
)
from agent.pipeline.tracking import TrackingRules
from agent.pipeline.types import ParsedMessage


def load_agencies(session: Session) -> dict[int, AgencyInfo]:
    """All agencies with their addresses; small, so one read per poll pass serves every message."""
    rows = session.execute(select(Agency.id, Agency.name, Agency.emails, Agency.domains, Agency.tracking_patterns))
    return {
        aid: AgencyInfo(
            id=aid,
            name=name,
            emails=frozenset(str(e).strip().lower() for e in (emails or [])),
            domains=frozenset(str(d).strip().lower().lstrip("@") for d in (domains or [])),
            tracking_patterns=tuple(str(p) for p in (patterns or [])),
        )
        for aid, name, emails, domains, patterns in rows
    }


def build_match_index(
    session: Session,
    msg: ParsedMessage,
    *,
    tracking_rules: TrackingRules | None,
    reference_prefix: str,
    agencies: Mapping[int, AgencyInfo] | None = None,
) -> MatchIndex:
    agencies = dict(agencies) if agencies is not None else load_agencies(session)
    request_ids: set[int] = set()

    recipients = sorted({a.lower() for a in msg.to_addrs + msg.cc_addrs + msg.delivered_to})
    reply_addresses: dict[str, int] = {}
    if recipients:
        for rid, addr in session.execute(
            select(Request.id, Request.reply_address).where(Request.reply_address.in_(recipients))
        ):
            reply_addresses[str(addr).lower()] = rid
            request_ids.add(rid)

    sent_ids = _sent_message_ids(session, [r for r in [msg.in_reply_to, *msg.references] if r])
    request_ids.update(sent_ids.values())

    probe = MatchIndex(requests={}, agencies=agencies, tracking_rules=tracking_rules, reference_prefix=reference_prefix)
    numbers = [n.upper() for n in message_tracking_numbers(msg, probe)]
    tracking: dict[str, tuple[int, ...]] = {}
    if numbers:
        for value, rid in session.execute(
            select(func.upper(TrackingNumber.value), TrackingNumber.request_id).where(
                func.upper(TrackingNumber.value).in_(numbers)
            )
        ):
            tracking[value] = tuple(sorted(set(tracking.get(value, ())) | {rid}))
            request_ids.add(rid)

    refs = sorted({m.group(0).upper() for m in reference_regex(reference_prefix).finditer(msg.subject)})
    references: dict[str, int] = {}
    if refs:
        for rid, ref in session.execute(select(Request.id, Request.reference).where(func.upper(Request.reference).in_(refs))):
            references[str(ref).upper()] = rid
            request_ids.add(rid)

    sender_agencies = [a.id for a in agencies.values() if msg.from_addr and a.knows_sender(msg.from_addr)]
    if sender_agencies:
        request_ids.update(
            session.scalars(
                select(Request.id).where(Request.agency_id.in_(sender_agencies), Request.state.not_in(CLOSED_STATES))
            )
        )

    return MatchIndex(
        requests=_requests(session, request_ids),
        agencies=agencies,
        reply_addresses=reply_addresses,
        sent_message_ids=sent_ids,
        tracking_numbers=tracking,
        references=references,
        tracking_rules=tracking_rules,
        reference_prefix=reference_prefix,
    )


def _sent_message_ids(session: Session, refs: Iterable[str]) -> dict[str, int]:
    """Message-IDs we sent (on the request, in the outbox, or archived as outgoing) -> their request."""
    bare = sorted({normalize_msgid(r) for r in refs if normalize_msgid(r)})
    if not bare:
        return {}
    forms = bare + [f"<{b}>" for b in bare]
    found: dict[str, int] = {}
    queries = (
        select(Request.message_id, Request.id).where(Request.message_id.in_(forms)),
        select(Outbox.message_id, Outbox.request_id).where(Outbox.message_id.in_(forms), Outbox.request_id.is_not(None)),
        select(Message.message_id, Message.request_id).where(
            Message.message_id.in_(forms), Message.direction == "out", Message.request_id.is_not(None)
        ),
    )
    for query in queries:
        for mid, rid in session.execute(query):
            found.setdefault(normalize_msgid(str(mid)), int(rid))
    return found


def _requests(session: Session, ids: set[int]) -> dict[int, RequestInfo]:
    if not ids:
        return {}
    rows = session.execute(
        select(Request.id, Request.agency_id, Request.reference, Request.state).where(Request.id.in_(sorted(ids)))
    )
    return {rid: RequestInfo(rid, aid, ref, state) for rid, aid, ref, state in rows}

