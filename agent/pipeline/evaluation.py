"""Corpus rows in, scores out: how `agent classify --jsonl` and `agent eval` run rows through the daemon's path."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


def understand_row(row: Mapping[str, Any], rules: UnderstandRules, review_threshold: float = 0.6) -> Understanding:
    return understand(parsed_from_row(row), ThreadContext(), rules, review_threshold=review_threshold)


# The corpus format has ten labels: auto-replies and bounces are kinds of "other" there.
# The daemon keeps the finer label (it must never answer either); corpus output folds it.
CORPUS_FOLD = {"auto_reply": "other", "bounce": "other"}


def corpus_label(label: str) -> str:
    return CORPUS_FOLD.get(label, label)


def prediction_json(row: Mapping[str, Any], result: Understanding) -> dict[str, Any]:
    return {
        "id": row.get("id"),
        "label": corpus_label(result.label),
        "detail_label": result.label,
        "confidence": result.confidence,
        "expected_date": result.expected_date.isoformat() if result.expected_date else None,
        "tracking_numbers": list(result.tracking_numbers),
        "rules": list(result.rules),
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

    def summary_line(self) -> str:
        return (
            f"accuracy={self.accuracy:.3f} macro_f1={self.macro_f1:.3f} date_acc={self.date_acc:.3f} "
            f"tracking_acc={self.tracking_acc:.3f} n={self.n}"
        )


def _tracking_ok(gold: Any, predicted: Sequence[str]) -> bool:
    # Strict: the first number we report must be the agency's own; none reported when the text shows none.
    if not gold:
        return not predicted
    return bool(predicted) and predicted[0].strip().upper() == str(gold).strip().upper()


def evaluate(rows: Sequence[Mapping[str, Any]], results: Sequence[Understanding]) -> EvalReport:
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
    return EvalReport(
        n=n,
        accuracy=sum(g == p for g, p in zip(golds, preds)) / n if n else 0.0,
        macro_f1=sum(s.f1 for s in scores) / len(scores) if scores else 0.0,
        date_acc=dates / n if n else 0.0,
        tracking_acc=tracking / n if n else 0.0,
        per_label=tuple(scores),
        confusion=dict(confusion),
        labels=tuple(present),
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
