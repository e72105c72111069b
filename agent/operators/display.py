"""Rich renderables for the operator commands; the data comes from queries/timeline/explain/status, never from here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agent.db.models import Message, Request, ReviewItem
from agent.operators.clock import local_time
from agent.operators.explain import Explanation
from agent.operators.queries import RequestRow, Suggested
from agent.operators.money import money
from agent.operators.screen import FoldingPanel, FoldingTable, Wrapped, label_grid
from agent.operators.terminal import plain
from agent.operators.status import JOB_TITLES, JOBS, KNOWN, Health, age
from agent.operators.timeline import EventEntry, MessageEntry, Thread

STATE_STYLE = {
    "completed": "green",
    "no_records": "green",
    "rejected": "red",
    "withdrawn": "dim",
    "needs_review": "bold yellow",
    "fee_required": "yellow",
    "clarification_needed": "yellow",
    "undeliverable": "bold red",
}


# Characters of a message shown in a review panel; whole letters are in `agent thread`.
REVIEW_TEXT = 4000


def _add(table: Table | FoldingTable, *cells: Any) -> None:
    """Add a row whose strings are printable text, never markup: agency subjects and names may hold "[...]" or ESC."""
    table.add_row(*(plain(c) if isinstance(c, str) else c for c in cells))


def _d(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


def requests_table(rows: list[RequestRow]) -> FoldingTable:
    # No vertical rules: the width goes to the agency names, which are long and many. The reference, state and
    # due date never break while the terminal has room (a broken reference cannot be pasted back); the rest folds.
    table = FoldingTable(
        "reference", "agency", "tracking", "state", "filed", "due", "next action", "last reply",
        keep=("reference", "state", "due"),
        title=f"{len(rows)} request{'s' if len(rows) != 1 else ''}", title_justify="left",
        box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True,
    )
    for r in rows:
        due = plain(_d(r.due))
        if r.days_overdue:
            due.append(f"\n+{r.days_overdue} days", style="bold red")
        _add(table, 
            r.reference,
            r.agency,
            "\n".join(r.tracking_numbers) or "—",
            plain(r.state, style=STATE_STYLE.get(r.state, "")),
            _d(r.filed),
            due,
            plain(f"{_d(r.next_action) if r.next_action else ''}\n{r.next_step}".strip() or "—",
                 style="yellow" if r.next_step.startswith("you:") else ""),
            _d(r.last_reply),
        )
    return table


def thread_view(thread: Thread, *, full: bool, zone: Any) -> RenderableType:
    d = thread.deadlines
    head = label_grid()
    _add(head, "request", f"{thread.reference} — {thread.agency}")
    _add(head, "state", plain(thread.state, style=STATE_STYLE.get(thread.state, "")))
    if thread.subject:
        _add(head, "subject", thread.subject)
    _add(head, "tracking", ", ".join(thread.tracking_numbers) or "—")
    _add(head, "filed", local_time(d.filed, zone))
    dates = f"due {_d(d.due)}"
    if d.extended_due:
        dates += f", extended to {_d(d.extended_due)}"
    if d.promised:
        dates += f", promised {_d(d.promised)}"
    if d.days_overdue:
        dates += f" — {d.days_overdue} days overdue"
    _add(head, "deadlines", dates)
    _add(head, "next action", f"{_d(d.next_action)} (follow-ups sent: {d.followups_sent})")
    parts: list[RenderableType] = [head]
    if full and thread.letter:
        parts.append(Panel(plain(thread.letter), title="our request as filed", title_align="left", border_style="blue"))
    for entry in thread.entries:
        parts.append(_message_panel(entry, zone) if isinstance(entry, MessageEntry) else _event_line(entry, zone))
    return Wrapped(Group(*parts))


def _message_panel(m: MessageEntry, zone: Any) -> FoldingPanel:
    arrow = "→ out" if m.direction == "out" else "← in"
    title = plain(f"#{m.id} {local_time(m.at, zone)} {arrow} {m.from_addr}")
    if m.label:
        title.append(plain(f"  {m.label}", style="bold"))
        if m.confidence is not None:
            title.append(f" {m.confidence:.2f}", style="yellow" if m.confidence < 0.6 else "green")
    if m.kind and m.kind not in ("reply", "ours"):
        title.append(plain(f"  [{m.kind}]", style="magenta"))
    if m.status == "awaiting_ocr":
        title.append(plain("  [awaiting OCR: read once its scan is]", style="yellow"))
    body: list[RenderableType] = []
    if m.subject:
        body.append(plain(m.subject, style="italic"))
    body.append(plain(m.text.strip() or "(no text)"))
    for marker in m.folded:
        body.append(plain(f"··· {marker}", style="dim"))
    for a in m.attachments:
        size = f"{a.size / 1024:.0f} KB" if a.size >= 1024 else f"{a.size} B"
        extra = ", over the size cap (kept in the archive)" if a.oversized else ""
        extra += _reading_note(a.method, a.text_chars, a.error)
        body.append(plain(f"attached: {a.filename} ({a.content_type}, {size}{extra})", style="cyan"))
    for line in _facts_lines(m.facts):
        body.append(plain(line, style="dim cyan"))
    style = "blue" if m.direction == "out" else ("yellow" if m.status in ("review", "orphan") else "white")
    return FoldingPanel(Group(*body), title, title_align="left", border_style=style)


def _reading_note(method: str | None, chars: int, error: str | None) -> str:
    """How the file was read, for the attachment line: the operator sees at once a letter we could not read."""
    if not method:
        return ""
    if method == "failed":
        return f", could not be read: {error or 'unreadable'}"
    if method == "ocr_pending":
        return ", waiting for OCR"
    if method in ("text", "docx", "ocr"):
        return f", read as a letter ({method}, {chars} characters)"
    return f", {method}" + (f": {error}" if error else "")


def _facts_lines(facts: dict[str, Any]) -> list[str]:
    lines = []
    if facts.get("expected_date"):
        lines.append(f"expects an answer by {facts['expected_date']}")
    if facts.get("tracking_numbers"):
        lines.append("tracking " + ", ".join(map(str, facts["tracking_numbers"])))
    lines += _fee_lines(facts)
    lines += [f"link {link}" for link in facts.get("links") or []]
    return lines


def _fee_lines(facts: dict[str, Any]) -> list[str]:
    """Each fee the agency named, as "deposit $45.00"."""
    return [f"{fee.get('kind') or 'fee'} {money(fee.get('amount'), fee.get('currency'))}"
            for fee in facts.get("fees") or [] if isinstance(fee, dict)]


def _event_line(e: EventEntry, zone: Any) -> Text:
    line = plain(f"  • {local_time(e.at, zone)} {e.kind}", style="dim")
    if e.to_state:
        line.append(f" {e.from_state or '∅'} → {e.to_state}", style="bold")
    line.append(plain(f" ({e.cause}{' by ' + e.actor if e.actor else ''})", style="dim"))
    if e.detail.get("text"):
        line.append(plain(f": {e.detail['text']}"))
    return line


def review_table(
    items: list[ReviewItem], requests: dict[int, Request], messages: dict[int, Message], zone: Any = "UTC"
) -> FoldingTable:
    table = FoldingTable("item", "kind", "state", "since", "request", "message", "reason",
                         keep=("item", "state", "request"),
                         title=f"{len(items)} item{'s' if len(items) != 1 else ''} to review", title_justify="left")
    for i in items:
        req = requests.get(i.request_id or -1)
        msg = messages.get(i.message_row_id or -1)
        _add(table, 
            str(i.id),
            i.kind,
            i.state,
            local_time(i.created_at, zone),
            req.reference if req else "—",
            f"#{msg.id} {msg.label or ''} {msg.subject or ''}".strip() if msg else "—",
            i.reason,
        )
    return table


def review_item_view(
    item: ReviewItem,
    request: Request | None,
    message: Message | None,
    position: str,
    ranked: tuple[Suggested, ...],
    zone: Any = "UTC",
) -> RenderableType:
    grid = label_grid()
    _add(grid, "kind", item.kind)
    _add(grid, "why", item.reason or "—")
    _add(grid, "since", local_time(item.created_at, zone))
    _add(grid, "request", f"{request.reference} ({request.state}) — {request.agency.name}" if request else "— (orphan)")
    if message is not None:
        _add(grid, "message", f"#{message.id} from {message.from_addr or '?'}: {message.subject or ''}")
        _add(grid, "dated", local_time(message.sent_date or message.received_at, zone))
        conf = f" {message.confidence:.2f}" if message.confidence is not None else ""
        _add(grid, "label", f"{message.label or '—'}{conf}")
        for line in _fee_lines(message.facts or {}):
            _add(grid, "fee", line)
        text = (message.cleaned_text or "").strip()
        if text:
            # Enough to decide on (a fee letter, a question); a longer letter says where the rest is.
            rest = len(text) - REVIEW_TEXT
            _add(grid, "text", text if rest <= 0 else f"{text[:REVIEW_TEXT]} … ({rest} more characters: "
                                                     f"`agent explain {message.id}` or `agent thread`)")
    options = [str(o) for o in item.suggestions or [] if isinstance(o, str)]
    if options:
        # Escalations offer courses of action; a low-confidence item offers the label it guessed.
        _add(grid, "options", ", ".join(options))
    for rank, s in enumerate(ranked, 1):
        score = f" (score {s.score:g})" if s.score is not None else ""
        _add(grid, "suggest" if rank == 1 else "", f"{rank}. {s.reference}{score} {'; '.join(s.reasons)}".rstrip())
    return Wrapped(Panel(grid, title=f"review item {item.id} ({position})", title_align="left"))


def explanation_view(x: Explanation, zone: Any = "UTC") -> RenderableType:
    grid = label_grid()
    _add(grid, "message", f"#{x.id} {x.message_id or '(no Message-ID)'}")
    _add(grid, "from", x.from_addr or "—")
    if x.sent_date is not None:
        _add(grid, "dated", local_time(x.sent_date, zone))
    _add(grid, "received", local_time(x.received_at, zone))
    _add(grid, "subject", x.subject or "—")
    _add(grid, "status", x.status + (f" — {x.error}" if x.error else ""))
    _add(grid, "kind", x.kind or "—")
    _add(grid, "request", x.request or "— (not matched)")
    conf = f" (confidence {x.confidence:.2f})" if x.confidence is not None else ""
    _add(grid, "label", f"{x.label or '—'}{conf}")
    parts: list[RenderableType] = [grid]
    if x.evidence:
        weights = any(e.weight is not None for e in x.evidence)
        ev = FoldingTable("evidence", "request", *(("weight",) if weights else ()), "detail",
                          keep=("request",), title="why it matched", title_justify="left")
        for e in x.evidence:
            w = (f"{e.weight:.2f}" if e.weight is not None else "",) if weights else ()
            _add(ev, e.kind, e.value, *w, e.note)
        parts.append(ev)
    else:
        parts.append(plain("why it matched: no match evidence recorded", style="dim"))
    if x.rules and not any(r.label or r.weight is not None or r.note or not r.hit for r in x.rules):
        parts.append(plain("why this label: rules " + ", ".join(r.rule for r in x.rules) + " fired"))
    elif x.rules:
        misses = any(not r.hit for r in x.rules)
        rules = FoldingTable("rule", *(("fired",) if misses else ()), "argues for", "weight", "matcher / note",
                             title="why this label", title_justify="left")
        totals: dict[str, float] = {}
        for r in x.rules:
            if r.hit and r.label and r.weight is not None:
                totals[r.label] = totals.get(r.label, 0.0) + r.weight
            fired = ("yes" if r.hit else "no",) if misses else ()
            _add(rules, r.rule, *fired, r.label or "", f"{r.weight:g}" if r.weight is not None else "", r.note)
        parts.append(rules)
        if totals:
            summary = ", ".join(f"{label} {total:g}" for label, total in sorted(totals.items(), key=lambda kv: -kv[1]))
            parts.append(plain(f"summed weight: {summary}", style="dim"))
    else:
        parts.append(plain("why this label: no rule hits recorded", style="dim"))
    facts = _facts_lines(x.facts)
    if x.facts.get("records_attached"):
        facts.append("records attached")
    for fee in x.facts.get("fees") or []:
        if isinstance(fee, dict) and fee.get("text"):
            facts.append(f"  “{fee['text']}”")
    if facts:
        parts.append(Panel(plain("\n".join(facts)), title="facts", title_align="left"))
    for line in x.folded:
        parts.append(plain(f"··· {line}", style="dim"))
    for line in x.review:
        parts.append(plain(f"review {line}", style="yellow"))
    for when, line in zip(x.event_times, x.events):
        parts.append(plain(f"event {local_time(when, zone) + ' ' if when else ''}{line}", style="dim"))
    return Wrapped(Group(*parts))


def health_view(h: Health, zone: Any = "UTC") -> RenderableType:
    grid = label_grid()
    now = h.checked_at
    daemon = h.published.get("daemon")
    if daemon:
        state = str(daemon.get("state", "?"))
        colour = "green" if state == "running" else "yellow"
        where = f" pid {daemon['pid']}" if daemon.get("pid") else ""
        worker = f" ({daemon['worker']})" if daemon.get("worker") else ""
        _add(grid, "daemon", Text.assemble(plain(state, colour), plain(f"{where}{worker}")))
    if h.last_heard:
        _add(grid, "last heard", f"{local_time(h.last_heard, zone, seconds=True)} ({age(h.last_heard, now)})")
    for job in JOBS:
        value = h.published.get(job)
        if not value:
            continue
        when = age(value.get("at"), now) or "?"
        if value.get("ok") is False:
            line: str | Text = Text.assemble(("failed", "red"), plain(f" {when}: {value.get('error', '')}"))
        else:
            counts = {k: v for k, v in value.items() if k not in ("at", "ok", "worker", "seconds")}
            line = f"{when}" + (f" — {_short(counts)}" if counts else "")
        _add(grid, JOB_TITLES[job], line)
    outbox = ", ".join(f"{k} {v}" for k, v in sorted(h.outbox.items())) or "empty"
    _add(grid, "outbox", outbox)
    _add(grid, "review", f"{h.review_open} open, {h.orphans} orphans, {h.quarantined} quarantined")
    if h.awaiting_ocr:
        _add(grid, "awaiting OCR", f"{h.awaiting_ocr} replies (read once the OCR job has their attached scans)")
    errors = h.published.get("errors")
    if errors and errors.get("count"):
        _add(grid, "errors", Text.assemble(plain(errors["count"], "red"), " in all"))
        for item in (errors.get("items") or [])[:3]:
            if isinstance(item, dict):
                _add(grid, "", f"{age(item.get('at'), now) or '?'} {item.get('job', '')}: {item.get('error', '')}")
    for job, when in sorted((h.published.get("next_jobs") or {}).items()):
        _add(grid, "next " + str(job), f"{age(when, now) or '—'}")
    for name, value in h.published.items():
        if name not in KNOWN:
            _add(grid, name, _short(value))
    if h.status_file_error:
        _add(grid, "status file", plain(h.status_file_error, style="red"))
    parts: list[RenderableType] = [grid]
    parts += [plain(n, style="yellow") for n in h.notes]
    return Wrapped(Group(*parts))


def _short(value: Any) -> str:
    # Published values are small dicts; show "key=value" pairs, with timestamps as ages where possible.
    if isinstance(value, dict):
        return ", ".join(f"{k}={_short(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return "; ".join(_short(v) for v in value) or "—"
    return str(value)
