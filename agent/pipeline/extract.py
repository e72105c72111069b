"""Pull facts out of a cleaned reply: the promised date, fees and deposits, links, a records-attached flag."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from html import unescape

from dateutil import parser as date_parser

from agent.pipeline.attachment_kinds import counts_as_records
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
    r"(?:close\s+of\s+business|end\s+of\s+(?:the\s+)?day|cob|eod)(?:\s+on)?|"
    # "extended by fourteen (14) days to <date>", "moved to <date>", "scheduled for <date>"
    r"(?:extend\w*|extension|mov(?:e|ed|ing)|postpon\w*|push\w*|chang\w*|reschedul\w*)\b[^.;]{0,50}?\s(?:to|until)|"
    r"scheduled\s+(?:for|on))\s*:?\s*"
    r"(?:(?:next|this|the\s+following)\s+)?(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s*)?$",
    re.I,
)
# A promise: the agency says what it will do. Reported speech about earlier letters is not a new promise.
_PROMISE = re.compile(
    r"\b(?:will|shall|anticipat\w*|expect\w*|estimat\w*|intend\w*|plan\w*|should\s+be|to\s+be|ready|notified|"
    r"extend\w*|due|target|additional|taking|respond|notify|scheduled|should|moved|postponed|rescheduled)\b",
    re.I,
)
_REPORTED = re.compile(
    r"\b(?:indicated|informed|stated|advised|told|said|promised|previously|dated|received\s+on|sent\s+to\s+you|"
    r"(?:was|were|we)\s+sent|(?:was|were|been)\s+provided|provided\s+you|received\s+by)\b",
    re.I,
)
# Deadlines set for the requester ("respond within 30 days", "or we will close it") are not the agency's promise.
_YOURS = re.compile(
    r"\b(?:you|requester)\s+(?:\w+\s+){0,2}(?:have|has|must|may|need|should|can)\b"
    r"(?!\s+(?:expect|anticipate|receive|hear|be\s+(?:notified|contacted|provided|sent)))|\bappeal\b|\bplease\s+respond\b"
    r"|\bwithdrawn\b|\bwhether\s+you\b|\bif\s+(?:we|the\s+\w+)\s+(?:do(?:es)?\s+not|don't)\b"
    r"|\bplease\s+(?:confirm|reply|respond)\b|\bclose\s+(?:your|the|this)\s+request\b|\bwill\s+be\s+(?:closed|withdrawn)\b"
    r"|\bif\s+(?:the\s+|your\s+)?(?:\w+\s+)?(?:is|are)\s+not\s+(?:received|paid)\b",
    re.I,
)
_UNITS = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
          "seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORDS = {word: n for n, word in enumerate(_UNITS, 1)} | _TENS
# "25", "ten", "twenty-five", "fourteen (14)": a written number may carry its figure in brackets, which wins.
_COUNT = (
    r"(?P<n>\d{1,3}|\b(?:" + "|".join(_TENS) + r")(?:[-\s](?:" + "|".join(_UNITS[:9]) + r"))?\b|\b(?:"
    + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b)(?:\s*+\((?P<figure>\d{1,3})\))?"
)
# Each run of spaces is read once (possessive, and every optional word ends in its own spaces): two adjacent
# `\s*` around an optional word split a long run every possible way, which took 39 s on 60 KB of spaces.
_RELATIVE = re.compile(
    _COUNT + r"\s*+(?:(?:additional|more)\s++)?(?:(?P<kind>business|working|calendar)\s*+)?(?P<unit>days?|weeks?)\b",
    re.I,
)
# A sentence ends at . ! ? followed by a space; "$800.00" and "7922.535" stay inside their sentence.
# A count that runs from another day than this letter's ("of receipt", "from the date of your deposit", "after
# payment") says nothing we can place; "from today" or "of this letter" is the letter's own date.
_OTHER_ANCHOR = re.compile(
    r"\s*(?:of|from|after|following|upon|once)\s+(?!(?:the\s+)?(?:date\s+of\s+)?(?:this|today|now)\b)", re.I
)
# "more than thirty (30) days have elapsed since billing": a time already past, not a promise.
_ELAPSED = re.compile(r"\s*(?:have|has|had)\s+(?:already\s+)?(?:elapsed|passed|gone\s+by)|\s*ago\b", re.I)
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
# Dates and counts read per message: a real letter states a few; thousands are a dump or an attack, and each
# date costs a dateutil parse.
MAX_CANDIDATES = 200


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
    """The latest date by which the agency says it will answer or produce, or None.

    Only the agency's own present promises count: not a quoted earlier letter, not a date inside a condition
    ("if we cannot finish by ..."), not a promise that hangs on one ("should more time be needed, ...")."""
    found: list[dt.date] = []
    budget = MAX_CANDIDATES
    for sentence in sentences(_own_words(text)):
        if budget <= 0:
            break
        if not _PROMISE.search(sentence) or _REPORTED.search(sentence) or _CONDITIONAL_PROMISE.match(sentence):
            continue
        stated = False
        for match in _DATE.finditer(sentence):
            budget -= 1
            if budget < 0:
                break
            if not _LEAD.search(sentence[max(0, match.start() - 60) : match.start()]):
                continue
            if _inside_condition(sentence, match.start()):
                continue
            day = _parse_date(match.group("date"), message_date)
            if day is not None and _plausible(day, message_date):
                found.append(day)
                stated = True
        # "extended by fourteen (14) days to March 14": the stated date is the promise; the count runs from a
        # deadline we do not see here, not from the letter.
        if stated or message_date is None or _YOURS.search(sentence):
            continue
        for match in _RELATIVE.finditer(sentence):
            budget -= 1
            if budget < 0:
                break
            # "within 10 days of receipt" counts from a day we may not know; only the message date is safe.
            if _OTHER_ANCHOR.match(sentence, match.end()) or _ELAPSED.match(sentence, match.end()):
                continue
            # "available for the next 30 days" is a window, not a promise.
            if _WINDOW.search(sentence, max(0, match.start() - 60), match.start()) or _inside_condition(sentence, match.start()):
                continue
            n = _count(match)
            if not 0 < n <= 120:
                continue
            if match.group("unit").lower().startswith("week"):
                found.append(message_date + dt.timedelta(weeks=n))
            elif (match.group("kind") or "").lower() in {"business", "working"}:
                found.append(_add_business_days(message_date, n, business_days))
            else:
                found.append(message_date + dt.timedelta(days=n))
    return max(found) if found else None


# A promise that hangs on a condition: "If we cannot ..., we will ...", "Should more time be needed", "Once paid".
_CONDITIONAL_PROMISE = re.compile(
    r"\s*(?:if|should|unless|in\s+the\s+event|in\s+case|once|upon)\b"
    # ... except the courtesy line that conditions nothing: "If you have any questions, ..."
    r"(?!\s+you\s+(?:have|need|require)\s+(?:any\s+)?(?:further\s+|additional\s+|more\s+)?"
    r"(?:questions?|concerns?|assistance|help|information))",
    re.I,
)
_CONDITION = re.compile(r"\b(?:if|unless|whether|in\s+the\s+event|in\s+case)\b", re.I)
# An earlier message quoted below the reply: its promises are history.
_ATTRIBUTION = re.compile(
    r"^\s*(?:on\s.{0,200}\bwrote:|-{2,}\s*original\s+message\s*-{2,}|from:\s.{0,200}\bsent:|_{8,}\s*$)",
    re.I,
)

_INLINE_ATTRIBUTION = re.compile(r"\bOn\s[^.\n]{0,120}\bwrote:")
_FROM_LINE = re.compile(r"\s*from:\s", re.I)
_SENT_LINE = re.compile(r"\s*(?:sent|date):\s", re.I)


def _own_words(text: str) -> str:
    """The text before any quoted history: lines quoted with ">" and everything after "On ... wrote:" go."""
    kept: list[str] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if _ATTRIBUTION.match(line):
            break
        # Outlook's quoted header: "From: ..." then "Sent: ..." (or "Date: ...") on the next line.
        if _FROM_LINE.match(line) and index + 1 < len(lines) and _SENT_LINE.match(lines[index + 1]):
            break
        # An attribution inline ("... thank you. On Feb 3, 2025, Ana wrote: We will ...") ends the reply too.
        inline = _INLINE_ATTRIBUTION.search(line)
        if inline:
            kept.append(line[: inline.start()])
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    return "\n".join(kept)


def _inside_condition(sentence: str, position: int) -> bool:
    """The date sits in an if-clause: a condition word before it, and no comma closing the clause in between."""
    before = sentence[max(0, position - 120) : position]
    last = None
    for last in _CONDITION.finditer(before):
        pass
    return last is not None and "," not in before[last.end() :]


def _count(match: re.Match[str]) -> int:
    figure = match.group("figure")
    if figure:
        return int(figure)
    words = match.group("n").lower()
    if words.isdigit():
        return int(words)
    parts = re.split(r"[-\s]+", words)
    return sum(_NUMBER_WORDS.get(p, 0) for p in parts)


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
    from agent.pipeline.amounts import dollars

    out: list[Fee] = []
    seen: set[tuple[float, str]] = set()
    for sentence in sentences(text):
        lower = sentence.lower()
        if re.search(r"\bno\s+(?:charge|fee|cost)|\bwaived\b", lower):
            continue
        for match in _MONEY.finditer(sentence):
            amount = dollars(match.group("amount"))
            if amount is None:  # not a plausible amount (hundreds of digits): no fee, never Infinity
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


# HTML mail's "click here" links keep their target only in the href, which the readable text drops.
_HREF = re.compile(r"""\bhref\s*=\s*["']?\s*(https?://[^"'\s<>]+)""", re.I)
MAX_HTML_SCANNED = 500_000


def html_links(html: str | None) -> tuple[str, ...]:
    """Targets of the links in an HTML body (entities decoded), in order, each once; a linear scan of a capped prefix."""
    if not html:
        return ()
    out: list[str] = []
    for match in _HREF.finditer(html[:MAX_HTML_SCANNED]):
        url = unescape(match.group(1))
        if url not in out:
            out.append(url)
    return tuple(out)


def records_attached(text: str, attachments: Sequence[AttachmentInfo]) -> bool:
    """Files that are records (not a letter we read), or text that says records are enclosed."""
    if any(counts_as_records(a, _DOCUMENT_TYPES) for a in attachments):
        return True
    return bool(_RECORDS_ATTACHED.search(text))
