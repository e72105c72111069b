"""Pull facts out of a cleaned reply: the promised date, fees and deposits, links, a records-attached flag."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from dateutil import parser as date_parser

from agent.pipeline.stage_data import AttachmentInfo, Fee

# Adds n business days to a date; the understanding stage passes the statutes engineer's calendar.
BusinessDays = Callable[[dt.date, int], dt.date]

_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE = re.compile(
    rf"(?P<date>{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d{{2}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+(?:19|20)\d{{2}}"
    r"|\d{1,2}/\d{1,2}/(?:19|20)?\d{2}"
    r"|(?:19|20)\d{2}-\d{2}-\d{2})\b(?![./-]\d)",
    re.I,
)
# Words straight before a date that make it a deadline rather than a reference ("on or before", "by").
_LEAD = re.compile(
    r"(?:on\s+or\s+before|no\s+later\s+than|not\s+later\s+than|\bby|\bbefore|\buntil|\bon|"
    r"(?:estimated|anticipated|expected|target|new|revised|updated)\s+(?:\w+\s+){0,2}date(?:\s+(?:of|is|will\s+be))?(?:\s+now)?|"
    r"due\s+date(?:\s+(?:of|is))?|date\s+of|on\s+or\s+about|around|approximately|"
    r"(?:close\s+of\s+business|end\s+of\s+(?:the\s+)?day|cob|eod)(?:\s+on)?)\s*:?\s*"
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s*)?$",
    re.I,
)
# A promise: the agency says what it will do. Reported speech about earlier letters is not a new promise.
_PROMISE = re.compile(
    r"\b(?:will|shall|anticipat\w*|expect\w*|estimat\w*|intend\w*|plan\w*|should\s+be|to\s+be|ready|notified|"
    r"extend\w*|due|target|additional|taking|respond|notify)\b",
    re.I,
)
_REPORTED = re.compile(
    r"\b(?:indicated|informed|stated|advised|told|said|promised|previously|dated|received\s+on|sent\s+to\s+you|"
    r"(?:was|were|we)\s+sent|(?:was|were|been)\s+provided|provided\s+you|received\s+by)\b",
    re.I,
)
# Deadlines set for the requester ("respond within 30 days", "or we will close it") are not the agency's promise.
_YOURS = re.compile(
    r"\b(?:you|requester)\s+(?:\w+\s+){0,2}(?:have|has|must|may|need|should|can)\b|\bappeal\b|\bplease\s+respond\b"
    r"|\bwithdrawn\b|\bwhether\s+you\b|\bif\s+(?:we|the\s+\w+)\s+(?:do(?:es)?\s+not|don't)\b"
    r"|\bplease\s+(?:confirm|reply|respond)\b|\bclose\s+(?:your|the|this)\s+request\b|\bwill\s+be\s+(?:closed|withdrawn)\b"
    r"|\bif\s+(?:the\s+|your\s+)?(?:\w+\s+)?(?:is|are)\s+not\s+(?:received|paid)\b",
    re.I,
)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30, "forty-five": 45,
    "forty five": 45, "sixty": 60, "ninety": 90,
}
_COUNT = r"(?P<n>\d{1,3}|" + "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True)) + r")"
_RELATIVE = re.compile(
    _COUNT + r"\s*(?:\(\d{1,3}\)\s*)?(?:additional\s+|more\s+)?(?P<kind>business|working|calendar)?\s*(?P<unit>days?|weeks?)\b",
    re.I,
)
# A sentence ends at . ! ? followed by a space; "$800.00" and "7922.535" stay inside their sentence.
_OTHER_ANCHOR = re.compile(
    r"\s*(?:of|from|after|following)\s+(?:the\s+)?(?:receipt|(?:date\s+of\s+)?(?:your|the)\s+(?:request|receipt|original))", re.I
)
_WINDOW = re.compile(r"\b(?:for|expires?\s+in|within)\s+(?:the\s+)?(?:next|following|another)\s+$|\bfor\s+$", re.I)
_SENTENCE = re.compile(r"(?:[^.!?]|[.!?](?!\s|$))+(?:[.!?]+|$)")
_MONEY = re.compile(r"\$\s?(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)")
_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+", re.I)
_RECORDS_ATTACHED = re.compile(
    r"\b(?:attached|enclosed)\b[^.]{0,60}\b(?:records?|documents?|files?|responsive|production|copies|e-?mails?)\b"
    r"|\b(?:records?|documents?|files?|copies)\b[^.]{0,50}\b(?:are|is|have\s+been|has\s+been)\s+(?:attached|enclosed)\b",
    re.I,
)
_DOCUMENT_TYPES = ("application/pdf", "application/zip", "application/vnd", "text/csv", "application/msword")
MAX_AHEAD_DAYS = 3 * 366


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text.replace("\n", " ")) if s.strip()]


def _parse_date(raw: str, base: dt.date | None) -> dt.date | None:
    has_year = re.search(r"(?:19|20)\d{2}|/\d{2}$", raw) is not None
    if base is None and not has_year:
        # "around May 30th" with no message date to place it: any year we picked would be a guess.
        return None
    default = dt.datetime(base.year if base else 2000, 1, 1)
    try:
        parsed = date_parser.parse(raw, default=default, fuzzy=False).date()
    except (ValueError, OverflowError, TypeError):
        return None
    if base is not None and not has_year and parsed < base:
        # "by March 3" written in December means next year.
        parsed = parsed.replace(year=parsed.year + 1)
    return parsed


def _plausible(day: dt.date, base: dt.date | None) -> bool:
    if base is None:
        return day.year >= 1990
    return base - dt.timedelta(days=1) <= day <= base + dt.timedelta(days=MAX_AHEAD_DAYS)


def expected_date(
    text: str, message_date: dt.date | None, business_days: BusinessDays | None = None
) -> dt.date | None:
    """The latest date by which the agency says it will answer or produce, or None."""
    found: list[dt.date] = []
    for sentence in sentences(text):
        if not _PROMISE.search(sentence) or _REPORTED.search(sentence):
            continue
        for match in _DATE.finditer(sentence):
            if not _LEAD.search(sentence[max(0, match.start() - 60) : match.start()]):
                continue
            day = _parse_date(match.group("date"), message_date)
            if day is not None and _plausible(day, message_date):
                found.append(day)
        if message_date is None or _YOURS.search(sentence):
            continue
        for match in _RELATIVE.finditer(sentence):
            # "within 10 days of receipt" counts from a day we may not know; only the message date is safe.
            if _OTHER_ANCHOR.match(sentence, match.end()):
                continue
            # "available for the next 30 days" is a window, not a promise.
            if _WINDOW.search(sentence, 0, match.start()):
                continue
            count = match.group("n").lower()
            n = int(count) if count.isdigit() else _NUMBER_WORDS.get(count, 0)
            if not 0 < n <= 120:
                continue
            if match.group("unit").lower().startswith("week"):
                found.append(message_date + dt.timedelta(weeks=n))
            elif (match.group("kind") or "").lower() in {"business", "working"}:
                found.append(_add_business_days(message_date, n, business_days))
            else:
                found.append(message_date + dt.timedelta(days=n))
    return max(found) if found else None


def _add_business_days(start: dt.date, n: int, business_days: BusinessDays | None) -> dt.date:
    if business_days is not None:
        try:
            return business_days(start, n)
        except (KeyError, ValueError):
            pass  # unknown jurisdiction: fall back to plain weekdays
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def fees(text: str) -> tuple[Fee, ...]:
    """Dollar amounts with what they are: a deposit, an estimate, or a fee."""
    out: list[Fee] = []
    seen: set[tuple[float, str]] = set()
    for sentence in sentences(text):
        lower = sentence.lower()
        if re.search(r"\bno\s+(?:charge|fee|cost)|\bwaived\b", lower):
            continue
        for match in _MONEY.finditer(sentence):
            try:
                amount = float(match.group("amount").replace(",", ""))
            except ValueError:
                continue
            before = lower[max(0, match.start() - 40) : match.start()].rpartition("$")[2]
            kind = "deposit" if "deposit" in before else "estimate" if re.search(r"estimat|approximate|at least|quote", lower) else "fee"
            if (amount, kind) in seen:
                continue
            seen.add((amount, kind))
            out.append(Fee(amount=amount, kind=kind, text=sentence[:300]))  # type: ignore[arg-type]
    return tuple(out)


def links(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?>*")
        if url not in out:
            out.append(url)
    return tuple(out)


def records_attached(text: str, attachments: Sequence[AttachmentInfo]) -> bool:
    if any(a.content_type.startswith(_DOCUMENT_TYPES) for a in attachments):
        return True
    return bool(_RECORDS_ATTACHED.search(text))
