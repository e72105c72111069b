"""`agent classify` and `agent eval`: run the daemon's understanding stage on a mail file or corpus lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.table import Table

from agent.commands._context import EXIT_FAILURE, app_context, fail, out
from agent.config import AttachmentSettings
from agent.pipeline.autoapply import Thresholds, decide
from agent.pipeline.evaluation import (
    corpus_label,
    evaluate,
    expected_calibration_error,
    prediction_json,
    read_rows,
    understand_row,
)
from agent.pipeline.rules import RulesError
from agent.pipeline.stage_data import ParsedMessage, ThreadContext, Understanding
from agent.pipeline.understand import UnderstandRules, load_understand_rules, understand

if TYPE_CHECKING:
    from agent.inbound.attachment_reading import Readings

def _attachment_settings(ctx: typer.Context) -> AttachmentSettings:
    context = app_context(ctx)
    return context.settings().attachments if context.config_path.is_file() else AttachmentSettings()


def _attachments_json(parsed: ParsedMessage, readings: Readings) -> list[dict[str, Any]]:
    """The contract's fields per attachment; "none" also for a file over the size cap or with reading off."""
    return [
        {
            "filename": info.filename,
            "content_type": info.content_type,
            "sniffed_type": reading.sniffed_type if reading is not None else "",
            "text_chars": len(reading.text) if reading is not None else 0,
            "method": reading.method if reading is not None else "none",
        }
        for info, reading in zip(parsed.attachments, readings)
    ]


def _setup(ctx: typer.Context) -> tuple[UnderstandRules, Thresholds]:
    context = app_context(ctx)
    rules_dir = context.rules_path()
    thresholds = Thresholds()
    if context.config_path.is_file():
        settings = context.settings().classify
        thresholds = Thresholds(settings.review_threshold, settings.closing_threshold)
    try:
        return load_understand_rules(rules_dir), thresholds
    except RulesError as exc:
        fail(f"invalid rules: {exc}")


def _full_json(result: Understanding) -> dict[str, Any]:
    return {
        "label": result.label,
        "confidence": result.confidence,
        "rules": list(result.rules),
        "expected_date": result.expected_date.isoformat() if result.expected_date else None,
        "tracking_numbers": list(result.tracking_numbers),
        "fees": [{"amount": f.amount, "currency": f.currency, "kind": f.kind, "text": f.text} for f in result.fees],
        "links": list(result.links),
        "records_attached": result.records_attached,
        "cleaned_text": result.cleaned_text,
        "folded": [{"reason": f.reason, "text": f.text} for f in result.folded],
    }


def _read_lines(path: Path) -> list[dict[str, Any]]:
    try:
        handle = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
        with handle:
            return read_rows(handle)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    except ValueError as exc:
        fail(f"{path}: {exc}")


def register(app: typer.Typer) -> None:
    @app.command("classify")
    def classify_command(
        ctx: typer.Context,
        file: Optional[Path] = typer.Argument(None, help="A raw .eml file to understand."),
        jsonl: Optional[Path] = typer.Option(
            None, "--jsonl", help="Corpus-shaped JSON lines (id, subject, body, from, date, attachment_text); '-' reads stdin."
        ),
    ) -> None:
        """Clean, classify and extract one mail file, or every line of a JSONL file (one JSON object per line)."""
        if (file is None) == (jsonl is None):
            fail("give either FILE.eml or --jsonl IN.jsonl")
        rules, thresholds = _setup(ctx)
        if jsonl is not None:
            for row in _read_lines(jsonl):
                result = understand_row(row, rules, thresholds.review, thresholds.closing)
                print(json.dumps(prediction_json(row, result, thresholds), ensure_ascii=False))
            return
        assert file is not None
        try:
            raw = file.read_bytes()
        except OSError as exc:
            fail(f"cannot read {file}: {exc.strerror or exc}")
        from agent.mail.parse import ParseError, parse

        try:
            parsed = parse(raw)
        except ParseError as exc:
            fail(f"{file}: cannot parse: {exc}", EXIT_FAILURE)
        from agent.inbound.attachment_reading import for_understanding, read_attachments

        # One file by hand: scans are OCRed now rather than left for the daemon's OCR job.
        readings = read_attachments(parsed, _attachment_settings(ctx), ocr=True)
        result = understand(
            for_understanding(parsed, readings), ThreadContext(), rules, review_threshold=thresholds.review,
            closing_threshold=thresholds.closing,
        )
        print(json.dumps(
            {**_full_json(result), "auto": decide(result, thresholds).auto, "attachments": _attachments_json(parsed, readings)},
            ensure_ascii=False, indent=2,
        ))

    @app.command("eval")
    def eval_command(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="Labelled JSON lines (plus gold label, expected_date, tracking_number)."),
    ) -> None:
        """Score the classifier on labelled lines: per-label table, confusion matrix, then a one-line summary."""
        rules, thresholds = _setup(ctx)
        rows = _read_lines(file)
        if not rows:
            fail(f"{file}: no rows")
        missing = [str(r.get("id", i)) for i, r in enumerate(rows) if not r.get("label")]
        if missing:
            fail(f"{file}: rows without a gold label: {', '.join(missing[:5])}")
        results = [understand_row(row, rules, thresholds.review, thresholds.closing) for row in rows]
        report = evaluate(rows, results, thresholds)

        table = Table(title="per label")
        for column in ("label", "precision", "recall", "f1", "support"):
            table.add_column(column, justify="left" if column == "label" else "right")
        for s in report.per_label:
            table.add_row(s.label, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support))
        out.print(table)

        matrix = Table(title="confusion (rows: gold, columns: predicted)")
        matrix.add_column("gold \\ pred")
        short = [label[:8] for label in report.labels]
        for name in short:
            matrix.add_column(name, justify="right")
        for gold in report.labels:
            matrix.add_row(gold, *(str(report.confusion.get((gold, p), 0) or ".") for p in report.labels))
        out.print(matrix)

        bins = Table(title="reliability (confidence bins against accuracy)")
        for column in ("confidence", "count", "mean conf", "accuracy"):
            bins.add_column(column, justify="left" if column == "confidence" else "right")
        for b in report.reliability:
            bins.add_row(f"{b.low:.2f}-{b.high:.2f}", str(b.count), f"{b.mean_confidence:.3f}" if b.count else "-",
                         f"{b.accuracy:.3f}" if b.count else "-")
        out.print(bins)
        out.print(f"expected calibration error {expected_calibration_error(report.reliability):.3f}", highlight=False)
        for row, result in zip(rows, results):
            if corpus_label(result.label) != row.get("label") and result.label != row.get("label"):
                out.print(f"  miss {row.get('id')}: gold={row.get('label')} predicted={result.label} ({result.confidence:.2f})",
                          highlight=False)
        sys.stdout.flush()
        print(report.summary_line())
