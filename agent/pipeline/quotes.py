"""Where quoted earlier mail begins: mail-parser-reply's header detection plus the client styles it misses."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mailparser_reply.parser import EmailMessage

from agent.pipeline.prefilter import Clauses, may_match, required_literals

# mail-parser-reply builds its header regex lazily per message; build it once and reuse the compiled pattern.
_LIBRARY_HEADERS: re.Pattern[str] = EmailMessage(text="", languages=["en"]).HEADER_REGEX
LIBRARY_SCAN_CHARS = 60_000
_HEADER_LINE = re.compile(r"^[> \t*]*(from|sent|to|subject|date|cc|organization)\s*:", re.I | re.M)
_QUOTED_LINE = re.compile(r"^[ \t]*>")


_NEEDS: dict[str, Clauses | None] = {}


def _needs(pattern: re.Pattern[str]) -> Clauses | None:
    if pattern.pattern not in _NEEDS:
        _NEEDS[pattern.pattern] = required_literals(pattern)
    return _NEEDS[pattern.pattern]


def _is_real_header_block(block: str, header_names: Sequence[str]) -> bool:
    """An Outlook block needs a From: line plus Sent/Date/Subject: two 'To:'-ish lines of prose are not quotes."""
    names = {m.group(1).lower() for m in _HEADER_LINE.finditer(block)}
    return "from" in names and any(name in names for name in header_names)


# The library's header regex is slow on long bodies; most replies have no header line at all, so look first.
# `[> \t*]`, not `[>\s*]`: a class with `\s` after `^` runs across blank lines, quadratic on a long blank run.
_MAYBE_QUOTED = re.compile(
    r"^[> \t*]*(?:from|sent|to|subject|date|cc|organization)\s*:|wrote:\s*$|original message", re.I | re.M
)


def quote_start(text: str, markers: Sequence[re.Pattern[str]], header_names: Sequence[str]) -> int | None:
    """Offset where the quoted part starts, or None; a cut that would leave nothing above it is refused."""
    cuts: list[int] = []
    lowered = text.lower()
    # The library's "On ... wrote:" pattern backtracks badly on huge lines: give it a bounded prefix.
    head = text[:LIBRARY_SCAN_CHARS]
    headers = _LIBRARY_HEADERS.finditer(head) if _MAYBE_QUOTED.search(head) else ()
    for match in headers:
        chunk = match.group(0)
        if re.search(r"wrote:\s*$", chunk) or "original message" in chunk.lower():
            cuts.append(match.start())
        elif _is_real_header_block(chunk, header_names):
            cuts.append(match.start())
    for marker in markers:
        if not may_match(_needs(marker), lowered):
            continue
        found = marker.search(text)
        if found:
            cuts.append(found.start())
    # Earliest cut that still leaves something of the agency's own above it.
    for cut in sorted(cuts):
        if text[:cut].strip():
            return cut
    return None


def quoted_line_spans(lines: Sequence[str]) -> list[tuple[int, int]]:
    """Runs of '>'-quoted lines as (first, last+1) line indexes."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for index, line in enumerate(lines):
        if _QUOTED_LINE.match(line):
            if start is None:
                start = index
        elif start is not None and line.strip():
            spans.append((start, index))
            start = None
    if start is not None:
        spans.append((start, len(lines)))
    return spans
