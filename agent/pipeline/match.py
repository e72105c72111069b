"""Which request a reply belongs to: weigh the evidence, strongest first, and refuse to guess on a conflict."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from agent.pipeline.tracking import TrackingRules, find_tracking_numbers
from agent.pipeline.stage_data import ParsedMessage

EvidenceKind = Literal["reply_address", "thread", "tracking_number", "reference", "sender"]

# Strength of each kind of evidence; also the score a suggestion gets from it.
WEIGHTS: dict[str, int] = {"reply_address": 100, "thread": 90, "tracking_number": 70, "reference": 60, "sender": 30}
# Evidence strong enough to decide on its own; "sender" decides only when nothing else speaks.
DECISIVE = ("reply_address", "thread", "tracking_number", "reference")
CLOSED_STATES = frozenset({"draft", "completed", "no_records", "rejected", "withdrawn"})


@dataclass(frozen=True)
class AgencyInfo:
    id: int
    name: str
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    tracking_patterns: tuple[str, ...] = ()

    def knows_sender(self, address: str) -> bool:
        """The address is one the agency writes from, or sits in one of its domains (or a subdomain)."""
        address = address.lower()
        if address in self.emails:
            return True
        domain = address.rpartition("@")[2]
        return any(domain == d or domain.endswith("." + d) for d in self.domains)

    @property
    def has_identity(self) -> bool:
        return bool(self.emails or self.domains)


@dataclass(frozen=True)
class RequestInfo:
    id: int
    agency_id: int
    reference: str
    state: str

    @property
    def is_open(self) -> bool:
        return self.state not in CLOSED_STATES


@dataclass(frozen=True)
class MatchIndex:
    """Everything match() may look at, gathered beforehand so match() itself stays pure."""

    requests: Mapping[int, RequestInfo]
    agencies: Mapping[int, AgencyInfo]
    reply_addresses: Mapping[str, int] = field(default_factory=dict)  # lower-cased address -> request id
    sent_message_ids: Mapping[str, int] = field(default_factory=dict)  # normalised Message-ID -> request id
    tracking_numbers: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # upper-cased -> request ids
    references: Mapping[str, int] = field(default_factory=dict)  # upper-cased reference -> request id
    tracking_rules: TrackingRules | None = None
    reference_prefix: str = "RA"
    # Worked out by whoever built the index, when it already had to (None: match() works them out itself).
    found_tracking_numbers: tuple[str, ...] | None = None
    sender_agency_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Evidence:
    kind: str
    request_id: int
    detail: str


@dataclass(frozen=True)
class Suggestion:
    request_id: int
    score: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    request_id: int | None
    evidence: tuple[Evidence, ...]
    reason: str  # how it was decided, or why it is an orphan
    suggestions: tuple[Suggestion, ...] = ()
    spoof_suspect: bool = False
    # Why the matched request's agency does not vouch for the sender ("" when it does): such a message
    # attaches to the thread but changes nothing until a person confirms it.
    sender_unknown: str = ""
    # Tracking numbers seen in the message: learned on the request when the match is trusted.
    tracking_numbers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        return self.request_id is not None

    def evidence_json(self) -> list[dict[str, object]]:
        return [{"kind": e.kind, "request_id": e.request_id, "detail": e.detail} for e in self.evidence]


def reference_regex(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(prefix)}-\d{{4}}-\d{{3,}}\b", re.IGNORECASE)


def normalize_msgid(value: str) -> str:
    return value.strip().strip("<>").strip()


def message_tracking_numbers(msg: ParsedMessage, index: MatchIndex) -> tuple[str, ...]:
    """Tracking numbers in subject and body, leaving out our own references (they look like ids too)."""
    if index.tracking_rules is None:
        return ()
    extra = tuple(p for agency in index.agencies.values() for p in agency.tracking_patterns)
    ours = reference_regex(index.reference_prefix)
    found = find_tracking_numbers(f"{msg.subject}\n{msg.text}", index.tracking_rules, extra)
    return tuple(n for n in found if not ours.fullmatch(n))


def match(msg: ParsedMessage, index: MatchIndex) -> Match:
    """Decide the request for one message, or return an orphan with ranked suggestions."""
    evidence: list[Evidence] = []
    notes: list[str] = []
    spoofed: list[Evidence] = []

    for addr in dict.fromkeys(msg.to_addrs + msg.cc_addrs + msg.delivered_to):
        rid = index.reply_addresses.get(addr.lower())
        if rid is not None:
            evidence.append(Evidence("reply_address", rid, addr))

    for ref in dict.fromkeys(([msg.in_reply_to] if msg.in_reply_to else []) + list(msg.references)):
        rid = index.sent_message_ids.get(normalize_msgid(ref))
        if rid is not None:
            evidence.append(Evidence("thread", rid, ref))

    numbers = index.found_tracking_numbers
    if numbers is None:
        numbers = message_tracking_numbers(msg, index)
    for number in numbers:
        for rid in index.tracking_numbers.get(number.upper(), ()):
            request = index.requests.get(rid)
            agency = index.agencies.get(request.agency_id) if request else None
            item = Evidence("tracking_number", rid, number)
            # A known number from a stranger is how a forged "records attached" mail would look.
            if agency is not None and agency.has_identity and not _vouches(agency, msg):
                spoofed.append(item)
            else:
                evidence.append(item)

    for ref in dict.fromkeys(m.group(0).upper() for m in reference_regex(index.reference_prefix).finditer(msg.subject)):
        rid = index.references.get(ref)
        if rid is not None:
            evidence.append(Evidence("reference", rid, ref))

    # A doubtful From (two headers, an encoded address...) is no evidence at all.
    sender_agencies = (
        []
        if not msg.sender_trusted
        else [index.agencies[a] for a in index.sender_agency_ids if a in index.agencies]
        if index.sender_agency_ids is not None
        else [a for a in index.agencies.values() if a.knows_sender(msg.from_addr)]
    )
    sender_open = sorted(
        r.id for r in index.requests.values() if r.is_open and any(r.agency_id == a.id for a in sender_agencies)
    )
    for rid in sender_open:
        evidence.append(Evidence("sender", rid, msg.from_addr))

    suggestions = _rank(evidence + spoofed)
    decisive = {e.request_id for e in evidence if e.kind in DECISIVE}
    strong = {e.request_id for e in evidence if e.kind in ("reply_address", "thread")}

    if spoofed:
        confirmed = {e.request_id for e in spoofed} & strong
        if confirmed and len(decisive | confirmed) == 1:
            # Our own reply address or thread says it is ours: the sender is someone new at the agency.
            notes.append(f"tracking number from {msg.from_addr or 'unknown sender'}, outside the agency's addresses")
            evidence.extend(e for e in spoofed if e.request_id in confirmed)
        else:
            detail = ", ".join(sorted({e.detail for e in spoofed}))
            return Match(
                None,
                tuple(evidence + spoofed),
                f"possible spoof: tracking number {detail} from {msg.from_addr or 'unknown sender'}, "
                "outside the agency's domains",
                suggestions,
                spoof_suspect=True,
                tracking_numbers=numbers,
            )

    if len(decisive) == 1:
        rid = next(iter(decisive))
        kinds = [e.kind for e in evidence if e.request_id == rid and e.kind in DECISIVE]
        return Match(
            rid, tuple(evidence), f"matched by {kinds[0]}", suggestions, tracking_numbers=numbers, notes=tuple(notes),
            sender_unknown=unknown_sender(msg, index, rid),
        )
    if len(decisive) > 1:
        return Match(
            None,
            tuple(evidence),
            "conflicting evidence: " + ", ".join(f"{e.kind}->{e.request_id}" for e in evidence if e.kind in DECISIVE),
            suggestions,
            tracking_numbers=numbers,
        )
    if len(sender_open) == 1:
        return Match(sender_open[0], tuple(evidence), "matched by sender", suggestions, tracking_numbers=numbers)
    if len(sender_open) > 1:
        reason = f"sender's agency has {len(sender_open)} open requests"
    elif sender_agencies:
        reason = "sender's agency has no open request"
    else:
        reason = "no evidence"
    return Match(None, tuple(evidence), reason, suggestions, tracking_numbers=numbers)


def _vouches(agency: AgencyInfo, msg: ParsedMessage) -> bool:
    return msg.sender_trusted and agency.knows_sender(msg.from_addr)


def unknown_sender(msg: ParsedMessage, index: MatchIndex, request_id: int) -> str:
    """Why the request's agency does not vouch for this sender, or "" when it does.

    Our reply address, our thread or our reference prove only that the writer saw our letter; only the
    agency's own addresses and domains (portals included, when its directory entry lists them) prove who wrote.
    """
    request = index.requests.get(request_id)
    agency = index.agencies.get(request.agency_id) if request is not None else None
    claimed = msg.from_addr or "no address"
    if msg.sender_doubt:
        return f"doubtful sender ({msg.sender_doubt}; From reads {claimed})"
    if agency is None:
        return f"unknown sender {claimed}: the request's agency is not in the directory"
    if not agency.knows_sender(msg.from_addr):
        return f"unknown sender {claimed}: not among {agency.name}'s addresses or domains"
    return ""


def _rank(evidence: list[Evidence]) -> tuple[Suggestion, ...]:
    scores: dict[int, int] = {}
    reasons: dict[int, list[str]] = {}
    for e in evidence:
        scores[e.request_id] = scores.get(e.request_id, 0) + WEIGHTS[e.kind]
        reasons.setdefault(e.request_id, []).append(f"{e.kind}: {e.detail}")
    ranked = sorted(scores, key=lambda rid: (-scores[rid], rid))[:5]
    return tuple(Suggestion(rid, scores[rid], tuple(dict.fromkeys(reasons[rid]))) for rid in ranked)
