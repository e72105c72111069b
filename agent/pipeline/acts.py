"""Read a letter sentence by sentence: which sentences state a present act, and which only talk about one.

A clerk's letter mixes the act that drives action ("the records are attached") with sentences that merely
mention other acts: conditionals ("if any records are located we will ..."), notices quoted in every letter
(appeal rights, "some information may be exempt", a fee schedule that asks for nothing yet) and history
lines from a portal log ("05/02/2024 Partial Release"). The cues for those clause modes live in
rules/acts.toml; each mode names the labels whose evidence it cancels inside its sentence. The classifier
then scores each label only on the sentences that may speak for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from agent.pipeline.prefilter import FastPattern, fast_patterns
from agent.pipeline.rules import RulesError, check_choice, compile_pattern, load_toml, require, rule_tables
from agent.pipeline.stage_data import LABELS

FILE_NAME = "acts.toml"
# A sentence ends at . ! ? followed by space and a capital, quote, bracket or digit, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[*•-])|\s*\n\s*")
MAX_SENTENCES = 400  # a pathological text is read as one block beyond this


@dataclass(frozen=True)
class ClauseMode:
    id: str
    suppresses: frozenset[str]  # labels whose evidence inside such a sentence does not count
    patterns: tuple[FastPattern, ...]
    unless: tuple[FastPattern, ...] = ()  # a sentence matching one of these keeps its present reading


@dataclass(frozen=True)
class ActRules:
    modes: tuple[ClauseMode, ...]


@dataclass(frozen=True)
class Sentence:
    text: str  # lower-cased
    mode: str | None  # id of the first clause mode that matched, None for a plain present statement


@dataclass(frozen=True)
class Reading:
    sentences: tuple[Sentence, ...]
    modes: dict[str, ClauseMode]

    def visible(self, label: str) -> str:
        """The text whose evidence counts for `label`: every sentence whose mode does not cancel it."""
        return " \n".join(
            s.text for s in self.sentences if s.mode is None or label not in self.modes[s.mode].suppresses
        )

    def hidden(self, label: str) -> dict[str, str]:
        """mode id -> the sentences of that mode that cancel `label` (what explain reports as not counted)."""
        out: dict[str, list[str]] = {}
        for s in self.sentences:
            if s.mode is not None and label in self.modes[s.mode].suppresses:
                out.setdefault(s.mode, []).append(s.text)
        return {mode: " \n".join(texts) for mode, texts in out.items()}

    @property
    def any_hidden(self) -> bool:
        return any(s.mode is not None for s in self.sentences)


def split_sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    if len(parts) > MAX_SENTENCES:
        return [" ".join(parts)]
    return parts


def read(text: str, rules: ActRules) -> Reading:
    """Split `text` (original case, for sentence ends) into sentences and tag each with its clause mode."""
    sentences = []
    for part in split_sentences(text):
        lowered = part.lower()
        mode = None
        for candidate in rules.modes:
            if any(p.search(lowered) for p in candidate.patterns) and not any(u.search(lowered) for u in candidate.unless):
                mode = candidate.id
                break
        sentences.append(Sentence(lowered, mode))
    return Reading(tuple(sentences), {m.id: m for m in rules.modes})


def _patterns(raw: object, path: Path, key: str) -> tuple[FastPattern, ...]:
    if not isinstance(raw, list) or not raw:
        raise RulesError(path, key, "must be a non-empty list of regexes")
    compiled = [compile_pattern(p, path, f"{key}[{i}]", re.IGNORECASE) for i, p in enumerate(raw)]
    return tuple(piece for p in compiled for piece in fast_patterns(p))


def load_act_rules(rules_dir: Path) -> ActRules:
    """rules/acts.toml: the clause modes, in priority order; no file means every sentence is read as present."""
    path = Path(rules_dir) / FILE_NAME
    if not path.is_file():
        return ActRules(())
    data = load_toml(path)
    modes = []
    for key, table in rule_tables(data, "mode", path):
        suppresses = require(table, "suppresses", list, path, key)
        for i, label in enumerate(suppresses):
            check_choice(label, LABELS, path, f"{key}.suppresses[{i}]")
        unless = table.get("unless")
        modes.append(
            ClauseMode(
                id=table["id"],
                suppresses=frozenset(suppresses),
                patterns=_patterns(table.get("patterns"), path, f"{key}.patterns"),
                unless=_patterns(unless, path, f"{key}.unless") if unless is not None else (),
            )
        )
    return ActRules(tuple(modes))
