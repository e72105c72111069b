"""A tiny naive Bayes over words, trained at load from rules/examples.jsonl: a guess where no rule has evidence."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.pipeline.rules import RulesError
from agent.pipeline.stage_data import LABELS

FILE_NAME = "examples.jsonl"
_WORD = re.compile(r"[a-z]+")
# Words every reply shares carry no signal about what the agency did.
_STOP = frozenset(
    "the and for you your our this that with from are was were have has will been not any all can may its their "
    "they them which what when who into such than then there these those would could should about also only other "
    "more some very please thank thanks dear hello city county department office records request public".split()
)
SMOOTHING = 0.5
# An operator correction counts as this many repo examples: it is this deployment's own mail, labelled by a person.
EXTRA_WEIGHT = 3.0


def tokens(text: str) -> set[str]:
    """Words of three letters or more, minus stop words, plus adjacent pairs ("additional_time")."""
    words = [w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _STOP]
    return set(words) | {f"{a}_{b}" for a, b in zip(words, words[1:])}


@dataclass(frozen=True)
class NaiveBayes:
    priors: dict[str, float]
    weights: dict[str, dict[str, float]]  # word -> label -> log P(word | label), only words seen in training
    # Chosen on a held-out round of 27 one-sentence replies: the model lifted rules-only 11/27 to 21/27,
    # and wrongly named a label for 2 of 12 content-free notices (which still go to review).
    min_tokens: int = 2  # fewer known words than this: no guess
    min_margin: float = 0.0  # log-odds the winner must lead by

    def predict(self, text: str) -> str | None:
        known = [w for w in tokens(text) if w in self.weights]
        if len(known) < self.min_tokens:
            return None
        scores = dict(self.priors)
        for word in known:
            for label, weight in self.weights[word].items():
                scores[label] += weight
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < self.min_margin:
            return None
        return ranked[0][0]


def load_model(rules_dir: Path, extra_examples: Sequence[tuple[str, str]] = ()) -> NaiveBayes | None:
    """Train from the examples file (one {"label", "text"} object per line) plus this deployment's operator
    corrections (extra_examples: (text, label) pairs, each counted EXTRA_WEIGHT times: they are what this
    deployment's agencies really write). None when there is nothing to train on."""
    path = Path(rules_dir) / FILE_NAME
    examples: list[tuple[str, str, float]] = list(_read_examples(path)) if path.is_file() else []
    for text, label in extra_examples:
        if label in LABELS and text.strip():
            examples.append((label, text, EXTRA_WEIGHT))
    counts: dict[str, defaultdict[str, float]] = defaultdict(lambda: defaultdict(float))
    docs: defaultdict[str, float] = defaultdict(float)
    for label, text, weight in examples:
        for token in tokens(text):
            counts[label][token] += weight
        docs[label] += weight
    if not docs:
        return None
    vocabulary = set().union(*(c.keys() for c in counts.values()))
    total = sum(docs.values())
    priors = {label: math.log(n / total) for label, n in docs.items()}
    weights: dict[str, dict[str, float]] = {}
    for label, counter in counts.items():
        denominator = math.log(sum(counter.values()) + SMOOTHING * len(vocabulary))
        for word in vocabulary:
            weights.setdefault(word, {})[label] = math.log(counter.get(word, 0.0) + SMOOTHING) - denominator
    return NaiveBayes(priors=priors, weights=weights)


def _read_examples(path: Path) -> list[tuple[str, str, float]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RulesError(path, "(file)", str(exc)) from None
    out: list[tuple[str, str, float]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            label, text = row["label"], row["text"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise RulesError(path, f"line {number}", 'expected {"label": ..., "text": ...}') from None
        if label not in LABELS:
            raise RulesError(path, f"line {number}.label", f"unknown label {label!r}")
        out.append((label, str(text), 1.0))
    return out
