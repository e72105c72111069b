"""Gather from the DB only the rows one message's evidence can point at, so match() stays a pure function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
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
from agent.pipeline.stage_data import ParsedMessage


def load_agencies(session: Session) -> dict[int, AgencyInfo]:
    """All agencies with their addresses; small (hundreds), so one read per poll pass serves every message."""
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


# A busy agency (a federal department) may have thousands of open requests; "sole open request" only
# needs to know there is more than one, and suggestions only show the top few.
SENDER_OPEN_LIMIT = 50


def build_match_index(
    session: Session,
    msg: ParsedMessage,
    *,
    tracking_rules: TrackingRules | None,
    reference_prefix: str,
    agencies: Mapping[int, AgencyInfo] | None = None,
) -> MatchIndex:
    """A few indexed lookups per message, so memory and time do not grow with the number of requests."""
    agencies = dict(agencies) if agencies is not None else load_agencies(session)
    request_ids: set[int] = set()

    addresses = {a.lower() for a in msg.to_addrs + msg.cc_addrs + msg.delivered_to if a}
    reply_addresses: dict[str, int] = {}
    if addresses:
        # Reply addresses are stored lower-cased (make_reply_address), so the unique index serves this.
        for address, rid in session.execute(
            select(Request.reply_address, Request.id).where(Request.reply_address.in_(sorted(addresses)))
        ):
            reply_addresses[str(address).lower()] = rid
            request_ids.add(rid)

    refs = [normalize_msgid(r) for r in [msg.in_reply_to, *msg.references] if r and normalize_msgid(r)]
    sent_ids = _sent_message_ids(session, refs)
    request_ids.update(sent_ids.values())

    probe = MatchIndex(requests={}, agencies=agencies, tracking_rules=tracking_rules, reference_prefix=reference_prefix)
    found = message_tracking_numbers(msg, probe)
    tracking: dict[str, tuple[int, ...]] = {}
    if found:
        # Exact values (as found, and upper-cased) so the index on value is used.
        candidates = sorted(set(found) | {n.upper() for n in found})
        for value, rid in session.execute(
            select(TrackingNumber.value, TrackingNumber.request_id).where(TrackingNumber.value.in_(candidates))
        ):
            key = str(value).upper()
            tracking[key] = tuple(sorted(set(tracking.get(key, ())) | {rid}))
            request_ids.add(rid)

    references: dict[str, int] = {}
    wanted = sorted({m.group(0).upper() for m in reference_regex(reference_prefix).finditer(msg.subject)})
    if wanted:
        for reference, rid in session.execute(select(Request.reference, Request.id).where(Request.reference.in_(wanted))):
            references[str(reference).upper()] = rid
            request_ids.add(rid)

    sender_agencies = sorted(a.id for a in agencies.values() if msg.from_addr and a.knows_sender(msg.from_addr))
    if sender_agencies:
        request_ids.update(
            session.scalars(
                select(Request.id)
                .where(Request.agency_id.in_(sender_agencies), Request.state.not_in(sorted(CLOSED_STATES)))
                .order_by(Request.id.desc())
                .limit(SENDER_OPEN_LIMIT)
            )
        )

    requests = _request_infos(session, request_ids)
    return MatchIndex(
        requests=requests,
        agencies=agencies,
        reply_addresses=reply_addresses,
        sent_message_ids=sent_ids,
        tracking_numbers=tracking,
        references=references,
        tracking_rules=tracking_rules,
        reference_prefix=reference_prefix,
    )


def _request_infos(session: Session, ids: Iterable[int]) -> dict[int, RequestInfo]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Request.id, Request.agency_id, Request.reference, Request.state).where(Request.id.in_(wanted))
    )
    return {rid: RequestInfo(rid, agency_id, reference, state) for rid, agency_id, reference, state in rows}


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
