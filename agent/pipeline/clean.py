"""Clean an agency reply: fold quotes, echoes of our request, signatures, disclaimers and learned boilerplate."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from agent.pipeline.quotes import quote_start, quoted_line_spans
from agent.pipeline.rules import RulesError, compile_pattern, load_toml, require, rule_tables
from agent.pipeline.stage_data import Folded, ThreadContext
from agent.pipeline.units import Unit, fingerprint, shingles, split_units, word_count

FILE_NAME = "clean.toml"
_FLAGS = re.IGNORECASE | re.MULTILINE
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"), None)
# A unit this short ("Dear Joey Scott,", "Thank you,") follows the fate of the notice next to it.
SHORT_WORDS = 5
ECHO_MIN_WORDS = 8
ECHO_SHARE = 0.6


@dataclass(frozen=True)
class CleanRules:
    quote_markers: tuple[re.Pattern[str], ...]
    header_names: tuple[str, ...]
    signoff: re.Pattern[str]
    signature_starters: tuple[re.Pattern[str], ...]
    signature_max_line: int
    disclaimers: tuple[tuple[str, re.Pattern[str]], ...]
    boilerplate: tuple[tuple[str, str, re.Pattern[str]], ...]  # (id, reason, pattern)


@dataclass(frozen=True)
class Cleaned:
    text: str  # what the agency said this time
    folded: tuple[Folded, ...]
    fingerprints: tuple[str, ...]  # of the agency's own units, for boilerplate learning
    unquoted: str  # the message above any quote, before folding: the fallback when everything folded
    rules: tuple[str, ...] = ()  # ids of listed boilerplate/disclaimer rules that fired


def load_clean_rules(rules_dir: Path) -> CleanRules:
    path = Path(rules_dir) / FILE_NAME
    data = load_toml(path)
    quotes = data.get("quotes", {})
    markers = require(quotes, "markers", list, path, "quotes")
    header_names = require(quotes, "header_names", list, path, "quotes")
    signature = data.get("signature", {})
    starters = require(signature, "starters", list, path, "signature")
    max_line = require(signature, "max_line_chars", int, path, "signature")
    disclaimers = tuple(
        (table["id"], compile_pattern(require(table, "pattern", str, path, key), path, f"{key}.pattern", _FLAGS))
        for key, table in rule_tables(data, "disclaimer", path)
    )
    boilerplate = []
    for key, table in rule_tables(data, "boilerplate", path):
        reason = require(table, "reason", str, path, key)
        pattern = compile_pattern(require(table, "pattern", str, path, key), path, f"{key}.pattern", _FLAGS)
        boilerplate.append((table["id"], reason, pattern))
    if not all(isinstance(name, str) for name in header_names):
        raise RulesError(path, "quotes.header_names", "must be a list of strings")
    return CleanRules(
        quote_markers=tuple(compile_pattern(m, path, f"quotes.markers[{i}]", _FLAGS) for i, m in enumerate(markers)),
        header_names=tuple(name.lower() for name in header_names),
        signoff=compile_pattern(require(signature, "signoff", str, path, "signature"), path, "signature.signoff", re.I),
        signature_starters=tuple(
            compile_pattern(s, path, f"signature.starters[{i}]", _FLAGS) for i, s in enumerate(starters)
        ),
        signature_max_line=max_line,
        disclaimers=disclaimers,
        boilerplate=tuple(boilerplate),
    )


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").translate(_INVISIBLE)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _split_signoff(units: list[Unit], rules: CleanRules) -> list[Unit]:
    """Portals write "... the completed form. Thank you," on one line: give the sign-off its own unit."""
    out: list[Unit] = []
    for unit in units:
        head, sep, tail = unit.text.rpartition(". ")
        if sep and head and rules.signoff.match(tail.strip()):
            out.append(Unit(head + ".", unit.block))
            out.append(Unit(tail.strip(), unit.block))
        else:
            out.append(unit)
    return out


def _signature_marks(units: list[Unit], rules: CleanRules) -> set[int]:
    """Indexes of units in signature blocks: from a sign-off to the next substantive unit."""
    marked: set[int] = set()
    index = 0
    while index < len(units):
        text = units[index].text
        starts = rules.signoff.match(text) or any(p.search(text) for p in rules.signature_starters)
        # A sign-off opening the message ("Thanks, we got it") is prose, not a signature.
        if starts and index > 0:
            marked.add(index)
            index += 1
            while index < len(units):
                text = units[index].text
                if len(text) > rules.signature_max_line or re.match(r"(?:dear|hello|hi|greetings)\b", text, re.I):
                    break
                marked.add(index)
                index += 1
            continue
        index += 1
    # A name-and-title block closing the message without a sign-off ("Melissa Robinson / Records Supervisor").
    tail: list[int] = []
    end = len(units) - 1
    while end > 0 and (end in marked or any(p.search(units[end].text) for _, p in rules.disclaimers)):
        end -= 1  # step over a signature or disclaimer already found below ("Sent from my phone")
    for index in range(end, 0, -1):
        text = units[index].text
        if index in marked or len(text.split()) > 6 or re.search(r"[.?!:;]$|\$", text):
            break
        tail.append(index)
    if len(tail) >= 2:
        marked.update(tail)
    return marked


def _cut_quotes(text: str, rules: CleanRules) -> tuple[str, list[Folded]]:
    folded: list[Folded] = []
    cut = quote_start(text, rules.quote_markers, rules.header_names)
    if cut is not None:
        folded.append(Folded("quoted", text[cut:].strip()))
        text = text[:cut]
    lines = text.split("\n")
    spans = quoted_line_spans(lines)
    if not spans:
        return text, folded
    # One flag per line (spans are disjoint): asking every span about every line was quadratic.
    quoted = [False] * len(lines)
    for start, end in spans:
        quoted[start:end] = [True] * (end - start)
    own = [line for line, is_quoted in zip(lines, quoted) if not is_quoted]
    if any(line.strip() for line in own):
        for start, end in spans:
            folded.append(Folded("quoted", "\n".join(lines[start:end]).strip()))
        lines = own
    return "\n".join(lines), folded


@functools.lru_cache(maxsize=2048)
def _prints_of(earlier_text: str, rules: CleanRules) -> frozenset[str]:
    """An earlier message's unit fingerprints; cached, since every later reply in the thread asks again."""
    units = _split_signoff(split_units(normalise(earlier_text)), rules)
    return frozenset(fp for fp in (fingerprint(u.text) for u in units) if fp)


