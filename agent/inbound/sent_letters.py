"""The letters a delivery report may be about: what our outbox (or our Sent folder) shows we really sent."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.config import Settings
from agent.db.models import Message, Outbox
from agent.mail.dsn import SentLetter, bounce_proof
from agent.pipeline.stage_data import ParsedMessage

# An outbox row in these states may have reached the agency's server (uncertain: it may have).
_LEFT = ("sent", "uncertain")


def load_sent_letters(session: Session, message_ids: Iterable[str]) -> dict[str, SentLetter]:
    """Bare, lower-cased Message-ID -> the letter, for those of the ids we sent."""
    bare = sorted({m.strip().strip("<>").strip() for m in message_ids if m and m.strip().strip("<>").strip()})
    if not bare:
        return {}
    forms = bare + [f"<{b}>" for b in bare]
    letters: dict[str, SentLetter] = {}
    for mid, rid, recipients in session.execute(
        select(Outbox.message_id, Outbox.request_id, Outbox.recipients).where(
            Outbox.message_id.in_(forms), Outbox.state.in_(_LEFT)
        )
    ):
        key = str(mid).strip("<>").lower()
        letters[key] = SentLetter(key, rid, frozenset(str(r).lower() for r in recipients or []))
    for mid, rid, recipients in session.execute(
        select(Message.message_id, Message.request_id, Message.to_addrs).where(
            Message.message_id.in_(forms), Message.direction == "out"
        )
    ):
        key = str(mid).strip("<>").lower()
        letters.setdefault(key, SentLetter(key, rid, frozenset(str(r).lower() for r in recipients or [])))
    return letters


def proof_for(session: Session, parsed: ParsedMessage, request_id: int, settings: Settings) -> str:
    """Why this bounce is about a letter of the request that we sent, or "" (then it proposes nothing)."""
    report = parsed.delivery_report
    if report is None:
        return ""
    ids = [report.envelope_id, *report.returned_message_ids]
    letters = load_sent_letters(session, ids)
    hosts = [settings.smtp.host, *settings.smtp.bounce_hosts]
    return bounce_proof(
        report, letters, request_id=request_id, from_addr=parsed.from_addr if parsed.sender_trusted else "", our_hosts=hosts
    )
