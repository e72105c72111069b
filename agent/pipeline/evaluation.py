"""Corpus rows in, scores out: how `agent classify --jsonl` and `agent eval` run rows through the daemon's path."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.pipeline.autoapply import CLOSING_LABELS, Thresholds, decide
from agent.pipeline.stage_data import LABELS, ParsedMessage, ThreadContext, Understanding, parsed_from_text
from agent.pipeline.understand import UnderstandRules, understand


def _date(value: Any) -> dt.date | dt.datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    except ValueError:
        return None


def parsed_from_row(row: Mapping[str, Any]) -> ParsedMessage:
    """A corpus line (`id`, `subject`, `body`, optional `from`, `date`, `attachment_text`) as a ParsedMessage."""
    return parsed_from_text(
        str(row.get("body") or ""),
        subject=row.get("subject") or None,
        from_addr=row.get("from") or None,
        date=_date(row.get("date")),
        attachment_text=row.get("attachment_text") or None,
    )


def understand_row(
    row: Mapping[str, Any], rules: UnderstandRules, review_threshold: float = 0.6, closing_threshold: float | None = None
) -> Understanding:
    thresholds = Thresholds(review_threshold) if closing_threshold is None else Thresholds(review_threshold, closing_threshold)
    return understand(
        parsed_from_row(row), ThreadContext(), rules, review_threshold=thresholds.review, closing_threshold=thresholds.closing
    )


# The corpus format has ten labels: auto-replies and bounces are kinds of "other" there.
# The daemon keeps the finer label (it must never answer either); corpus output folds it.
CORPUS_FOLD = {"auto_reply": "other", "bounce": "other"}


def corpus_label(label: str) -> str:
    return CORPUS_FOLD.get(label, label)


def prediction_json(row: Mapping[str, Any], result: Understanding, thresholds: Thresholds = Thresholds()) -> dict[str, Any]:
    """One `agent classify --jsonl` line; "auto" is the daemon's own apply-without-a-person decision."""
    return {
        "id": row.get("id"),
        "label": corpus_label(result.label),
        "detail_label": result.label,
        "confidence": result.confidence,
        "expected_date": result.expected_date.isoformat() if result.expected_date else None,
        "tracking_numbers": list(result.tracking_numbers),
        "rules": list(result.rules),
        "auto": decide(result, thresholds).auto,
    }


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvalReport:
    n: int
    accuracy: float
    macro_f1: float
    date_acc: float
    tracking_acc: float
    per_label: tuple[LabelScore, ...]
    confusion: Mapping[tuple[str, str], int]  # (gold, predicted) -> count
    labels: tuple[str, ...]
    auto_precision: float = 0.0  # share right among the results applied without a person
    coverage: float = 0.0  # share applied without a person
    wrong_closing: int = 0  # applied closing labels that differ from the gold label
    reliability: tuple[ReliabilityBin, ...] = ()

    def summary_line(self) -> str:
        return (
            f"accuracy={self.accuracy:.3f} macro_f1={self.macro_f1:.3f} date_acc={self.date_acc:.3f} "
            f"tracking_acc={self.tracking_acc:.3f} auto_precision={self.auto_precision:.3f} "
            f"coverage={self.coverage:.3f} wrong_closing={self.wrong_closing} n={self.n}"
        )


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


RELIABILITY_EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)


def reliability(confidences: Sequence[float], correct: Sequence[bool], edges: Sequence[float] = RELIABILITY_EDGES) -> tuple[ReliabilityBin, ...]:
    """Confidence bins against accuracy: calibrated confidence has accuracy close to the bin's mean confidence."""
    bins = []
    for low, high in zip(edges, edges[1:]):
        last = high >= edges[-1]
        members = [(c, ok) for c, ok in zip(confidences, correct) if low <= c < high or (last and c == high)]
        n = len(members)
        bins.append(
            ReliabilityBin(
                low, high, n,
                sum(c for c, _ in members) / n if n else 0.0,
                sum(ok for _, ok in members) / n if n else 0.0,
            )
        )
    return tuple(bins)


def expected_calibration_error(bins: Sequence[ReliabilityBin]) -> float:
    total = sum(b.count for b in bins)
    return sum(b.count * abs(b.accuracy - b.mean_confidence) for b in bins) / total if total else 0.0


def _tracking_ok(gold: Any, predicted: Sequence[str]) -> bool:
    # Strict: the first number we report must be the agency's own; none reported when the text shows none.
    if not gold:
        return not predicted
    return bool(predicted) and predicted[0].strip().upper() == str(gold).strip().upper()


def evaluate(
    rows: Sequence[Mapping[str, Any]], results: Sequence[Understanding], thresholds: Thresholds = Thresholds()
) -> EvalReport:
    """Per-label precision/recall/F1 over every label that is gold or predicted (a wrong extra label costs)."""
    golds = [str(r.get("label")) for r in rows]
    gold_set = set(golds)
    # Fold auto_reply/bounce into "other" unless the gold data itself uses the finer labels.
    preds = [u.label if u.label in gold_set else corpus_label(u.label) for u in results]
    present = [label for label in LABELS if label in set(golds) | set(preds)]
    present += sorted((set(golds) | set(preds)) - set(present))
    confusion = Counter(zip(golds, preds))
    scores: list[LabelScore] = []
    for label in present:
        tp = confusion[(label, label)]
        fp = sum(v for (g, p), v in confusion.items() if p == label and g != label)
        fn = sum(v for (g, p), v in confusion.items() if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(LabelScore(label, precision, recall, f1, tp + fn))
    n = len(rows)
    dates = sum(
        1
        for r, u in zip(rows, results)
        if (u.expected_date.isoformat() if u.expected_date else None) == (r.get("expected_date") or None)
    )
    tracking = sum(1 for r, u in zip(rows, results) if _tracking_ok(r.get("tracking_number"), u.tracking_numbers))
    correct = [g == p for g, p in zip(golds, preds)]
    auto = [decide(u, thresholds).auto for u in results]
    applied = [ok for ok, a in zip(correct, auto) if a]
    wrong_closing = sum(1 for g, p, a in zip(golds, preds, auto) if a and p in CLOSING_LABELS and p != g)
    return EvalReport(
        n=n,
        accuracy=sum(g == p for g, p in zip(golds, preds)) / n if n else 0.0,
        macro_f1=sum(s.f1 for s in scores) / len(scores) if scores else 0.0,
        date_acc=dates / n if n else 0.0,
        tracking_acc=tracking / n if n else 0.0,
        per_label=tuple(scores),
        confusion=dict(confusion),
        labels=tuple(present),
        auto_precision=sum(applied) / len(applied) if applied else 0.0,
        coverage=len(applied) / n if n else 0.0,
        wrong_closing=wrong_closing,
        reliability=reliability([u.confidence for u in results], correct),
    )


def read_rows(lines: Iterable[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise ValueError(f"line {number}: expected a JSON object")
        rows.append(row)
    return rows
