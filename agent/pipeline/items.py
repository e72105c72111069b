"""The numbered questions of a letter (`A1.`, `1)`, `(b)`, `Item 3:`): the columns of a campaign's answer matrix.

The same marker grammar cuts an agency's reply into blocks, so a reply that answers item by item is read with the
rules that found the items in our letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A marker at the start of a line: an optional "Item"/"Question"/"No." word, then an id (A1, 3, b) closed by
# `.`, `)` or `:`, or by a dash. Ids are short (at most a letter and two digits), so a year ("2019:") or a
# time ("10:30") is never a marker; whitespace must follow, so "U.S." and "No.5" are not either.
MARKER = re.compile(
    r"^[ \t]*(?:[-•][ \t]*|\*\*)?(?:(?:item|question|request|no\.?|number)[ \t]*)?(?:#[ \t]*)?\(?"
    r"(?P<id>[A-Za-z]?\d{1,2}|[A-Za-z])(?:[.):]|[ \t]+[-–—])(?:\*\*)?(?:[ \t]+(?P<rest>\S[^\n]*))?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
MIN_ITEMS = 2


@dataclass(frozen=True)
class Item:
    id: str  # "A1", "3", "B" (upper case)
    question: str  # the item's text on one line


@dataclass(frozen=True)
class Block:
    """One marked stretch of text: the marker's id and everything up to the next marker (line breaks kept)."""

    id: str
    text: str
    start: int  # offset of the marker line in the text
    marker: str = ""  # the marker as written ("a.", "(3)")


def shape(item_id: str) -> str:
    """"LD" for A1, "D" for 3, "L" for b: lettered sub-items under numbered ones are told apart by it."""
    return ("L" if item_id[0].isalpha() else "") + ("D" if item_id[-1].isdigit() else "")


def blocks(text: str) -> list[Block]:
    """Every marked block of the text, in order."""
    found = list(MARKER.finditer(text))
    out = []
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(text)
        body_start = match.start("rest") if match.group("rest") else match.end()
        marker = text[match.start("id"):body_start].strip()
        out.append(Block(match.group("id").upper(), text[body_start:end].strip("\n"), match.start(), marker))
    return out


def letter_items(text: str) -> tuple[Item, ...]:
    """The items a letter asks, with each question's wrapped lines joined; () when it asks fewer than two.

    An item's text ends at a blank line or at the next marker. Markers that repeat one id throughout (a list
    whose numbering was lost, every line "1.") are renumbered in order."""
    found = []
    for block in blocks(text):
        question = " ".join(line.strip() for line in block.text.split("\n\n", 1)[0].splitlines()).strip()
        if question:
            found.append(Item(block.id, question))
    if len(found) < MIN_ITEMS:
        return ()
    if len({item.id for item in found}) < len(found):
        found = [Item(str(index), item.question) for index, item in enumerate(found, 1)]
    return tuple(found)
