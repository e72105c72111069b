"""A small, realistic database for operator tests: four agencies, six requests in different states, one campaign,
messages with labels/folds/facts/attachments, events and open review items. Every date is relative to `today`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from agent.db.models import (
    Agency,
    Attachment,
    Campaign,
    Event,
    Message,
    Request,
    ReviewItem,
    TrackingNumber,
)

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Seeded:
    today: dt.date
    campaign_id: int
    requests: dict[str, int]  # reference -> id
    messages: dict[str, int]  # short name -> id
    reviews: dict[str, int]  # short name -> review item id


@dataclass(frozen=True)
class Shared:
    """A seeded database shared by read-only tests, with a config file pointing at it."""

    config: Path
    seeded: Seeded
    sessions: sessionmaker[Session]


def facts(**given: Any) -> dict[str, Any]:
    """Message.facts in the shape agent.inbound.process writes."""
    base: dict[str, Any] = {"expected_date": None, "tracking_numbers": [], "fees": [], "links": [],
                            "records_attached": False}
    return {**base, **given}


def at(day: dt.date, hour: int = 17) -> dt.datetime:
    # 17:00 UTC is mid-morning in Los Angeles: the same calendar day in both zones.
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def seed(session: Session, today: dt.date) -> Seeded:
    T = today

    def d(n: int) -> dt.date:
        return T + dt.timedelta(days=n)

    bh = Agency(name="Beverly Hills Police Department", jurisdiction="CA", emails=["records@bhpd.example.gov"],
                domains=["bhpd.example.gov"], portal="govqa", tracking_patterns=[r"R\d{6}-\d{6}"])
    dhs = Agency(name="Desert Hot Springs City Clerk", jurisdiction="CA", emails=["clerk@dhs.example.gov"],
                 domains=["dhs.example.gov"])
    fbe = Agency(name="Federal Bureau of Examples", jurisdiction="US", emails=["foia@fbe.example.gov"],
                 domains=["fbe.example.gov"])
    quiet = Agency(name="Town of Quietville", jurisdiction="CA", emails=["clerk@quiet.example.gov"],
                   domains=["quiet.example.gov"])
    session.add_all([bh, dhs, fbe, quiet])
    camp = Campaign(name="Use of force 2025", template="cpra_basic.txt.j2")
    session.add(camp)
    session.flush()

    def req(n: int, agency: Agency, state: str, filed: int, due: int | None, **kw: Any) -> Request:
        r = Request(
            reference=f"RA-2025-{n:04d}", agency_id=agency.id, state=state, jurisdiction=agency.jurisdiction,
            subject=f"Public records request RA-2025-{n:04d}", body=f"Dear records officer,\nplease send ... ({n})\n",
            reply_address=f"records+ra-2025-{n:04d}-ab12@example.org", message_id=f"<ra-{n}@example.org>",
            filed_at=at(d(filed), 16), clock_start=d(filed), due_date=d(due) if due is not None else None, **kw,
        )
        session.add(r)
        session.flush()
        return r

    r1 = req(1, bh, "extended", -20, -10, campaign_id=camp.id, extended_due=d(4), next_action_date=d(5))
    r2 = req(2, dhs, "partial", -30, -20, campaign_id=camp.id, promised_date=d(-5), next_action_date=d(-4))
    # Held for a person, as the apply stage leaves them: a doubtful acknowledgment and a bounce.
    r3 = req(3, fbe, "needs_review", -6, 3, next_action_date=d(4))
    r4 = req(4, quiet, "needs_review", -25, -15, campaign_id=camp.id, next_action_date=d(-14), followups_sent=1,
             flags={"undeliverable": True})
    r5 = req(5, bh, "completed", -60, -50)
    r6 = req(6, dhs, "fee_required", -12, -2)
    session.add_all([
        TrackingNumber(request_id=r1.id, agency_id=bh.id, value="R012345-020525"),
        TrackingNumber(request_id=r1.id, agency_id=bh.id, value="R012399-030525"),
        TrackingNumber(request_id=r2.id, agency_id=dhs.id, value="DHS-2025-17"),
    ])
    # Folds as agent.inbound.process stores them: reason and text only.
    footer = {"reason": "portal_boilerplate",
              "text": "To monitor the progress of your request, log in to the portal.\nRequest R012345-020525"}
    footer2 = {"reason": "portal_boilerplate",
               "text": "To monitor the progress of your request, log in to the portal.\nRequest R012399-030525"}

    msgs: dict[str, Message] = {}

    def msg(name: str, request: Request | None, day: int, *, direction: str = "in", label: str | None = None,
            confidence: float | None = None, status: str = "processed", kind: str | None = "reply",
            sender: str = "", text: str = "", **kw: Any) -> Message:
        when = at(d(day))
        m = Message(
            direction=direction, dedupe_key=f"<{name}@seed>", message_id=f"<{name}@seed>", sha256=name.ljust(64, "0"),
            archive_key=f"key-{name}", size=len(text), request_id=request.id if request else None, status=status,
            subject=f"RE: {request.subject}" if request else "Records request?", from_addr=sender, to_addrs=[],
            sent_date=when, received_at=when, kind=kind, label=label, confidence=confidence, cleaned_text=text,
            processed_at=when, **kw,
        )
        session.add(m)
        session.flush()
        msgs[name] = m
        return m

    msg("r1-out", r1, -20, direction="out", kind="ours", sender="records@example.org", text=r1.body)
    msg("r1-ack", r1, -19, label="acknowledgment", confidence=0.95, sender="records@bhpd.example.gov",
        text="Your request R012345-020525 has been received.", folded=[footer],
        rule_hits=["ack.received"],
        match_evidence=[{"kind": "plus_address", "request_id": r1.id, "detail": r1.reply_address},
                        {"kind": "decision", "request_id": r1.id, "detail": "matched by plus_address"}],
        facts=facts(tracking_numbers=["R012345-020525"]))
    msg("r1-ext", r1, -6, label="extension", confidence=0.9, sender="records@bhpd.example.gov",
        text="We need more time; we will respond on or before the new date.",
        folded=[footer2, {"reason": "repeated_in_thread", "text": "Your request has been received by the department."},
                {"reason": "quoted", "text": "> Dear records officer"}],
        rule_hits=["extension.on_or_before", "date.extract"],
        match_evidence=[{"kind": "tracking_number", "request_id": r1.id, "detail": "R012399-030525"},
                        {"kind": "sender_domain", "request_id": r1.id, "detail": "bhpd.example.gov"},
                        {"kind": "decision", "request_id": r1.id, "detail": "matched by tracking_number"}],
        facts=facts(expected_date=d(4).isoformat(), tracking_numbers=["R012399-030525"]))
    batch = msg("r2-batch", r2, -3, label="batch", confidence=0.88, sender="clerk@dhs.example.gov",
                text="Attached is the first batch of records. More will follow.",
                facts=facts(links=["https://dhs.example.gov/records/123"], records_attached=True))
    session.add_all([
        Attachment(message_row_id=batch.id, sha256="a" * 64, filename="incident_reports.pdf",
                   content_type="application/pdf", size=482_113),
        Attachment(message_row_id=batch.id, sha256="b" * 64, filename="policy_300.pdf",
                   content_type="application/pdf", size=90_500),
    ])
    msg("r2-hold", r2, -27, label="acknowledgment", confidence=0.92, sender="clerk@dhs.example.gov",
        text="We expect to provide records by the promised date.")
    msg("r3-ack", r3, -2, label="acknowledgment", confidence=0.45, status="review", sender="foia@fbe.example.gov",
        text="Thank you for your request; it has been assigned to an analyst.",
        rule_hits=["ack.thank_you"])
    msg("r4-bounce", r4, -4, label="bounce", confidence=1.0, status="review", kind="bounce",
        sender="mailer-daemon@quiet.example.gov", text="550 5.1.1 user unknown")
    msg("r5-final", r5, -40, label="final_records", confidence=0.97, sender="records@bhpd.example.gov",
        text="All responsive records are attached; this closes your request.", folded=[footer])
    msg("r6-fee", r6, -5, label="fee", confidence=0.93, status="review", sender="clerk@dhs.example.gov",
        text="A deposit of $45.00 is required before we proceed.",
        rule_hits=["fee.amount", "fee.words"],
        facts=facts(fees=[{"amount": 45.0, "currency": "USD", "kind": "deposit", "text": "$45.00"}]))
    msg("orphan", None, -1, label="other", confidence=0.3, status="orphan", sender="someone@elsewhere.example.com",
        text="Regarding your request about use of force...")

    def event(r: Request, day: int, kind: str, frm: str | None, to: str | None, cause: str = "message",
              m: str | None = None) -> None:
        session.add(Event(request_id=r.id, message_row_id=msgs[m].id if m else None, kind=kind, from_state=frm,
                          to_state=to, cause=cause, created_at=at(d(day), 18)))

    event(r1, -20, "state_change", "queued", "sent", cause="system")
    event(r1, -19, "state_change", "sent", "acknowledged", m="r1-ack")
    event(r1, -6, "state_change", "acknowledged", "extended", m="r1-ext")
    event(r2, -3, "state_change", "acknowledged", "partial", m="r2-batch")
    event(r3, -2, "state_change", "sent", "needs_review", m="r3-ack")
    event(r4, -4, "state_change", "sent", "needs_review", m="r4-bounce")
    event(r6, -5, "state_change", "sent", "fee_required", m="r6-fee")

    reviews = {
        "low": ReviewItem(kind="low_confidence", request_id=r3.id, message_row_id=msgs["r3-ack"].id,
                          reason="confidence 0.45 below 0.60", created_at=at(d(-2), 18)),
        "fee": ReviewItem(kind="fee", request_id=r6.id, message_row_id=msgs["r6-fee"].id,
                          reason="deposit of $45.00 requested", created_at=at(d(-5), 18)),
        "orphan": ReviewItem(kind="orphan", message_row_id=msgs["orphan"].id, reason="no evidence matched",
                             suggestions=[{"request_id": r3.id, "score": 40, "reasons": ["same subject words"]},
                                          {"request_id": r1.id, "score": 20, "reasons": ["sender domain"]}],
                             created_at=at(d(-1), 18)),
        "bounce": ReviewItem(kind="bounce", request_id=r4.id, message_row_id=msgs["r4-bounce"].id,
                             reason="550 user unknown", created_at=at(d(-4), 18)),
    }
    session.add_all(reviews.values())
    session.flush()
    return Seeded(
        today=T,
        campaign_id=camp.id,
        requests={r.reference: r.id for r in (r1, r2, r3, r4, r5, r6)},
        messages={k: v.id for k, v in msgs.items()},
        reviews={k: v.id for k, v in reviews.items()},
    )
