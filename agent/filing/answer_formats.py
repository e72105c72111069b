"""A campaign's answer matrix as CSV (one row per agency and item), JSON, and one self-contained HTML table."""

from __future__ import annotations

import csv
import html
import io
import json
from typing import Any

from agent.filing.answers import Cell, Matrix

CSV_HEADER = ("agency", "item", "answer", "value", "message_id")
NOT_ANSWERED = "not answered"


def to_csv(matrix: Matrix) -> str:
    """The contract: header `agency,item,answer,value,message_id`; `answer` empty when not answered."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for cell in matrix.cells:
        writer.writerow((cell.agency, cell.item, cell.answer or "", cell.value.as_text() if cell.value else "",
                         cell.message_id or ""))
    return buffer.getvalue()


def cell_dict(cell: Cell) -> dict[str, Any]:
    return {
        "agency": cell.agency,
        "reference": cell.reference,
        "item": cell.item,
        "question": cell.question,
        "answered": cell.answer is not None,
        "asked": cell.asked,
        "answer": cell.answer,
        "kind": cell.value.kind if cell.value else None,
        "value": cell.value.as_json() if cell.value else None,
        "message_id": cell.message_id,
        "message": cell.message_row,
        "how": cell.how or None,
        "set_by": cell.set_by,
    }


def to_json(matrix: Matrix) -> str:
    return json.dumps({
        "campaign_id": matrix.campaign_id,
        "name": matrix.name,
        "items": [{"item": i.id, "question": i.question} for i in matrix.items],
        "answered": matrix.answered,
        "asked": matrix.asked,
        "cells": [cell_dict(c) for c in matrix.cells],
    }, indent=2, ensure_ascii=False)


def by_agency(matrix: Matrix) -> list[tuple[str, list[Cell]]]:
    """The cells grouped per agency, in the matrix's order (rows of the agency × item table)."""
    rows: dict[str, list[Cell]] = {}
    for cell in matrix.cells:
        rows.setdefault(cell.agency, []).append(cell)
    return list(rows.items())


def to_html(matrix: Matrix) -> str:
    """Agencies down, items across, the question in each column's title; every agency word is escaped."""
    e = html.escape
    head = "".join(f'<th title="{e(i.question)}">{e(i.id)}</th>' for i in matrix.items)
    body = []
    for agency, cells in by_agency(matrix):
        tds = "".join(_html_cell(c) for c in cells)
        body.append(f"<tr><th scope=\"row\">{e(agency)}</th>{tds}</tr>")
    legend = "".join(f"<li><b>{e(i.id)}</b> {e(i.question)}</li>" for i in matrix.items)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Campaign {matrix.campaign_id}: {e(matrix.name)} — answers</title>"
        "<style>body{font-family:sans-serif;font-size:14px}table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}"
        "td.none{color:#999}td.hand{background:#fff8e1}small{color:#666}</style></head><body>\n"
        f"<h1>Campaign {matrix.campaign_id}: {e(matrix.name)}</h1>\n"
        f"<p>{matrix.answered} of {matrix.asked} answers found.</p>\n"
        f"<table><thead><tr><th>agency</th>{head}</tr></thead><tbody>\n" + "\n".join(body)
        + f"\n</tbody></table>\n<ol style=\"list-style:none;padding:0\">{legend}</ol>\n</body></html>\n"
    )


def _html_cell(cell: Cell) -> str:
    e = html.escape
    if not cell.asked:
        return '<td class="none">not asked</td>'
    if cell.answer is None:
        return f'<td class="none">{NOT_ANSWERED}</td>'
    value = cell.value.as_text() if cell.value else ""
    extra = f"<br><small>= {e(value)}</small>" if value and value != cell.answer.rstrip(".") else ""
    if cell.set_by:
        return f'<td class="hand">{e(cell.answer)}{extra}<br><small>set by hand by {e(cell.set_by)}</small></td>'
    source = f' title="{e(cell.message_id)}"' if cell.message_id else ""
    return f"<td{source}>{e(cell.answer)}{extra}</td>"
