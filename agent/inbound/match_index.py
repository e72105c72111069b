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


class RequestDirectory:
    """Every request's matching keys, read in one query per poll pass instead of several per message.

    The pass itself changes request states (apply), so process_message reports each request it
    touched through note(); requests created by an operator meanwhile have no replies yet.
    """

    def __init__(self, rows: Iterable[tuple[int, int, str, str, str | None, str | None]]) -> None:
        self.requests: dict[int, RequestInfo] = {}
        self.reply_addresses: dict[str, int] = {}
        self.references: dict[str, int] = {}
        self.message_ids: dict[str, int] = {}
        self.by_agency: dict[int, set[int]] = {}
        for rid, agency_id, reference, state, reply_address, message_id in rows:
            self.requests[rid] = RequestInfo(rid, agency_id, reference, state)
            self.references[reference.upper()] = rid
            self.by_agency.setdefault(agency_id, set()).add(rid)
            if reply_address:
                self.reply_addresses[reply_address.lower()] = rid
            if message_id and normalize_msgid(message_id):
                self.message_ids[normalize_msgid(message_id)] = rid

    @classmethod
    def load(cls, session: Session) -> "RequestDirectory":
        return cls(
            session.execute(
                select(
                    Request.id, Request.agency_id, Request.reference, Request.state, Request.reply_address, Request.message_id
                )
            )
        )

    def note(self, request: Request) -> None:
        self.requests[request.id] = RequestInfo(request.id, request.agency_id, request.reference, request.state)

    def ensure(self, session: Session, ids: Iterable[int]) -> None:
        """Read requests the directory has not seen (created after it was loaded)."""
        missing = sorted(set(ids) - self.requests.keys())
        if missing:
            for rid, agency_id, reference, state in session.execute(
                select(Request.id, Request.agency_id, Request.reference, Request.state).where(Request.id.in_(missing))
            ):
                self.requests[rid] = RequestInfo(rid, agency_id, reference, state)
                self.by_agency.setdefault(agency_id, set()).add(rid)

    def open_for(self, agency_ids: Iterable[int]) -> set[int]:
        return {
            rid
            for aid in agency_ids
            for rid in self.by_agency.get(aid, ())
            if self.requests[rid].state not in CLOSED_STATES
        }


def build_match_index(
    session: Session,
    msg: ParsedMessage,
    *,
    tracking_rules: TrackingRules | None,
    reference_prefix: str,
    agencies: Mapping[int, AgencyInfo] | None = None,
    directory: RequestDirectory | None = None,
) -> MatchIndex:
    agencies = dict(agencies) if agencies is not None else load_agencies(session)
    directory = directory if directory is not None else RequestDirectory.load(session)
    request_ids: set[int] = set()

    reply_addresses: dict[str, int] = {}
    for addr in {a.lower() for a in msg.to_addrs + msg.cc_addrs + msg.delivered_to}:
        rid = directory.reply_addresses.get(addr)
        if rid is not None:
            reply_addresses[addr] = rid
            request_ids.add(rid)

    refs = [normalize_msgid(r) for r in [msg.in_reply_to, *msg.references] if r and normalize_msgid(r)]
    sent_ids = {r: directory.message_ids[r] for r in refs if r in directory.message_ids}
    unknown = [r for r in refs if r not in sent_ids]
    sent_ids.update(_sent_message_ids(session, unknown))
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
    for ref in {m.group(0).upper() for m in reference_regex(reference_prefix).finditer(msg.subject)}:
        rid = directory.references.get(ref)
        if rid is not None:
            references[ref] = rid
            request_ids.add(rid)

    sender_agencies = [a.id for a in agencies.values() if msg.from_addr and a.knows_sender(msg.from_addr)]
    request_ids.update(directory.open_for(sender_agencies))

    directory.ensure(session, request_ids)
    return MatchIndex(
        requests={rid: directory.requests[rid] for rid in request_ids if rid in directory.requests},
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
