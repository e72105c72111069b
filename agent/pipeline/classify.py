"""Label an agency reply with what the requester must act on: TOML rules score labels, code matchers help."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.pipeline import acts
from agent.pipeline.attachment_kinds import counts_as_records
from agent.pipeline.extract import records_attached
from agent.pipeline.model import LinearModel, read_examples, train
from agent.pipeline.prefilter import FastPattern, fast_patterns
from agent.pipeline.rules import RulesError, check_choice, compile_pattern, load_toml, require, rule_tables
from agent.pipeline.stage_data import LABELS, AttachmentInfo, MessageKind

FILE_NAME = "classify.toml"
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})
_SPACE = re.compile(r"[^\S\n]+")
_LINES = re.compile(r"\s*\n\s*")
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
    """Records came as files; a letter that was read speaks through its text instead."""
    return any(counts_as_records(a, _DOCUMENT_TYPES) for a in features.attachments)


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
        """`lowered` is the lower-cased text this rule may read (a label's visible sentences, or all of it)."""
        if self.matcher is not None:
            return MATCHERS[self.matcher](Features(text=lowered, kind=features.kind, attachments=features.attachments))
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
    acts: acts.ActRules = acts.ActRules(())
    model: LinearModel | None = None  # calibrated word/char/hit model trained from rules/examples*.jsonl
    contested_confidence: float = 0.8  # at most this when two unranked acts both have full evidence


@dataclass(frozen=True)
class Decision:
    label: str
    confidence: float
    rules: tuple[str, ...]  # ids of the rules that fired (all of them, whatever label won)
    scores: tuple[tuple[str, float], ...] = ()

# How many repo examples one operator correction counts as.
EXTRA_WEIGHT = 3


def load_classify_rules(rules_dir: Path, extra_examples: Sequence[tuple[str, str]] = ()) -> ClassifyRules:
    """Load and validate rules/classify.toml and rules/acts.toml, and fit the model on rules/examples*.jsonl
    plus `extra_examples` ((text, label) pairs, e.g. an operator's corrections)."""
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
    for number, (text, label) in enumerate(extra_examples):
        if label not in LABELS or not isinstance(text, str):
            raise RulesError("extra_examples", f"[{number}]", f"expected (text, label) with a known label, got {label!r}")
    base = ClassifyRules(tuple(rules), policies, float(fallback_score), float(fallback_confidence),
                         acts=acts.load_act_rules(Path(rules_dir)))
    # An operator's correction is this deployment's own mail labelled by a person: it counts EXTRA_WEIGHT times.
    examples = [(e.text, e.label) for e in read_examples(Path(rules_dir))]
    examples += [(t, l) for t, l in extra_examples if t.strip()] * EXTRA_WEIGHT
    fingerprint = hashlib.sha256(
        b"".join(p.read_bytes() for p in (path, Path(rules_dir) / acts.FILE_NAME) if p.is_file())
    ).hexdigest()
    model = train(examples, lambda text: hints(text, base), fingerprint) if examples else None
    return dataclasses.replace(base, model=model)


_LONG_TOKEN = re.compile(r"\S{%d,}" % 80)


def prepare_text(*parts: str) -> str:
    """Text for the patterns: curly quotes straightened, spaces collapsed, line breaks kept as one "\n" (the
    sentence reader needs them: a portal's history is a list of lines), and runs of
    non-space longer than any word cut short (a base64 blob in a body must not make a pattern quadratic)."""
    text = _LINES.sub("\n", _SPACE.sub(" ", "\n".join(p for p in parts if p).translate(_QUOTES))).strip()
    return _LONG_TOKEN.sub(lambda m: m.group(0)[:80], text)


def score_rules(features: Features, rules: ClassifyRules) -> tuple[dict[str, float], list[str]]:
    """Sum each label's rule weights over the sentences that may speak for it; list what fired.

    A cue inside a conditional, a standing notice, an appeal-rights paragraph or a quoted history line is
    recorded as `<rule id>@<mode id>` and does not count. Rules with a negative weight read the whole text.
    """
    scores: dict[str, float] = {}
    fired: list[str] = []
    lowered = features.text.lower()
    reading = acts.read(features.text, rules.acts) if rules.acts.modes else None
    visible: dict[str, str] = {}
    hidden: dict[str, dict[str, str]] = {}  # per label, computed once: many rules share a label
    for rule in rules.rules:
        # A pattern that finds nothing in the whole text finds nothing in any part of it: one scan, not one
        # per clause mode (matchers may read length or shape, so they always see their own text).
        if rule.matcher is None and not rule.fires(features, lowered):
            continue
        text = lowered
        if reading is not None and reading.any_hidden and rule.weight > 0:
            if rule.label not in visible:
                visible[rule.label] = reading.visible(rule.label)
            text = visible[rule.label]
        if rule.fires(features, text):
            fired.append(rule.id)
            scores[rule.label] = scores.get(rule.label, 0.0) + rule.weight
        elif text is not lowered and reading is not None:
            if rule.label not in hidden:
                hidden[rule.label] = reading.hidden(rule.label)
            for mode, cut in hidden[rule.label].items():
                if rule.fires(features, cut):
                    fired.append(f"{rule.id}@{mode}")
                    break
    return scores, fired


def hints(text: str, rules: ClassifyRules) -> list[str]:
    """The rule and clause-mode hits the model sees beside the words."""
    _, fired = score_rules(Features(text=prepare_text(text)), rules)
    return fired


def rule_decision(features: Features, rules: ClassifyRules) -> Decision:
    """Score every label, pick the action-driving one; never raises on odd text."""
    scores, fired = score_rules(features, rules)
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
        # Nothing we recognise: call it other, with a confidence low enough to go to review.
        fired.append("fallback.no_evidence")
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


def classify(features: Features, rules: ClassifyRules) -> Decision:
    """The rules' reading and the model's, combined; the confidence is the model's calibrated probability."""
    decision = rule_decision(features, rules)
    if rules.model is None:
        return decision
    automated = features.kind != "reply" or any(r.startswith(("bounce.", "auto_reply.")) for r in decision.rules)
    if automated:
        return decision
    probs = rules.model.probabilities(features.text, decision.rules)
    combined = combine(decision, probs)
    rivals = _rivals(decision, rules)
    if rivals and combined.confidence > rules.contested_confidence:
        # Two acts the label rules do not rank between (no promote_from says which drives action): a person decides.
        return dataclasses.replace(
            combined, confidence=rules.contested_confidence, rules=combined.rules + (f"contested.{'+'.join(rivals)}",)
        )
    return combined


def _rivals(decision: Decision, rules: ClassifyRules) -> tuple[str, ...]:
    """Other labels whose evidence reached their threshold, not settled by a promotion; acknowledgment and
    other ride along with every act and are never rivals."""
    if any(r.startswith("promote.") for r in decision.rules):
        return ()
    return tuple(
        label
        for label, score in decision.scores
        if label not in {decision.label, "acknowledgment", "other", "auto_reply", "bounce"}
        and score >= rules.policies[label].threshold
    )


# The model alone (no rule fired) names a label only when it favours one this much.
MODEL_ALONE_MIN = 0.4


def combine(decision: Decision, probs: dict[str, float]) -> Decision:
    model_label = max(probs, key=lambda k: probs[k])
    p_model = probs[model_label]
    p_rules = probs.get(decision.label, 0.0)
    fired = list(decision.rules)
    ruled = not any(r.startswith("fallback.") for r in decision.rules)
    if model_label == decision.label:
        fired.append("model.agrees")
        confidence = p_model
        label = decision.label
    elif not ruled and p_model < MODEL_ALONE_MIN:
        # No rule evidence and no clear favourite: a guess among many labels is not a reading.
        fired.append(f"model.unsure:{model_label}")
        label, confidence = decision.label, min(decision.confidence, p_model)
    elif not ruled:
        fired.append(f"model.{model_label}")
        label, confidence = model_label, min(p_model, 0.55)
    elif decision.label == "acknowledgment" and p_model >= 0.9:
        # The rules found only "we received it"; the model is sure the letter does more: name its act, for review.
        fired.append(f"model.overrides:{model_label}")
        label, confidence = model_label, min(p_model, 0.55)
    else:
        fired.append(f"model.disagrees:{model_label}")
        label, confidence = decision.label, min(p_rules, 0.5)
    return Decision(label, round(confidence, 3), tuple(fired), decision.scores)
