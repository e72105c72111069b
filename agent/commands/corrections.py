"""`agent corrections list|export`: the labelled examples operators made in review (they never leave the DB otherwise)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Optional

import typer
from rich import box
from rich.text import Text

from agent.commands._context import app_context, fail, out
from agent.operators.clock import local_time
from agent.operators.screen import FoldingTable
from agent.operators.corrections import CorrectionRow, list_corrections
from agent.operators.vocab import is_label
from agent.pipeline.stage_data import LABELS

corrections_app = typer.Typer(help="Operator corrections: every confirm and relabel made in `agent review`.",
                              no_args_is_help=True)

AgencyOpt = typer.Option(None, "--agency", help="Only agencies whose name contains this.")
LabelOpt = typer.Option(None, "--label", help=f"Only this label ({', '.join(LABELS)}).")
# Agency text may hold escape sequences or control characters: never let them reach the terminal.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")
SNIPPET = 70


def _rows(ctx: typer.Context, agency: str | None, label: str | None, limit: int | None) -> list[CorrectionRow]:
    if label is not None and not is_label(label):
        fail(f"unknown label {label!r} (one of: {', '.join(LABELS)})")
    with app_context(ctx).sessions()() as session:
        return list_corrections(session, agency=agency, label=label, limit=limit)


def _plain(text: str | None, width: int | None = None) -> Text:
    flat = _UNPRINTABLE.sub(" ", text or "").strip()
    if width is not None and len(flat) > width:
        flat = flat[: width - 1] + "…"
    return Text(flat or "—")


@corrections_app.command("list")
def corrections_list(
    ctx: typer.Context,
    agency: Optional[str] = AgencyOpt,
    label: Optional[str] = LabelOpt,
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the newest N."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (full text)."),
) -> None:
    """Newest first: when, who, confirm or relabel, the label before and after, the agency, the text's start."""
    rows = _rows(ctx, agency, label, limit)
    if as_json:
        print(json.dumps([r.as_json() for r in rows], indent=2))
        return
    if not rows:
        out.print("No corrections yet.")
        return
    zone = app_context(ctx).settings().schedule.timezone
    # The text column is a deliberate snippet (the export has it whole); every other cell folds, never cut.
    table = FoldingTable("id", "when", "operator", "action", "label", "was", "agency", "text",
                         keep=("id", "label"), box=box.SIMPLE_HEAD)
    for r in rows:
        was = f"{r.previous_label} ({r.previous_confidence:.2f})" if r.previous_confidence is not None else r.previous_label
        table.add_row(
            str(r.id),
            local_time(r.created_at, zone),
            _plain(r.operator),
            r.action,
            r.label,
            _plain(was),
            _plain(r.agency or r.sender_domain),
            _plain(r.text, SNIPPET),
        )
    out.print(table)


@corrections_app.command("export")
def corrections_export(
    ctx: typer.Context,
    file: Optional[Path] = typer.Argument(None, help="Write JSONL here (default: standard output)."),
    agency: Optional[str] = AgencyOpt,
    label: Optional[str] = LabelOpt,
) -> None:
    """JSONL in the corpus format (id, agency, date, body, label, ...), oldest first: `agent eval` reads it."""
    rows = _rows(ctx, agency, label, None)[::-1]
    lines = "".join(json.dumps(r.as_corpus_line(), ensure_ascii=False) + "\n" for r in rows)
    if file is None:
        sys.stdout.write(lines)
        return
    try:
        file.write_text(lines, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror or exc}", 1)
    out.print(f"{len(rows)} corrections written to {file}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(corrections_app, name="corrections")
