"""An answer as written -> the value a spreadsheet wants: agency names as a list, "Seven" as 7, "Not Accessible"
as not available, "2019: 1,234; 2020: 987" as a figure per year, yes/no.

The question decides what to look for (a "names of agencies" item wants names, a "number of hits" item a
number); an answer with no such value keeps only its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

AGENCIES, NUMBER, BY_YEAR, NOT_AVAILABLE, YES_NO, TEXT = "agencies", "number", "by_year", "not_available", "yes_no", "text"

_NOT_AVAILABLE = re.compile(
    r"\b(?:n/a|none|not\s+(?:accessible|available|applicable|known|tracked|kept|maintained|recorded|retained)"
    r"|unknown|unavailable|inaccessible|no\s+(?:such\s+)?(?:data|records?|information|responsive\s+records?)"
    r"|unable\s+to\s+(?:access|locate|obtain|retrieve|provide)|(?:does|do)\s+not\s+(?:track|keep|maintain|collect|retain|have\s+access)|no\s+access)\b",
    re.IGNORECASE,
)
_NOT_AVAILABLE_WHOLE = re.compile(r"^\W*(?:n/?a|none|nil|unknown|-+|—)\W*$", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|no|none|never|neither)\b|n't\b", re.IGNORECASE)
_ASKS_NAMES = re.compile(r"\b(?:names?|list|which|whom)\b.*\b(?:agenc|organi[sz]ation|entit|department|jurisdiction)", re.IGNORECASE)
_ASKS_NUMBER = re.compile(r"\b(?:number|how\s+many|total|count|aggregate|amount)\b", re.IGNORECASE)
_ASKS_YES_NO = re.compile(r"^\s*(?:does|do|did|is|are|has|have|was|were|can|will)\b", re.IGNORECASE)
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
_YEAR = r"(?:19|20)\d{2}"
_FIGURE = r"\d{1,3}(?:,\d{3})+|\d+"
_YEAR_FIRST = re.compile(rf"\b(?P<year>{_YEAR})\s*(?:[:=–—-]|\bwas\b|\bwere\b|\))\s*(?P<n>{_FIGURE})\b")
_YEAR_AFTER = re.compile(rf"\b(?P<n>{_FIGURE})\b(?:\s+[A-Za-z“”\"']+){{0,3}}?\s+(?:in|during|for)\s+(?P<year>{_YEAR})\b")
_DIGITS = re.compile(rf"(?<![\w.,])(?:{_FIGURE})(?![\w,]|\.\d)")
_ORG = re.compile(
    r"\b(?:department|police|sheriff|sheriff's|office|agency|bureau|justice|patrol|county|city|authority|commission"
    r"|division|district|task\s+force|center|centre|service|services|administration|marshal|university|college"
    r"|dept|pd|so|doj|fbi|dhs|ice|cbp|dea|atf|chp|hsi|ncric|jric)\b",
    re.IGNORECASE,
)
_NAME_RUN = re.compile(
    r"(?:[A-Z][\w'’.&-]*)(?:\s+(?:(?:of|the|and|for|on|de|del|&)\s+)*[A-Z][\w'’.&-]*)*"
)
_GENERIC = frozenset({"the", "city", "county", "agency", "department", "office", "state", "police", "sheriff"})
_SMALL_WORDS = frozenset({"of", "the", "and", "for", "on", "de", "del", "&", "los", "la", "el"})

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i > 1}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_WORD = "(?:" + "|".join([*_UNITS, *_TENS, *_SCALES]) + r")\b"
_NUMBER_WORDS = re.compile(rf"\b{_WORD}(?:[\s-]+(?:and[\s-]+)?{_WORD})*", re.IGNORECASE)


@dataclass(frozen=True)
class Value:
    kind: str  # agencies | number | by_year | not_available | yes_no | text
    data: Any = None  # list[str] | int | dict[int, int] | bool | None

    def as_text(self) -> str:
        """The value in one CSV cell; "" for an answer whose only value is its text."""
        if self.kind == AGENCIES:
            return "; ".join(self.data)
        if self.kind == BY_YEAR:
            return "; ".join(f"{year}: {n}" for year, n in sorted(self.data.items()))
        if self.kind == NOT_AVAILABLE:
            return "not available"
        if self.kind == YES_NO:
            return "yes" if self.data else "no"
        if self.kind == NUMBER:
            return str(self.data)
        return ""

    def as_json(self) -> Any:
        if self.kind == BY_YEAR:
            return {str(year): n for year, n in sorted(self.data.items())}
        return None if self.kind == NOT_AVAILABLE else self.data


def normalise(answer: str, question: str = "") -> Value:
    """The value of one answer to one question; TEXT when nothing in it is a value the question asks for."""
    text = " ".join(answer.split())
    if not text:
        return Value(TEXT)
    if _NOT_AVAILABLE_WHOLE.match(text):
        return Value(NOT_AVAILABLE)
    wants_names = bool(_ASKS_NAMES.search(question))
    names = agency_names(text) if wants_names or not _ASKS_NUMBER.search(question) else []
    if names and (wants_names or len(names) > 1 or names[0] == text.rstrip(".")):
        return Value(AGENCIES, names)
    if _NOT_AVAILABLE.search(text) and not _has_figure(text):
        return Value(NOT_AVAILABLE)
    if wants_names:
        # "The City does not receive ALPR data from other agencies": nobody. A count of agencies is no list.
        return Value(AGENCIES, []) if _NEGATION.search(text) else Value(TEXT)
    yes_no = _YES_NO.match(text)
    if yes_no and (_ASKS_YES_NO.search(question) or len(text.split()) <= 3):
        return Value(YES_NO, yes_no.group(1).lower() == "yes")
    per_year = by_year(text)
    if len(per_year) > 1:
        return Value(BY_YEAR, per_year)
    if per_year:
        return Value(NUMBER, next(iter(per_year.values())))
    figure = single_number(text, question)
    if figure is not None:
        return Value(NUMBER, figure)
    return Value(TEXT)


def agency_names(text: str) -> list[str]:
    """Names of bodies in an answer: a list split at commas, semicolons, lines and "and", or names inside prose."""
    pieces = [p.strip(" \t.•*-–—:") for p in re.split(r"\s*(?:;|\n|,(?:\s*and\b)?|•|\band\b(?=\s+(?:the\s+)?[A-Z]))\s*", text)]
    pieces = [re.sub(r"^(?:and|the)\s+", "", p, flags=re.I) for p in pieces if p]
    if pieces and all(_is_name(p) for p in pieces):
        return list(dict.fromkeys(pieces))
    found = []
    for run in _NAME_RUN.findall(text):
        for name in _split_at_and(re.sub(r"^The\s+", "", run).strip(" .")):
            if _ORG.search(name) and name.casefold() not in _GENERIC and (" " in name or name.isupper()):
                found.append(name)
    return list(dict.fromkeys(found))


def _split_at_and(run: str) -> list[str]:
    """"Los Angeles Police Department and the California Highway Patrol" is two names; "Fish and Wildlife" one."""
    parts = re.split(r"\s+and\s+(?:the\s+)?(?=[A-Z])", run)
    return parts if len(parts) > 1 and all(_ORG.search(p) for p in parts) else [run]


def _is_name(piece: str) -> bool:
    words = piece.split()
    if not words or len(words) > 10 or not piece[0].isupper():
        return False
    capitalised = [w for w in words if w.lower() not in _SMALL_WORDS]
    return bool(capitalised) and all(w[0].isupper() or w[0].isdigit() for w in capitalised) and (
        bool(_ORG.search(piece)) or (piece.isupper() and not _NOT_AVAILABLE_WHOLE.match(piece)))


def _has_figure(text: str) -> bool:
    return bool(_DIGITS.search(text)) and not all(re.fullmatch(_YEAR, m) for m in _DIGITS.findall(text))


def by_year(text: str) -> dict[int, int]:
    """"2019: 1,234 detections; 2020: 987" or "1,234 in 2019 and 987 in 2020" -> {2019: 1234, 2020: 987}."""
    pairs: dict[int, int] = {}
    for pattern in (_YEAR_FIRST, _YEAR_AFTER):
        for match in pattern.finditer(text):
            pairs.setdefault(int(match.group("year")), int(match.group("n").replace(",", "")))
        if pairs:
            break
    return pairs


def single_number(text: str, question: str = "") -> int | None:
    """The one figure in the answer (digits or words), ignoring a year the question itself names; None if 0 or 2+."""
    years = set(re.findall(rf"\b{_YEAR}\b", question))
    digits = [m for m in _DIGITS.findall(text) if m not in years]
    words = [w for w in (m.group(0).strip(" -") for m in _NUMBER_WORDS.finditer(text)) if w]
    figures = [int(d.replace(",", "")) for d in digits] + [n for n in map(number_from_words, words) if n is not None]
    return figures[0] if len(figures) == 1 else None


def number_from_words(words: str) -> int | None:
    """"Seven" -> 7, "twenty-three" -> 23, "one hundred and five" -> 105, "two thousand" -> 2000."""
    total = current = 0
    seen = False
    for word in re.split(r"[\s-]+", words.lower()):
        if word in ("", "and"):
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None
