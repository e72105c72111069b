"""Label an agency reply with what the requester must act on: TOML rules score labels, code matchers help."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.pipeline.extract import records_attached
from agent.pipeline.model import NaiveBayes, load_model
from agent.pipeline.prefilter import FastPattern, fast_patterns
from agent.pipeline.rules import RulesError, check_choice, compile_pattern, load_toml, require, rule_tables
from agent.pipeline.stage_data import LABELS, AttachmentInfo, MessageKind

FILE_NAME = "classify.toml"
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})
_SPACE = re.compile(r"\s+")
_MONEY = re.compile(r"\$\s?\d[\d,]*(?:\.\d{1,2})?|\b\d[\d,]*(?:\.\d{2})?\s?(?:dollars|USD)\b", re.I)
_FEE_WORD = re.compile(
    r"\b(?:cost|costs|fee|fees|charge|charges|charged|deposit|payment|pay|paid|invoice|estimate|estimated|"
    r"rate|hour|hourly|per\s+page|total|amount|due|owe|remit|check|quote|dollars|price|bill|billed)\b",
    re.I,
)
_DOCUMENT_TYPES = ("application/pdf", "application/zip", "application/vnd", "text/csv", "application/msword")


@dataclass(frozen=True)
class Features:
    """What the rules look at: the cleaned text (plus subject and attached letters), the kind, the attachments."""

    text: str
    kind: MessageKind = "reply"
    attachments: tuple[AttachmentInfo, ...] = ()


Matcher = Callable[[Features], bool]


def _money_with_fee_word(features: Features) -> bool:
    if "$" not in features.text and "dollar" not in features.text.lower() and "usd" not in features.text.lower():
        return False
    for match in _MONEY.finditer(features.text):
        # Look at the words around the amount, within a sentence-sized window.
        window = features.text[max(0, match.start() - 160) : match.end() + 80]
        if _FEE_WORD.search(window):
            return True
    return False


def _document_attached(features: Features) -> bool:
    return any(a.content_type.startswith(_DOCUMENT_TYPES) for a in features.attachments)


def _records_attached_text(features: Features) -> bool:
    lowered = features.text.lower()
    if "attach" not in lowered and "enclos" not in lowered:
        return False  # the regex needs one of these words; skip the scan
    return records_attached(features.text, ())


MATCHERS: dict[str, Matcher] = {
    "records_attached_text": _records_attached_text,
    "kind_bounce": lambda f: f.kind == "bounce",
    "kind_auto_reply": lambda f: f.kind == "auto_reply",
    "money_with_fee_word": _money_with_fee_word,
    "document_attached": _document_attached,
}


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    weight: float
    patterns: tuple[FastPattern, ...] = ()  # each skips the scan when a word it needs is missing
    matcher: str | None = None

    def fires(self, features: Features, lowered: str) -> bool:
        if self.matcher is not None:
            return MATCHERS[self.matcher](features)
        return any(p.search(lowered) for p in self.patterns)


@dataclass(frozen=True)
class LabelPolicy:
    threshold: float
    bonus: float
    # {other label: score}: when `other label` wins but this label scores at least that much, this label wins.
    promote_from: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ClassifyRules:
    rules: tuple[Rule, ...]
    policies: dict[str, LabelPolicy]
    fallback_score: float = 2.0  # weaker evidence than any threshold still names a label, for review
    fallback_confidence: float = 0.5
    model: NaiveBayes | None = None  # last resort when no rule has evidence (rules/examples.jsonl)
    model_confidence: float = 0.45


@dataclass(frozen=True)
class Decision:
    label: str
    confidence: float
    rules: tuple[str, ...]  # ids of the rules that fired (all of them, whatever label won)
    scores: tuple[tuple[str, float], ...] = ()


def load_classify_rules(rules_dir: Path, extra_examples: Sequence[tuple[str, str]] = ()) -> ClassifyRules:
    """Load rules/classify.toml and train the model; extra_examples are (text, label) pairs of this deployment
    (operator corrections) the model learns from on top of the repo's examples."""
    path = Path(rules_dir) / FILE_NAME
    data = load_toml(path)
    labels = data.get("labels", {})
    if not isinstance(labels, dict):
        raise RulesError(path, "labels", "must be a table of [labels.<name>] tables")
    policies: dict[str, LabelPolicy] = {}
    for name, table in labels.items():
        check_choice(name, LABELS, path, f"labels.{name}")
        threshold = require(table, "threshold", (int, float), path, f"labels.{name}")
        bonus = require(table, "bonus", (int, float), path, f"labels.{name}")
        promote = table.get("promote_from", {})
        if not isinstance(promote, dict) or not all(isinstance(v, (int, float)) for v in promote.values()):
            raise RulesError(path, f"labels.{name}.promote_from", "must be a table of label = score")
        for other in promote:
            check_choice(other, LABELS, path, f"labels.{name}.promote_from.{other}")
        policies[name] = LabelPolicy(
            float(threshold), float(bonus), tuple((k, float(v)) for k, v in promote.items())
        )
    rules: list[Rule] = []
    for key, table in rule_tables(data, "rule", path):
        label = check_choice(require(table, "label", str, path, key), LABELS, path, f"{key}.label")
        weight = require(table, "weight", (int, float), path, key)
        matcher = table.get("matcher")
        raw = table.get("patterns")
        if (matcher is None) == (raw is None):
            raise RulesError(path, key, "needs exactly one of 'patterns' or 'matcher'")
        if matcher is not None:
            check_choice(matcher, MATCHERS, path, f"{key}.matcher")
            rules.append(Rule(table["id"], label, float(weight), matcher=matcher))
            continue
        if not isinstance(raw, list) or not raw:
            raise RulesError(path, f"{key}.patterns", "must be a non-empty list of regexes")
        patterns = tuple(
            compile_pattern(p, path, f"{key}.patterns[{i}]", re.IGNORECASE) for i, p in enumerate(raw)
        )
        fast = tuple(piece for p in patterns for piece in fast_patterns(p))
        rules.append(Rule(table["id"], label, float(weight), patterns=fast))
    for rule in rules:
        policies.setdefault(rule.label, LabelPolicy(3.0, 0.0))
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise RulesError(path, "settings", "must be a table")
    fallback_score = settings.get("fallback_score", 2.0)
    fallback_confidence = settings.get("fallback_confidence", 0.5)
    for key, value in (("fallback_score", fallback_score), ("fallback_confidence", fallback_confidence)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise RulesError(path, f"settings.{key}", "must be a non-negative number")
    if fallback_confidence > 1:
        raise RulesError(path, "settings.fallback_confidence", "must be at most 1")
    return ClassifyRules(
        tuple(rules), policies, float(fallback_score), float(fallback_confidence), model=load_model(Path(rules_dir), extra_examples)
    )


_LONG_TOKEN = re.compile(r"\S{%d,}" % 80)


def prepare_text(*parts: str) -> str:
    """One line of text for the patterns: curly quotes straightened, whitespace collapsed, and runs of
    non-space longer than any word cut short (a base64 blob in a body must not make a pattern quadratic)."""
    text = _SPACE.sub(" ", " \n ".join(p for p in parts if p).translate(_QUOTES)).strip()
    return _LONG_TOKEN.sub(lambda m: m.group(0)[:80], text)


def classify(features: Features, rules: ClassifyRules) -> Decision:
    """Score every label, pick the action-driving one; never raises on odd text."""
    scores: dict[str, float] = {}
    fired: list[str] = []
    lowered = features.text.lower()
    for rule in rules.rules:
        if rule.fires(features, lowered):
            fired.append(rule.id)
            scores[rule.label] = scores.get(rule.label, 0.0) + rule.weight
    candidates = {
        label: score + rules.policies[label].bonus
        for label, score in scores.items()
        if score >= rules.policies[label].threshold
    }
    ordered = tuple(sorted(scores.items(), key=lambda item: -item[1]))
    if not candidates:
        weak = [(label, score) for label, score in ordered if score >= rules.fallback_score and label != "other"]
        if weak:
            # Some evidence, not enough to act on: name the label but leave the decision to a person.
            fired.append("fallback.weak_evidence")
            return Decision(weak[0][0], rules.fallback_confidence, tuple(fired), ordered)
        # No rule has evidence: the word model may still recognise the message, never above review level.
        automated = features.kind != "reply" or any(r.startswith("other.") for r in fired)
        guess = rules.model.predict(features.text) if rules.model is not None and not automated else None
        if guess is not None and guess != "other":
            fired.append("model.naive_bayes")
            return Decision(guess, rules.model_confidence, tuple(fired), ordered)
        # Nothing we recognise: call it other, with a confidence low enough to go to review.
        confidence = 0.35 if scores else 0.4
        return Decision("other", confidence, tuple(fired), ordered)
    ranked = sorted(candidates.items(), key=lambda item: -item[1])
    label, best = ranked[0]
    # Mixed messages take the action-driving label (records + more to come is a batch, and so on);
    # promotions chain (denial -> final_records -> batch) but never loop.
    visited = {label}
    promoted = True
    while promoted:
        promoted = False
        for other, policy in rules.policies.items():
            if other in visited:
                continue
            if any(source == label and scores.get(other, 0.0) >= need for source, need in policy.promote_from):
                fired.append(f"promote.{label}->{other}")
                label = other
                visited.add(other)
                best = candidates.get(other, scores[other] + policy.bonus)
                promoted = True
                break
    runner_up = max((v for k, v in ranked if k != label), default=0.0)
    raw = scores[label]
    # More evidence and a wider margin over the runner-up both raise confidence.
    strength = min(1.0, raw / 6.0)
    margin = max(0.0, best - runner_up) / (best + 1.0)
    confidence = round(min(0.99, 0.45 + 0.3 * strength + 0.35 * margin), 3)
    return Decision(label, confidence, tuple(fired), ordered)
