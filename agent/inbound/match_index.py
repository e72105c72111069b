"""Gather from the DB only the rows one message's evidence can point at, so match() stays a pure function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agent.db.models import Agency, Message, Outbox, Request, TrackingNumber
from agent.mail.freemail import is_free_mail
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
    """All agencies with their addresses; small (hundreds), so one read per poll pass serves every message.

    A free-mail domain in an agency's list is dropped: anyone can write from it (its exact addresses still count).
    """
    rows = session.execute(select(Agency.id, Agency.name, Agency.emails, Agency.domains, Agency.tracking_patterns))
    return {
        aid: AgencyInfo(
            id=aid,
            name=name,
            emails=frozenset(str(e).strip().lower() for e in (emails or [])),
            domains=frozenset(
                d for d in (str(d).strip().lower().lstrip("@").rstrip(".") for d in (domains or [])) if d and not is_free_mail(d)
            ),
            tracking_patterns=tuple(str(p) for p in (patterns or [])),
        )
        for aid, name, emails, domains, patterns in rows
    }


class AgencyBook(dict[int, AgencyInfo]):
    """All agencies by id, plus which of them an address belongs to without scanning them all per message."""

    def __init__(self, agencies: Mapping[int, AgencyInfo]) -> None:
        super().__init__(agencies)
        self._by_email: dict[str, set[int]] = {}
        self._by_domain: dict[str, set[int]] = {}
        for info in agencies.values():
            for email in info.emails:
                self._by_email.setdefault(email, set()).add(info.id)
            for domain in info.domains:
                self._by_domain.setdefault(domain, set()).add(info.id)

    def senders(self, address: str) -> tuple[int, ...]:
        """Agencies that write from this address or from its domain or a parent domain (AgencyInfo.knows_sender)."""
        address = (address or "").lower()
        if not address:
            return ()
        found = set(self._by_email.get(address, ()))
        labels = address.rpartition("@")[2].split(".")
        for i in range(len(labels)):
            found |= self._by_domain.get(".".join(labels[i:]), set())
        return tuple(sorted(found))


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
    book = agencies if isinstance(agencies, AgencyBook) else AgencyBook(agencies if agencies is not None else load_agencies(session))
    requests: dict[int, RequestInfo] = {}
    info = (Request.id, Request.agency_id, Request.reference, Request.state)

    # Our reply addresses and our references: one query on two unique indexes. Reply addresses are stored
    # lower-cased (make_reply_address); references upper-cased.
    addresses = sorted({a.lower() for a in msg.to_addrs + msg.cc_addrs + msg.delivered_to if a})
    wanted = sorted({m.group(0).upper() for m in reference_regex(reference_prefix).finditer(msg.subject)})
    reply_addresses: dict[str, int] = {}
    references: dict[str, int] = {}
    if addresses or wanted:
        for rid, agency_id, reference, state, address in session.execute(
            select(*info, Request.reply_address).where(
                or_(Request.reply_address.in_(addresses), Request.reference.in_(wanted))
            )
        ):
            requests[rid] = RequestInfo(rid, agency_id, reference, state)
            if address and address.lower() in addresses:
                reply_addresses[address.lower()] = rid
            if reference.upper() in wanted:
                references[reference.upper()] = rid

    refs = [normalize_msgid(r) for r in [msg.in_reply_to, *msg.references] if r and normalize_msgid(r)]
    sent_ids = _sent_message_ids(session, refs)

    probe = MatchIndex(requests={}, agencies=book, tracking_rules=tracking_rules, reference_prefix=reference_prefix)
    found = message_tracking_numbers(msg, probe)
    tracking: dict[str, tuple[int, ...]] = {}
    if found:
        # Exact values (as found, and upper-cased) so the index on value is used.
        candidates = sorted(set(found) | {n.upper() for n in found})
        for value, rid, agency_id, reference, state in session.execute(
            select(TrackingNumber.value, *info)
            .join(Request, Request.id == TrackingNumber.request_id)
            .where(TrackingNumber.value.in_(candidates))
        ):
            key = str(value).upper()
            tracking[key] = tuple(sorted(set(tracking.get(key, ())) | {rid}))
            requests[rid] = RequestInfo(rid, agency_id, reference, state)

    senders = book.senders(msg.from_addr) if msg.sender_trusted else ()
    if senders:
        for rid, agency_id, reference, state in session.execute(
            select(*info)
            .where(Request.agency_id.in_(senders), Request.state.not_in(sorted(CLOSED_STATES)))
            .order_by(Request.id.desc())
            .limit(SENDER_OPEN_LIMIT)
        ):
            requests[rid] = RequestInfo(rid, agency_id, reference, state)

    requests.update(_request_infos(session, set(sent_ids.values()) - requests.keys()))
    return MatchIndex(
        requests=requests,
        agencies=book,
        reply_addresses=reply_addresses,
        sent_message_ids=sent_ids,
        tracking_numbers=tracking,
        references=references,
        tracking_rules=tracking_rules,
        reference_prefix=reference_prefix,
        found_tracking_numbers=found,
        sender_agency_ids=senders,
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
            if rid is not None:
                found.setdefault(normalize_msgid(str(mid)), int(rid))
    return found
