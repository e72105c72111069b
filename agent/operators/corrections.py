"""Operator corrections: each confirm and relabel in review, kept as a labelled example of this deployment.

They stay in the database. The model trains on them when the rules load (daemon start, HUP); the per-agency
template memory reads them once per poll pass; `agent corrections list|export` shows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import CorrectionsSettings
from agent.db.models import Agency, Correction, Message
from agent.pipeline.correction_memory import CorrectedExample, CorrectionMemory, build_memory, template_text

# Folds the classifier reads anyway (see agent.pipeline.understand): they belong to the template.
_READ_ANYWAY = frozenset({"learned_boilerplate"})
# The memory and the model read the newest this many: a deployment's recent decisions describe its agencies.
MAX_EXAMPLES = 5000


@dataclass(frozen=True)
class CorrectionRow:
    """One correction as `agent corrections list` shows it."""

    id: int
    message: int | None
    agency: str | None
    sender_domain: str
    label: str
    previous_label: str | None
    previous_confidence: float | None
    action: str
    operator: str
    created_at: dt.datetime
    text: str
    subject: str | None
    date: dt.date | None
    facts: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message": self.message,
            "agency": self.agency,
            "sender_domain": self.sender_domain,
            "label": self.label,
            "previous_label": self.previous_label,
            "previous_confidence": self.previous_confidence,
            "action": self.action,
            "operator": self.operator,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "text": self.text,
        }

    def as_corpus_line(self) -> dict[str, Any]:
        """The fields of ../shared/corpus (body, label, agency, date, ...), so `agent eval` can read an export."""
        numbers = self.facts.get("tracking_numbers") or []
        was = f"; was {self.previous_label}" if self.previous_label and self.previous_label != self.label else ""
        return {
            "id": f"corr-{self.id}",
            "source": "operator correction",
            "agency": self.agency,
            "date": self.date.isoformat() if self.date else None,
            "subject": self.subject,
            "body": self.text,
            "label": self.label,
            "label_confidence": "high",
            "expected_date": self.facts.get("expected_date"),
            "tracking_number": numbers[0] if numbers else None,
            "notes": f"{self.action} by {self.operator} at {self.created_at.isoformat()}{was}",
        }


def message_text(message: Message) -> str:
    """What the classifier read of a stored message: its cleaned text plus the boilerplate it reads anyway."""
    learned = [
        str(f.get("text", "")) for f in message.folded or [] if isinstance(f, dict) and f.get("reason") in _READ_ANYWAY
    ]
    return template_text(message.cleaned_text, learned)


def sender_domain(message: Message) -> str:
    return (message.from_addr or "").rpartition("@")[2].lower()


def record(
    session: Session,
    message: Message,
    *,
    label: str,
    previous_label: str | None,
    previous_confidence: float | None,
    action: str,
    operator: str,
    agency_id: int | None,
    now: dt.datetime,
) -> Correction:
    """Keep the operator's decision on an inbound message as a labelled example."""
    row = Correction(
        message_row_id=message.id,
        agency_id=agency_id,
        sender_domain=sender_domain(message)[:255],
        text=message_text(message),
        label=label,
        previous_label=previous_label,
        previous_confidence=previous_confidence,
        action=action,
        operator=operator[:200],
        created_at=now,
    )
    session.add(row)
    return row


def list_corrections(
    session: Session, *, agency: str | None = None, label: str | None = None, limit: int | None = None
) -> list[CorrectionRow]:
    """Newest first; agency filters on a part of the agency's name."""
    query = (
        select(Correction, Agency.name, Message.subject, Message.sent_date, Message.facts)
        .outerjoin(Agency, Agency.id == Correction.agency_id)
        .outerjoin(Message, Message.id == Correction.message_row_id)
        .order_by(Correction.id.desc())
    )
    if agency:
        query = query.where(Agency.name.ilike(f"%{agency}%"))
    if label:
        query = query.where(Correction.label == label)
    if limit:
        query = query.limit(limit)
    return [
        CorrectionRow(
            id=c.id,
            message=c.message_row_id,
            agency=name,
            sender_domain=c.sender_domain,
            label=c.label,
            previous_label=c.previous_label,
            previous_confidence=c.previous_confidence,
            action=c.action,
            operator=c.operator,
            created_at=c.created_at,
            text=c.text,
            subject=subject,
            date=sent.date() if sent else None,
            facts=dict(facts or {}),
        )
        for c, name, subject, sent, facts in session.execute(query)
    ]


def _latest_per_message(session: Session) -> list[Correction]:
    """The newest decision per message, oldest first: a message decided twice counts once, as last decided."""
    rows = session.scalars(select(Correction).order_by(Correction.id.desc()).limit(MAX_EXAMPLES))
    seen: set[int] = set()
    out: list[Correction] = []
    for row in rows:
        if row.message_row_id is not None:
            if row.message_row_id in seen:
                continue
            seen.add(row.message_row_id)
        out.append(row)
    return out[::-1]


def training_examples(session: Session) -> list[tuple[str, str]]:
    """(text, label) pairs for load_understand_rules(extra_examples=...)."""
    return [(row.text, row.label) for row in _latest_per_message(session) if row.text.strip()]


def load_training_examples(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    """For the daemon's rule loads. A database not yet upgraded (the demo, tests that build the jobs before
    migrating) has no corrections to learn from, which is no reason to refuse to start."""
    with sessions() as session:
        if not inspect(session.connection()).has_table(Correction.__tablename__):
            return []
        return training_examples(session)


def corrected_examples(session: Session) -> Iterable[CorrectedExample]:
    return [
        CorrectedExample(row.id, row.label, row.text, row.agency_id, row.sender_domain)
        for row in _latest_per_message(session)
    ]


def template_memory(session: Session, settings: CorrectionsSettings) -> CorrectionMemory:
    """The per-agency template memory over this database's corrections."""
    return build_memory(
        corrected_examples(session),
        similarity=settings.template_similarity,
        confidence=settings.template_confidence,
    )