def clean(text: str, context: ThreadContext, rules: CleanRules) -> Cleaned:
    """Split the reply into what is new and what is folded (with reasons); never raises on odd text."""
    text = normalise(text or "")
    unquoted, folded = _cut_quotes(text, rules)
    units = _split_signoff(split_units(unquoted), rules)

    # Earlier messages are cut into units exactly like this one, so a repeated notice fingerprints the same.
    current = {fp for fp in (fingerprint(u.text) for u in units) if fp}
    earlier: set[str] = set()
    for earlier_text in context.earlier_texts:
        prints = _prints_of(earlier_text, rules)
        if prints and prints == current:
            continue  # this very message, stored by an earlier run (reprocessing): not an earlier notice
        earlier |= prints
    ours: set[tuple[str, ...]] = set()
    for sent in context.our_texts:
        ours |= shingles(sent)

    reasons: list[str | None] = [None] * len(units)
    fired: list[str] = []
    seen_here: set[str] = set()
    fingerprints: dict[str, None] = {}  # ordered and O(1) to test: a list was quadratic on 100k units
    signature = _signature_marks(units, rules)
    for index, unit in enumerate(units):
        fp = fingerprint(unit.text)
        if fp:
            fingerprints.setdefault(fp, None)
        reason: str | None = None
        if ours and word_count(unit.text) >= ECHO_MIN_WORDS:
            mine = shingles(unit.text)
            if mine and len(mine & ours) >= ECHO_SHARE * len(mine):
                reason = "our_request"
        if reason is None and fp and fp in earlier:
            reason = "repeated_in_thread"
        if reason is None and fp and fp in seen_here and word_count(unit.text) >= ECHO_MIN_WORDS:
            reason = "repeated_in_message"
        if reason is None:
            for rule_id, rule_reason, pattern in rules.boilerplate:
                if pattern.search(unit.text):
                    reason = rule_reason
                    fired.append(f"clean.{rule_id}")
                    break
        if reason is None and fp and fp in context.domain_fingerprints:
            reason = "learned_boilerplate"
        if reason is None:
            for rule_id, pattern in rules.disclaimers:
                if pattern.search(unit.text):
                    reason = "disclaimer"
                    fired.append(f"clean.{rule_id}")
                    break
        if reason is None and index in signature:
            reason = "signature"
        if fp:
            seen_here.add(fp)
        reasons[index] = reason

    _fold_numbered_steps(units, reasons)
    _fold_short_neighbours(units, reasons)

    kept: list[str] = []
    last_block: int | None = None
    # Runs of units folded for the same reason become one block; joined once at the end (growing a string
    # unit by unit copied it every time: quadratic on a run of thousands of short lines).
    runs: list[tuple[str, list[str]]] = []
    previous: str | None = None
    for unit, reason in zip(units, reasons):
        if reason is None:
            if last_block is not None:
                kept.append("\n" if unit.block == last_block else "\n\n")
            kept.append(unit.text)
            last_block = unit.block
        elif reason == previous and runs:
            runs[-1][1].append(unit.text)
        else:
            runs.append((reason, [unit.text]))
        previous = reason
    folded.extend(Folded(reason, "\n".join(texts)) for reason, texts in runs)
    return Cleaned(
        text="".join(kept).strip(),
        folded=tuple(folded),
        fingerprints=tuple(fingerprints),
        unquoted=unquoted.strip(),
        rules=tuple(dict.fromkeys(fired)),
    )


def _fold_numbered_steps(units: list[Unit], reasons: list[str | None]) -> None:
    """Numbered steps right after folded portal instructions belong to them."""
    for index in range(1, len(units)):
        if reasons[index] is None and reasons[index - 1] == "portal_instructions":
            if re.match(r"\s*\d{1,2}[.)]\s", units[index].text):
                reasons[index] = "portal_instructions"


def _fold_short_neighbours(units: list[Unit], reasons: list[str | None]) -> None:
    """A greeting or sign-off squeezed between folded repeats is part of the repeated notice."""
    repeated = {"repeated_in_thread", "repeated_in_message"}
    for _ in range(2):  # twice, so a run of two short units ("Thank you," "Dear X,") follows too
        for index, unit in enumerate(units):
            if reasons[index] is not None or word_count(unit.text) > SHORT_WORDS:
                continue
            before = reasons[index - 1] if index > 0 else "start"
            after = reasons[index + 1] if index + 1 < len(units) else "end"
            if after in repeated and (before in repeated or before == "start" or before is not None):
                reasons[index] = after
            elif before in repeated and (after == "end" or after is not None):
                reasons[index] = before
