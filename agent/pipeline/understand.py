"""Understand one agency reply: clean, classify, extract — the single code path for the daemon and the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.pipeline import amounts, extract, thread_sense
from agent.pipeline.autoapply import (
    CLOSING_LABELS,
    DEFAULT_CLOSING_THRESHOLD,
    DEFAULT_REVIEW_THRESHOLD,
    UNREAD_COVER_NOTE,
    UNREAD_LETTER,
    Thresholds,
    decide,
)
from agent.pipeline.attachment_kinds import letter_unread
from agent.pipeline.classify import ClassifyRules, Decision, Features, classify, load_classify_rules, prepare_text
from agent.pipeline.clean import CleanRules, clean, load_clean_rules
from agent.pipeline.correction_memory import CorrectionMemory, template_text
from agent.pipeline.rules import RulesError
from agent.pipeline.tracking import TrackingRules, find_tracking_numbers, load_tracking_rules
from agent.pipeline.stage_data import ParsedMessage, ThreadContext, Understanding

log = logging.getLogger(__name__)

# Labels whose dates are not promises about the request (an out-of-office return day, a link expiry).
_NO_PROMISE_LABELS = frozenset({"auto_reply", "bounce", "other"})
# Folds the classifier still reads: a notice common to a portal's threads is news the first time in this thread.
_READ_ANYWAY = frozenset({"learned_boilerplate"})
DEFAULT_JURISDICTION = "US"
# We put our reference in brackets at the front of every subject; agencies' replies keep it.
_BRACKETED = re.compile(r"\[[^\]]{1,40}\]")
# A body this short that points at an attachment is a cover note: the answer is in the attachment.
COVER_NOTE_WORDS = 90
COVER_NOTE_CONFIDENCE = 0.55  # at most this sure of a note whose attached letter we could not read
_POINTS_AT_ATTACHMENT = re.compile(
    r"\b(?:attached|attachment|attachments|enclosed|enclosure)\b|\bsee\s+(?:the\s+)?(?:letter|response|pdf)\b", re.I
)
_DOCUMENT_TYPES = ("application/pdf", "application/msword", "application/vnd", "image/")
# Text one message may bring to understanding (body, and attachment text, each): the reply is at the top and
# real replies stay far below this; the rest (quoted history, dumps) stays in the archive. Bounds every
# stage's time on hostile bodies (issue 13: budget 2 s per message).
MAX_TEXT_CHARS = 60_000


@dataclass(frozen=True)
class UnderstandRules:
    clean: CleanRules
    classify: ClassifyRules
    tracking: TrackingRules
    calendar: Any = None  # agent.deadlines.business_days.BusinessCalendar when the statutes are present


def _load_calendar(rules_dir: Path) -> Any:
    try:
        from agent.deadlines.business_days import load_calendar
    except ImportError:  # the deadlines package is optional for understanding: plain weekdays then
        return None
    try:
        return load_calendar(rules_dir / "statutes")
    except Exception as exc:  # the statutes loader has its own error type; report it as a rules error
        raise RulesError(rules_dir / "statutes" / "calendar.toml", "(calendar)", str(exc)) from None


def load_understand_rules(rules_dir: Path, extra_examples: Sequence[tuple[str, str]] = ()) -> UnderstandRules:
    """Load and validate every rules file the understanding stage reads; RulesError names file and key.

    `extra_examples` ((text, label) pairs, e.g. this deployment's operator corrections) train the model too."""
    rules_dir = Path(rules_dir)
    return UnderstandRules(
        clean=load_clean_rules(rules_dir),
        classify=load_classify_rules(rules_dir, extra_examples),
        tracking=load_tracking_rules(rules_dir),
        calendar=_load_calendar(rules_dir),
    )


def understand(
    msg: ParsedMessage,
    context: ThreadContext,
    rules: UnderstandRules,
    *,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    closing_threshold: float = DEFAULT_CLOSING_THRESHOLD,
    corrections: CorrectionMemory | None = None,
) -> Understanding:
    """Never raises: on an internal error the message is labelled other with zero confidence (so it goes to review).

    corrections: the operators' decisions on this deployment's mail; a reply in a template they labelled
    takes their label."""
    try:
        return _understand(msg, context, rules, Thresholds(review_threshold, closing_threshold), corrections)
    except Exception:  # a bug must not stop the inbox; the message lands in review with the full text
        log.exception("understanding failed for %s", msg.message_id)
        return Understanding(label="other", confidence=0.0, rules=("error.understand",), cleaned_text=msg.text or "")


def _cover_note_unread(msg: ParsedMessage, body: str) -> bool:
    """A short note that hands the answer to an attachment we could not read ("please see the attached letter")."""
    if msg.attachment_text.strip() or len(body.split()) > COVER_NOTE_WORDS:
        return False
    if any(letter_unread(a, _DOCUMENT_TYPES) for a in msg.attachments):
        return True
    if msg.attachments and all(a.method for a in msg.attachments):
        return False  # every file was read and none is a letter: the files (records) are the answer
    return _POINTS_AT_ATTACHMENT.search(body) is not None


def _understand(
    msg: ParsedMessage,
    context: ThreadContext,
    rules: UnderstandRules,
    thresholds: Thresholds,
    corrections: CorrectionMemory | None,
) -> Understanding:
    msg = _bounded(msg)
    cleaned = clean(msg.text, context, rules.clean)
    learned = "\n".join(f.text for f in cleaned.folded if f.reason in _READ_ANYWAY)
    body = cleaned.text or learned or cleaned.unquoted
    text = prepare_text(msg.subject, body, learned if cleaned.text else "", msg.attachment_text)
    decision = classify(Features(text=text, kind=msg.kind, attachments=msg.attachments), rules.classify)
    decision = thread_sense.adjust(decision, text, context)
    if corrections is not None and msg.kind == "reply":
        decision = _recall_correction(decision, template_text(cleaned.text, learned) or body, msg, context, corrections)

    # A portal's standard notice folded as learned boilerplate still carries this message's dates and links.
    facts_text = "\n".join(p for p in (body, learned if cleaned.text else "", msg.attachment_text) if p)
    promised: dt.date | None = None
    if decision.label not in _NO_PROMISE_LABELS:
        base = msg.date.date() if msg.date else None
        promised = extract.expected_date(facts_text, base, _business_days(rules, context))
    tracking = _agency_numbers(msg, context, rules)
    fired = decision.rules + cleaned.rules
    if amounts.refused(facts_text):
        fired += (amounts.REFUSED_RULE,)  # a figure too large to be a fee: not stored as one, but said
    if _cover_note_unread(msg, body):
        fired += (UNREAD_COVER_NOTE,)
        if any(a.method and letter_unread(a, _DOCUMENT_TYPES) for a in msg.attachments):
            fired += (UNREAD_LETTER,)  # whatever the note seems to say, a person reads the letter
        if decision.label in CLOSING_LABELS:
            # "Please see the attached" read as an outcome: the outcome is in a letter we could not read (a denial,
            # an installment, a fee?), so this reading is a guess. A note that names its act ("first batch
            # attached", "invoice attached") keeps its confidence.
            decision = dataclasses.replace(decision, confidence=min(decision.confidence, COVER_NOTE_CONFIDENCE))
    if decision.confidence < thresholds.review:
        fired += ("review.low_confidence",)
    elif UNREAD_LETTER not in fired and not decide(Understanding(decision.label, decision.confidence, fired, ""), thresholds).auto:
        fired += ("review.closing",)
    return Understanding(
        label=decision.label,
        confidence=decision.confidence,
        rules=fired,
        cleaned_text=cleaned.text,
        folded=cleaned.folded,
        expected_date=promised,
        tracking_numbers=tracking,
        fees=extract.fees(facts_text),
        links=tuple(dict.fromkeys(extract.links(facts_text) + extract.html_links(msg.html))),
        records_attached=extract.records_attached(facts_text, msg.attachments),
        fingerprints=cleaned.fingerprints,
    )


def _bounded(msg: ParsedMessage) -> ParsedMessage:
    """The message with body and attachment text cut to MAX_TEXT_CHARS (cut at a line break when one is near)."""
    if len(msg.text) <= MAX_TEXT_CHARS and len(msg.attachment_text) <= MAX_TEXT_CHARS:
        return msg
    return dataclasses.replace(msg, text=_head(msg.text), attachment_text=_head(msg.attachment_text))


def _head(text: str) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    cut = text.rfind("\n", MAX_TEXT_CHARS - 2000, MAX_TEXT_CHARS)
    return text[: cut if cut > 0 else MAX_TEXT_CHARS]


def _recall_correction(
    decision: Decision, text: str, msg: ParsedMessage, context: ThreadContext, corrections: CorrectionMemory
) -> Decision:
    """An operator already labelled this agency's template: their label wins, with the confidence to apply it."""
    recall = corrections.recall(text, agency_id=context.agency_id, sender_domain=msg.sender_domain)
    if recall is None:
        return decision
    confidence = max(decision.confidence, corrections.confidence)
    return dataclasses.replace(decision, label=recall.label, confidence=confidence, rules=decision.rules + (recall.rule_id,))


def _agency_numbers(msg: ParsedMessage, context: ThreadContext, rules: UnderstandRules) -> tuple[str, ...]:
    """The agency's tracking numbers; our own reference ("[RA-2025-0007]" in the subject) is not one of them."""
    subject = _BRACKETED.sub(" ", msg.subject)
    text = "\n".join(p for p in (subject, msg.text, msg.attachment_text) if p)
    found = find_tracking_numbers(text, rules.tracking, context.tracking_patterns)
    ours = (context.request_reference or "").upper()
    return tuple(n for n in found if n.upper() != ours)


def _business_days(rules: UnderstandRules, context: ThreadContext) -> extract.BusinessDays | None:
    calendar = rules.calendar
    if calendar is None:
        return None
    jurisdiction = context.jurisdiction or DEFAULT_JURISDICTION
    return lambda start, n: calendar.add_business_days(start, n, jurisdiction)
