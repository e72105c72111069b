"""Each item's answer as the agency wrote it, found in the texts of its final letters and their attachments.

Agencies answer a questionnaire in four ways, read here in this order of trust: item by item under markers
(`1.`, `A1)`, `Item 3:`; often repeating the question first, often with the numbering lost), as rows of a table
in a PDF's text (`A3    Seven`), and in prose that names the item ("In response to question 4, ...").
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from agent.pipeline.items import Block, Item, blocks, shape

NUMBERED, TABLE, PROSE, POSITION = "numbered", "table", "prose", "position"
# The replies that carry a decision: final letters, installments, no-records findings and denials (often partial).
ANSWER_LABELS = ("final_records", "batch", "no_records", "denial")
# Share of the question's words an opening must repeat, in order, to count as the question restated.
REPEAT_SHARE = 0.6
_WORD = re.compile(r"[A-Za-z0-9]+")
_LEAD = " \t\n;:,.)-–—\"'”’"
_ID = r"[A-Z]?\d{1,2}(?![,.]?\d)"  # "12,000" is a figure, not item 12
_PROSE = re.compile(
    rf"(?:\b(?:(?:in\s+)?(?:response|reply|answer)\s+to|regarding|as\s+(?:to|for)|with\s+(?:respect|regard)\s+to|concerning"
    rf"|for|re:?)\s+(?:your\s+)?(?:questions?|items?|requests?|parts?|nos?\.?|numbers?|#)|^[ \t]*(?:questions?|items?))"
    rf"\s*(?:no\.?\s*|number\s*|#\s*)?(?P<first>{_ID})\b(?P<rest>(?:\s*(?:-|–|through|thru|to|,|and|&)\s*{_ID}\b)*)"
    rf"\s*(?:above|below)?\s*[,:.\-–—]?",
    re.IGNORECASE | re.MULTILINE,
)
_TABLE_ROW = re.compile(rf"^[ \t]*(?:\|[ \t]*)?(?P<id>{_ID})\.?(?:[ \t]{{2,}}|\t|[ \t]*\|[ \t]*)(?P<cells>\S.*?)[ \t|]*$", re.MULTILINE)
_CELL_SPLIT = re.compile(r"[ \t]{2,}|\t|[ \t]*\|[ \t]*")
MIN_TABLE_ROWS = 2


@dataclass(frozen=True)
class Found:
    item: str
    answer: str  # as written, on one line
    how: str  # numbered | table | prose | position


def find_answers(items: Sequence[Item], text: str) -> dict[str, Found]:
    """Item id -> its answer in one text; items it does not answer are absent."""
    if not items or not text.strip():
        return {}
    text = text.replace("\r\n", "\n")
    found: dict[str, Found] = {}
    for source in (_from_blocks(items, text), _from_table(items, text), _from_prose(items, text)):
        for item_id, answer in source.items():
            found.setdefault(item_id, answer)
    return found


def _from_blocks(items: Sequence[Item], text: str) -> dict[str, Found]:
    ours = {item.id for item in items}
    marked = _main_blocks(blocks(text), {shape(i) for i in ours})
    ids = [b.id for b in marked]
    ids_usable = len(set(ids)) == len(ids) and bool(set(ids) & ours)
    found: dict[str, Found] = {}
    for position, block in enumerate(marked):
        item, answer = _restated(items, block.text)
        how = NUMBERED
        if item is None:
            if ids_usable and block.id in ours:
                item, answer = next(i for i in items if i.id == block.id), block.text
            elif not ids_usable and position < len(items):
                item, answer, how = items[position], block.text, POSITION
            else:
                continue
        written = _first_paragraph(answer)
        if written and item.id not in found:
            found[item.id] = Found(item.id, written, how)
    return found


def _main_blocks(found: list[Block], our_shapes: set[str]) -> list[Block]:
    """Blocks of the reply's main numbering; a differently marked sub-list ("a.", "b." under "1.") joins its parent."""
    if not found:
        return []
    counts = Counter(shape(b.id) for b in found)
    main = max(counts, key=lambda s: (s in our_shapes, counts[s]))
    merged: list[Block] = []
    for block in found:
        if shape(block.id) == main or not merged:
            merged.append(block)
        else:
            parent = merged[-1]
            merged[-1] = Block(parent.id, f"{parent.text}\n{block.marker} {block.text}", parent.start, parent.marker)
    return [b for b in merged if shape(b.id) == main]


def _restated(items: Sequence[Item], block: str) -> tuple[Item | None, str]:
    """The item whose question the block opens with, and what follows the question; (None, "") if none does."""
    best: tuple[float, Item | None, int] = (0.0, None, 0)
    words = [(m.group().lower(), m.end()) for m in _WORD.finditer(block)]
    for item in items:
        question = [w.lower() for w in _WORD.findall(item.question)]
        if not question:
            continue
        window = [w for w, _ in words[: len(question) + 6]]
        matcher = difflib.SequenceMatcher(None, question, window, autojunk=False)
        runs = [r for r in matcher.get_matching_blocks() if r.size]
        if not runs or runs[0].b > 2:
            continue
        share = sum(r.size for r in runs) / len(question)
        if share >= REPEAT_SHARE and share > best[0]:
            last = runs[-1]
            best = (share, item, words[last.b + last.size - 1][1])
    _, chosen, cut = best
    return (chosen, block[cut:].lstrip(_LEAD)) if chosen is not None else (None, "")


def _first_paragraph(text: str) -> str:
    stripped = text.strip().lstrip(_LEAD)
    return " ".join(stripped.split("\n\n", 1)[0].split())


def _from_table(items: Sequence[Item], text: str) -> dict[str, Found]:
    by_id = {item.id: item for item in items}
    rows = [m for m in _TABLE_ROW.finditer(text) if m.group("id").upper() in by_id]
    if len(rows) < MIN_TABLE_ROWS:
        return {}
    found: dict[str, Found] = {}
    for row in rows:
        item = by_id[row.group("id").upper()]
        cells = [c.strip() for c in _CELL_SPLIT.split(row.group("cells")) if c.strip()]
        answer = cells[-1] if cells else ""  # the answer column comes last, after the question's words
        if answer and item.id not in found:
            found[item.id] = Found(item.id, answer, TABLE)
    return found


def _from_prose(items: Sequence[Item], text: str) -> dict[str, Found]:
    order = [item.id for item in items]
    matches = list(_PROSE.finditer(text))
    found: dict[str, Found] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        paragraph_end = text.find("\n\n", match.end())
        if paragraph_end != -1:
            end = min(end, paragraph_end)
        answer = " ".join(text[match.end():end].split()).lstrip(_LEAD)
        if not answer:
            continue
        for item_id in _named_ids(match.group("first"), match.group("rest"), order):
            found.setdefault(item_id, Found(item_id, answer, PROSE))
    return found


def _named_ids(first: str, rest: str, order: list[str]) -> list[str]:
    """"4", " through 6", order -> ["4", "5", "6"]: ranges follow the letter's own order of items."""
    named = [first.upper()]
    for joiner, item_id in re.findall(rf"\s*(-|–|through|thru|to|,|and|&)\s*({_ID})\b", rest, re.IGNORECASE):
        item_id = item_id.upper()
        if joiner.lower() in ("-", "–", "through", "thru", "to") and named[-1] in order and item_id in order:
            start, stop = order.index(named[-1]), order.index(item_id)
            named.extend(order[start + 1:stop + 1])
        else:
            named.append(item_id)
    return [i for i in dict.fromkeys(named) if i in order]
