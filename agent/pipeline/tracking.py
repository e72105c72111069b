"""Agency tracking numbers: generic labelled ids plus per-portal formats, with years and statutes filtered out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from agent.pipeline.prefilter import Clauses, may_match, required_literals
from agent.pipeline.rules import RulesError, compile_pattern, load_toml, require, rule_tables

FILE_NAME = "tracking.toml"

# Shapes that a loose pattern can catch but that are never a request id.
_YEAR = re.compile(r"(?:19|20)\d{2}")
_DATE = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{4}[-/]\d{1,2}[-/]\d{1,2}")
_PHONE = re.compile(r"(?:\d{3}[-.])?\d{3}[-.]\d{4}")
_YEAR_RANGE = re.compile(r"((?:19|20)\d{2})[-/](\d{2}|(?:19|20)\d{2})")
# Legal citations just before the candidate: "Section 7922", "§ 552", "Gov. Code 6253", "49 C.F.R. Part 7".
_CITATION_BEFORE = re.compile(r"(?:§|section|sec\.|code|u\.?s\.?c\.?|c\.?f\.?r\.?|part|chapter|ch\.|title|law|act)\s*\(?$", re.I)
_TRAILING = "-_/. "
# A real reply names a handful of ids; a message with thousands is hostile or a data dump.
MAX_NUMBERS = 25
# Candidates one pattern may yield (before overlaps are settled): bounds the work on 100k repeats.
MAX_CANDIDATES = 500


@dataclass(frozen=True)
class TrackingPattern:
    id: str
    regex: re.Pattern[str]
    strict: bool = False  # only accept long or structured ids (used after bare words like "request")
    prefilter: Clauses | None = None  # words a match needs; most messages skip most patterns


@dataclass(frozen=True)
class TrackingRules:
    patterns: tuple[TrackingPattern, ...]
    min_length: int = 3


def load_tracking_rules(rules_dir: Path) -> TrackingRules:
    """Read and compile rules/tracking.toml; any bad entry raises RulesError naming file and key."""
    path = Path(rules_dir) / FILE_NAME
    data = load_toml(path)
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise RulesError(path, "settings", "must be a table")
    token = require(settings, "token", str, path, "settings")
    compile_pattern(token, path, "settings.token")
    min_length = settings.get("min_length", 3)
    if not isinstance(min_length, int) or isinstance(min_length, bool) or min_length < 1:
        raise RulesError(path, "settings.min_length", "must be a positive integer")
    patterns: list[TrackingPattern] = []
    for section, flags in (("generic", re.IGNORECASE), ("portal", 0)):
        for key, table in rule_tables(data, section, path):
            raw = require(table, "pattern", str, path, key)
            source = raw.replace("{num}", token)
            regex = compile_pattern(source, path, f"{key}.pattern", flags)
            if "num" not in regex.groupindex:
                raise RulesError(path, f"{key}.pattern", "must capture the number in a group named 'num' (or use {num})")
            strict = table.get("strict", False)
            if not isinstance(strict, bool):
                raise RulesError(path, f"{key}.strict", "must be true or false")
            patterns.append(
                TrackingPattern(f"{section}.{table['id']}", regex, strict, required_literals(regex))
            )
    return TrackingRules(patterns=tuple(patterns), min_length=min_length)


@lru_cache(maxsize=256)
def _agency_regex(pattern: str) -> re.Pattern[str] | None:
    # Agency patterns are validated when the agency is saved; one that still fails is skipped, never raised.
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _plausible(value: str, text: str, start: int, end: int, *, strict: bool, min_length: int) -> bool:
    if len(value) < min_length or not any(c.isdigit() for c in value):
        return False
    if _YEAR.fullmatch(value) or _DATE.fullmatch(value) or _PHONE.fullmatch(value):
        return False
    year_range = _YEAR_RANGE.fullmatch(value)
    if year_range:
        # "2021-22" and "2019-2020" are spans of years; "2025-88" is a request number.
        first, second = int(year_range.group(1)), int(year_range.group(2))
        if (len(year_range.group(2)) == 2 and second == (first + 1) % 100) or second in (first, first + 1):
            return False
    after = text[end : end + 2]
    before = text[max(0, start - 12) : start]
    # "7922.535", "6253(b)", "$350.00": statute sections and money are not ids.
    if re.match(r"[.,]\d", after) or after[:1] == "(" and value.isdigit():
        return False
    if before.rstrip().endswith(("$", "§")) or text[max(0, start - 1) : start] in {".", "$"}:
        return False
    if value.isdigit() and _CITATION_BEFORE.search(before):
        return False
    if strict:
        digits = sum(c.isdigit() for c in value)
        structured = any(c in value for c in "-/_") or any(c.isalpha() for c in value)
        if digits < 3 or (not structured and digits < 5):
            return False
    return True


def find_tracking_numbers(
    text: str, rules: TrackingRules, extra_patterns: Sequence[str] = ()
) -> tuple[str, ...]:
    """Every tracking number in the text, in order of first appearance, without duplicates."""
    if not text:
        return ()
    candidates: list[tuple[int, int, str]] = []

    def collect(regex: re.Pattern[str], *, strict: bool, checked: bool) -> None:
        group: str | int = "num" if "num" in regex.groupindex else (1 if regex.groups else 0)
        taken = 0
        for match in regex.finditer(text):
            if taken >= MAX_CANDIDATES:
                break  # the same id repeated thousands of times adds nothing after the first few hundred
            start, end = match.span(group)
            if start < 0:
                continue
            value = match.group(group).rstrip(_TRAILING)
            end = start + len(value)
            if checked and not _plausible(value, text, start, end, strict=strict, min_length=rules.min_length):
                continue
            if value:
                candidates.append((start, end, value))
                taken += 1

    for own_pattern in extra_patterns:
        regex = _agency_regex(own_pattern)
        if regex is not None:
            # The agency's own format is trusted as written.
            collect(regex, strict=False, checked=False)
    lowered = text.lower()
    for pattern in rules.patterns:
        if may_match(pattern.prefilter, lowered):
            collect(pattern.regex, strict=pattern.strict, checked=True)

    return _first_of_overlaps(candidates)


def _first_of_overlaps(candidates: list[tuple[int, int, str]]) -> tuple[str, ...]:
    """Distinct values of non-overlapping spans, at most MAX_NUMBERS, in order of appearance.

    Longest match wins where spans overlap ("PRR 0426-A" over "0426-A"). In start order, a span overlaps an
    earlier kept one only if it starts before the end of the last one kept: one comparison, not a scan."""
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    kept_end = -1
    seen: set[str] = set()
    out: list[str] = []
    for start, end, value in candidates:
        if start < kept_end:
            continue
        kept_end = end
        key = value.upper()
        if key not in seen:
            seen.add(key)
            out.append(value)
            if len(out) >= MAX_NUMBERS:
                break
    return tuple(out)
