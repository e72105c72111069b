"""Tables for `agent messages` and `agent records`: the rows come from messages_list.py and records.py."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType

from agent.documents import sniff
from agent.operators.clock import local_time
from agent.operators.messages_list import MessageRow
from agent.operators.records import RecordFile, RequestRecords, source_line
from agent.operators.screen import FoldingTable
from agent.operators.terminal import plain


SHORT_TYPES = {
    sniff.PDF: "PDF", sniff.DOCX: "Word (DOCX)", sniff.XLSX: "Excel (XLSX)", sniff.PPTX: "PowerPoint (PPTX)",
    sniff.ODT: "ODT", sniff.ODS: "ODS", sniff.ZIP: "ZIP", sniff.OLE: "old Office file", sniff.PNG: "PNG image",
    sniff.JPEG: "JPEG image", sniff.GIF: "GIF image", sniff.TIFF: "TIFF image", sniff.BMP: "BMP image",
    sniff.HTML: "HTML", sniff.CSV: "CSV", sniff.TEXT: "text", sniff.UNKNOWN: "unknown type",
}


def _table(title: RenderableType, columns: dict[str, bool]) -> FoldingTable:
    """A table in the house's list style; `columns` maps each name to whether it may wrap.

    Identifiers and dates stay whole while the terminal has room for them (a broken id cannot be pasted
    back); free text folds, never crops (agent.operators.screen)."""
    return FoldingTable(
        *columns, keep=[name for name, wraps in columns.items() if not wraps],
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True,
    )


def _add(table: FoldingTable, *cells: Any) -> None:
    # Mail text is printed as written: never rich markup, controls shown as escapes.
    table.add_row(*(plain(c) if isinstance(c, str) else c for c in cells))


def messages_table(rows: list[MessageRow], zone: str) -> FoldingTable:
    # Three columns so 80 are enough: when and what state, whose and which label, then the text that folds.
    table = _table(f"{len(rows)} message{'s' if len(rows) != 1 else ''}", {
        "message": False, "request · label": False, "from · subject": True,
    })
    for r in rows:
        arrow = "→ out" if r.direction == "out" else "← in"
        when = plain(f"#{r.id} {arrow}\n{local_time(r.received_at, zone)}\n{r.status}")
        what = plain(f"{r.request or '— (no request)'}\n{r.label or '—'}")
        if r.confidence is not None:
            what.append(f" {r.confidence:.2f}", style="yellow" if r.confidence < 0.6 else "green")
        if r.review:
            what.append(plain(f"\nreview: {r.review}", style="yellow"))
        facts = [f"expects an answer by {r.expected_date}"] if r.expected_date else []
        if r.tracking_numbers:
            facts.append("tracking " + ", ".join(r.tracking_numbers))
        text = [r.from_addr or "—", r.subject or "(no subject)", r.message_id or "(no Message-ID)", *facts]
        _add(table, when, what, "\n".join(text))
    return table


def records_view(groups: list[RequestRecords], zone: str) -> RenderableType:
    if not groups:
        return plain("No records received yet.")
    parts: list[RenderableType] = []
    for g in groups:
        title = plain(f"{g.reference} — {g.agency}")
        title.append(f"  {g.record_count} record{'s' if g.record_count != 1 else ''}, "
                     f"{g.letter_count} letter{'s' if g.letter_count != 1 else ''}", style="dim")
        if not g.files:
            parts += [title, plain("  nothing received yet", style="dim")]
        else:
            # Name and source fold; the short columns never wrap, so 80 columns keep all of them.
            table = _table(title, {"role": False, "file · type": True, "size": False, "source": True, "when": False})
            for f in g.files:
                pages = f"\n{f.pages} page{'s' if f.pages != 1 else ''}" if f.pages is not None else ""
                _add(table, plain(f.role, style="bold" if f.role == "records" else "dim"),
                     f"{f.name}\n{short_type(f.type)}", _size(f) + pages, source_line(f).replace(" from ", "\nfrom "),
                     local_time(f.received_at, zone).replace(" ", "\n", 1))
            parts.append(table)
        if g.unfetched:
            counts: dict[str, int] = {}
            for link in g.unfetched:
                counts[link.state] = counts.get(link.state, 0) + 1
            summary = ", ".join(f"{state} {n}" for state, n in sorted(counts.items()))
            parts.append(plain(f"  links not fetched: {summary}", style="yellow"))
    return Group(*parts)


def short_type(kind: str) -> str:
    """The few types agencies send, by their everyday names; anything else as its MIME type."""
    return SHORT_TYPES.get(kind, kind)


def _size(f: RecordFile) -> str:
    if f.stored_path is None:
        return f"{_bytes(f.size)} (not stored)"
    return _bytes(f.size)


def _bytes(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} B"
