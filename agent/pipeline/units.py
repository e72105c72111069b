"""Split a body into display units (paragraphs or lines) and fingerprint them with volatile parts masked."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

_URL = re.compile(r"(?:https?://|www\.)\S+|\(\s*https?://[^)]*\)", re.I)
# Bounded repeats: an unbounded run before a required character is quadratic on a long token (base64, "xxxx…").
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+")
_NUMBERISH = re.compile(r"\b[A-Za-z]{0,12}\d[\w/.,:-]*")
_MONTH = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?",
    re.I,
)
_NON_WORD = re.compile(r"[^a-z]+")
# A line ending like a sentence (or a short line) stands alone; a long line without an end was hard-wrapped.
_SENTENCE_END = re.compile(
    r"(?:[.:;!?)\]\"”’|]|\b(?:thank\s+you|thanks|regards|sincerely|best|respectfully|cordially|faithfully),)\s*$", re.I
)
# Portals glue a footer address to the next greeting ("... CA 90210 Dear Joey Scott,").
_GLUED_GREETING = re.compile(r"(?<=\d{5})\s+(?=(?:Dear|Hello|Hi|Greetings|Good (?:morning|afternoon|evening))\b)")
WRAP_MIN_CHARS = 55


@dataclass(frozen=True)
class Unit:
    text: str
    block: int  # units in the same blank-line-separated block are shown on adjacent lines


def split_units(text: str) -> list[Unit]:
    """Blocks split at blank lines; inside a block, lines stand alone unless they look hard-wrapped."""
    units: list[Unit] = []
    text = _GLUED_GREETING.sub("\n", text)
    for block_index, block in enumerate(re.split(r"\n[ \t]*\n+", text)):
        current: list[str] = []
        for line in block.split("\n"):
            stripped = line.strip()
            if not stripped:
                continue
            current.append(stripped)
            if len(stripped) < WRAP_MIN_CHARS or _SENTENCE_END.search(stripped):
                units.append(Unit(" ".join(current), block_index))
                current = []
        if current:
            units.append(Unit(" ".join(current), block_index))
    return units


def masked(text: str) -> str:
    """The unit with links, addresses, numbers, ids, dates and punctuation masked out, lower-cased."""
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _NUMBERISH.sub(" ", text)
    text = _MONTH.sub(" ", text)
    return _NON_WORD.sub(" ", text.lower()).strip()


def word_count(text: str) -> int:
    return len(text.split())


@functools.lru_cache(maxsize=16384)
def fingerprint(text: str) -> str | None:
    """Stable id of a unit's masked text, or None for units too short to recognise as a notice.

    Cached: every reply re-fingerprints its thread's earlier messages and portal notices recur verbatim."""
    shape = masked(text)
    if word_count(shape) < 4:
        return None
    return hashlib.blake2b(shape.encode(), digest_size=8).hexdigest()


@functools.lru_cache(maxsize=64)
def shingles(text: str, size: int = 5) -> frozenset[tuple[str, ...]]:
    """Word 5-grams of the masked text; cached because our own letter is compared with every reply to it."""
    words = masked(text).split()
    return frozenset(tuple(words[i : i + size]) for i in range(max(0, len(words) - size + 1)))
