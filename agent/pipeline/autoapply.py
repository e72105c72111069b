"""Whether a reading is applied without a person: the one rule the daemon, `agent classify` and `agent eval` share.

A closing label (records sent, none held, refused) stops follow-ups and lets the agency off the hook, so it
needs more certainty than a progress label, and it never applies by itself when it rests on a cover note
whose attached letter could not be read.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.pipeline.stage_data import Understanding

DEFAULT_REVIEW_THRESHOLD = 0.6
DEFAULT_CLOSING_THRESHOLD = 0.85
CLOSING_LABELS = frozenset({"final_records", "no_records", "denial"})
# Set by understand() when the text points at an attachment whose text we do not have.
UNREAD_COVER_NOTE = "attachment.unread_cover_note"
# Set with it when the attachment was read and failed, waits for OCR or was not OCRed: the letter is surely there.
UNREAD_LETTER = "attachment.letter_unread"


@dataclass(frozen=True)
class Thresholds:
    review: float = DEFAULT_REVIEW_THRESHOLD  # progress labels (acknowledgment, extension, batch, fee, ...)
    closing: float = DEFAULT_CLOSING_THRESHOLD  # final_records, no_records, denial


@dataclass(frozen=True)
class AutoDecision:
    auto: bool
    uncertain: str  # what a person should check; "" when applied automatically


def decide(understanding: Understanding | None, thresholds: Thresholds = Thresholds()) -> AutoDecision:
    """Apply without a person, or say what is uncertain (the text a review item shows)."""
    if understanding is None:
        return AutoDecision(False, "no reading")
    u = understanding
    if UNREAD_LETTER in u.rules:
        return AutoDecision(False, f"{u.label} rests on a cover note; the attached letter could not be read")
    if u.label in CLOSING_LABELS:
        if UNREAD_COVER_NOTE in u.rules:
            return AutoDecision(
                False, f"closing label {u.label} rests on a cover note; the attached letter could not be read"
            )
        if u.confidence < thresholds.closing:
            return AutoDecision(
                False, f"{u.label} ({u.confidence:.2f}) would close the request; below the closing threshold {thresholds.closing:.2f}"
            )
        return AutoDecision(True, "")
    if u.confidence < thresholds.review:
        return AutoDecision(False, f"unsure what the agency said: {u.label} ({u.confidence:.2f})")
    return AutoDecision(True, "")
