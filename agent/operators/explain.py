"""Why a message went where it went and got its label: the stored evidence, rule hits and facts, in one record."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.db.models import Event, Message, Request, ReviewItem
from agent.operators.clock import as_utc
from agent.operators.timeline import fold_markers


@dataclass(frozen=True)
class Evidence:
    kind: str
    value: str
    weight: float | None
    note: str


@dataclass(frozen=True)
class RuleHit:
    rule: str
    hit: bool
    label: str | None
    weight: float | None
    note: str


@dataclass(frozen=True)
class Explanation:
    id: int
    message_id: str | None
    direction: str
    from_addr: str
    subject: str
    received_at: dt.datetime | None
    status: str
    kind: str | None
    error: str | None
    request: str | None  # our reference
    label: str | None
    confidence: float | None
    evidence: tuple[Evidence, ...]
    rules: tuple[RuleHit, ...]
    facts: dict[str, Any]
    folded: tuple[str, ...]
    review: tuple[str, ...]  # "#3 low_confidence (open): reason"
    events: tuple[str, ...]  # "state_change acknowledged→extended (message)"
    # When each event happened (UTC); shown in the desk's zone. Defaults keep older callers working.
    event_times: tuple[dt.datetime | None, ...] = ()
    sent_date: dt.datetime | None = None  # the message's own Date header, as UTC

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "direction": self.direction,
            "from": self.from_addr,
            "subject": self.subject,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "sent_date": self.sent_date.isoformat() if self.sent_date else None,
            "status": self.status,
            "kind": self.kind,
            "error": self.error,
            "request": self.request,
            "label": self.label,
            "confidence": self.confidence,
            "evidence": [e.__dict__ for e in self.evidence],
            "rules": [r.__dict__ for r in self.rules],
            "facts": self.facts,
            "folded": list(self.folded),
            "review": list(self.review),
            # As before: each line led by its UTC time; "event_times" gives the instants with their offset.
            "events": [f"{t:%Y-%m-%d %H:%M} {line}" if t else line
                       for t, line in zip(self.event_times or (None,) * len(self.events), self.events)],
            "event_times": [t.isoformat() if t else None for t in self.event_times],
        }


def rule_catalog(rules_dir: Path | None) -> dict[str, dict[str, Any]]:
    """id -> the rule's label and weight from rules/classify.toml, to say what each fired rule argued for.

    Only a reading aid: a missing or unreadable file leaves the ids bare (the loader validates rules at start).
    """
    if rules_dir is None:
        return {}
    try:
        data = tomllib.loads((Path(rules_dir) / "classify.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    rules = data.get("rule") if isinstance(data, dict) else None
    return {str(r["id"]): r for r in rules or [] if isinstance(r, dict) and "id" in r}


def explain(session: Session, message: Message, rules_dir: Path | None = None) -> Explanation:
    """Gather what the pipeline recorded about one message; nothing is recomputed, so it shows what really happened."""
    catalog = rule_catalog(rules_dir)
    request = session.get(Request, message.request_id) if message.request_id else None
    # Fold counts are per thread, so explain says the same as `agent thread` does.
    thread = list(session.scalars(select(Message).where(Message.request_id == request.id))) if request else [message]
    folded = dict(zip((m.id for m in thread), fold_markers(thread))).get(message.id, ())
    refs = _references(session, message.match_evidence or [])
    reviews = session.scalars(
        select(ReviewItem).where(ReviewItem.message_row_id == message.id).order_by(ReviewItem.id)
    ).all()
    events = session.scalars(select(Event).where(Event.message_row_id == message.id).order_by(Event.id)).all()
    return Explanation(
        id=message.id,
        message_id=message.message_id,
        direction=message.direction,
        from_addr=message.from_addr or "",
        subject=message.subject or "",
        received_at=as_utc(message.received_at),
        status=message.status,
        kind=message.kind,
        error=message.error,
        request=request.reference if request else None,
        label=message.label,
        confidence=message.confidence,
        evidence=tuple(_evidence(e, refs) for e in message.match_evidence or []),
        rules=tuple(_rule(r, catalog) for r in message.rule_hits or []),
        facts=dict(message.facts or {}),
        folded=folded,
        review=tuple(f"#{r.id} {r.kind} ({r.state}): {r.reason}".rstrip(": ") for r in reviews),
        events=tuple(_event_line(e) for e in events),
        event_times=tuple(as_utc(e.created_at) for e in events),
        sent_date=as_utc(message.sent_date),
    )


def _references(session: Session, evidence: list[Any]) -> dict[int, str]:
    ids = {int(e["request_id"]) for e in evidence if isinstance(e, dict) and isinstance(e.get("request_id"), int)}
    if not ids:
        return {}
    return dict(session.execute(select(Request.id, Request.reference).where(Request.id.in_(ids))).all())


def _evidence(item: Any, refs: dict[int, str]) -> Evidence:
    # The matcher's records are JSON ({kind, request_id, detail}); a request id is shown as our reference.
    if not isinstance(item, dict):
        return Evidence(kind=str(item), value="", weight=None, note="")
    if "request_id" in item and "value" not in item:
        rid = item.get("request_id")
        item = {**{k: v for k, v in item.items() if k != "request_id"},
                "value": refs.get(rid, f"request {rid}") if rid is not None else "no request"}
    known = {"kind", "type", "value", "weight", "score", "note", "detail", "why"}
    rest = {k: v for k, v in item.items() if k not in known}
    note = str(item.get("note") or item.get("detail") or item.get("why") or "")
    if rest:
        note = (note + " " if note else "") + ", ".join(f"{k}={v}" for k, v in rest.items())
    return Evidence(
        kind=str(item.get("kind") or item.get("type") or "?"),
        value=str(item.get("value") if item.get("value") is not None else ""),
        weight=_float(item.get("weight", item.get("score"))),
        note=note,
    )


def _rule(item: Any, catalog: dict[str, dict[str, Any]]) -> RuleHit:
    if not isinstance(item, dict):
        known = catalog.get(str(item), {})
        note = "cleaning rule" if str(item).startswith("clean.") else str(known.get("matcher") or "")
        return RuleHit(rule=str(item), hit=True, label=known.get("label"), weight=_float(known.get("weight")), note=note)
    return RuleHit(
        rule=str(item.get("rule") or item.get("id") or item.get("name") or "?"),
        hit=bool(item.get("hit", item.get("matched", True))),
        label=item.get("label"),
        weight=_float(item.get("weight", item.get("score"))),
        note=str(item.get("note") or item.get("why") or item.get("match") or item.get("text") or ""),
    )


def _event_line(e: Event) -> str:
    """What happened; the time is kept apart (event_times) so each view shows it in its own zone."""
    change = f" {e.from_state or '∅'}→{e.to_state}" if e.to_state else ""
    who = f" by {e.actor}" if e.actor else ""
    return f"{e.kind}{change} ({e.cause}{who})"


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
