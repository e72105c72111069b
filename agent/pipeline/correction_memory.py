"""Per-agency memory of operator corrections: a reply in a template an operator already labelled takes that label.

Agencies answer from a handful of templates; once a person has said what one of them means, the next reply in
the same template (names, dates and numbers changed) should not be guessed again. Templates are compared as
sets of word 3-shingles of the text with numbers, dates and addresses masked (Jaccard similarity).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

SHINGLE = 3
# Fewer shingles than this (a one-line note) says too little to call two messages the same template.
MIN_SHINGLES = 6
DEFAULT_SIMILARITY = 0.8
DEFAULT_CONFIDENCE = 0.95
RULE_PREFIX = "correction.template:"

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
# Each alternative is a bounded run of one character class: linear time on any input.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\S{1,200}@\S{1,200}"), " addr "),
    (re.compile(r"\bhttps?://\S{1,500}"), " link "),
    # A whole date is one token, however it is written: "March 3, 2025", "Mar. 07 2025", "03/11/2025".
    (re.compile(rf"\b(?:{_MONTHS})\b\.?\s{{0,3}}\d{{1,2}}(?:st|nd|rd|th)?,?(?:\s{{0,3}}\d{{4}})?"), " date "),
    (re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b"), " date "),
    (re.compile(rf"\b(?:{_MONTHS})\b\.?"), " month "),
    (re.compile(rf"\b(?:{_DAYS})\b"), " day "),
    (re.compile(r"\b(?:mr|mrs|ms|mx|dr|miss)\b\.?"), " title "),
    (re.compile(r"\d+"), " num "),
)
_WORD = re.compile(r"[a-z]+")
_MASK_WORDS = frozenset({"addr", "link", "date", "month", "day", "title", "num"})


def template_shingles(text: str) -> frozenset[str]:
    """The masked word 3-shingles of a text: what stays the same between two letters of one template."""
    masked = text.lower()
    for pattern, replacement in _MASKS:
        masked = pattern.sub(replacement, masked)
    words: list[str] = []
    for word in _WORD.findall(masked):
        # "ER-2025-1187" and "26-5133" are both one number: a run of one mask is one token.
        if not (words and word == words[-1] and word in _MASK_WORDS):
            words.append(word)
    return frozenset(" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


def template_text(cleaned_text: str | None, learned: str | Iterable[str] = "") -> str:
    """The text a template is compared on: the cleaned text plus the agency's learned boilerplate (once a template
    repeats across threads its paragraphs are folded as boilerplate, but they are still the template)."""
    extra = learned if isinstance(learned, str) else "\n".join(learned)
    return "\n".join(p for p in (cleaned_text or "", extra) if p)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


@dataclass(frozen=True)
class CorrectedExample:
    """One operator decision as the memory needs it; built from the corrections table by the caller."""

    id: int
    label: str
    text: str
    agency_id: int | None
    sender_domain: str


@dataclass(frozen=True)
class Recall:
    """A corrected example this reply repeats: its label wins, and the rule id says which correction."""

    correction_id: int
    label: str
    similarity: float

    @property
    def rule_id(self) -> str:
        return f"{RULE_PREFIX}{self.correction_id}"


@dataclass(frozen=True)
class _Entry:
    example: CorrectedExample
    shingles: frozenset[str]


@dataclass(frozen=True)
class CorrectionMemory:
    """Corrected examples indexed by agency and by sender domain; recall() compares only within one of them."""

    similarity: float = DEFAULT_SIMILARITY
    confidence: float = DEFAULT_CONFIDENCE  # what a recalled label is applied with
    size: int = 0  # examples indexed (those long enough to name a template)
    _by_agency: dict[int, tuple[_Entry, ...]] = field(default_factory=dict)
    _by_domain: dict[str, tuple[_Entry, ...]] = field(default_factory=dict)

    def recall(self, text: str, *, agency_id: int | None, sender_domain: str) -> Recall | None:
        """The most similar corrected example of the same agency (or, when either agency is unknown, the same
        sender domain) at or above the threshold; None when there is none."""
        domain = (sender_domain or "").lower()
        candidates: list[_Entry] = list(self._by_agency.get(agency_id, ())) if agency_id is not None else []
        if domain:
            # A shared domain (a portal, a webmail provider) never carries a correction from one agency to another.
            candidates += [
                e for e in self._by_domain.get(domain, ()) if e.example.agency_id is None or agency_id is None
            ]
        if not candidates:
            return None
        shingles = template_shingles(text)
        if len(shingles) < MIN_SHINGLES:
            return None
        best: tuple[float, int, _Entry] | None = None
        for entry in candidates:
            score = jaccard(shingles, entry.shingles)
            if score >= self.similarity and (best is None or (score, entry.example.id) > best[:2]):
                best = (score, entry.example.id, entry)
        if best is None:
            return None
        example = best[2].example
        return Recall(example.id, example.label, round(best[0], 3))


def build_memory(
    examples: Iterable[CorrectedExample],
    *,
    similarity: float = DEFAULT_SIMILARITY,
    confidence: float = DEFAULT_CONFIDENCE,
) -> CorrectionMemory:
    """Index the examples; later examples of the same text win ties, so the newest decision counts."""
    by_agency: dict[int, list[_Entry]] = {}
    by_domain: dict[str, list[_Entry]] = {}
    size = 0
    for example in examples:
        shingles = template_shingles(example.text)
        if len(shingles) < MIN_SHINGLES:
            continue
        entry = _Entry(example, shingles)
        size += 1
        if example.agency_id is not None:
            by_agency.setdefault(example.agency_id, []).append(entry)
        domain = (example.sender_domain or "").lower()
        if domain:
            by_domain.setdefault(domain, []).append(entry)
    return CorrectionMemory(
        similarity=similarity,
        confidence=confidence,
        size=size,
        _by_agency={k: tuple(v) for k, v in by_agency.items()},
        _by_domain={k: tuple(v) for k, v in by_domain.items()},
    )
