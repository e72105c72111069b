"""Row ids as a person types them: ASCII digits only, within the range the id columns hold.

`str.isdigit()` is true for `²` and `١٢`, and `int()` reads `١٢` as 12, so neither may decide what an
id is. A number past 2**63 - 1 cannot be bound to SQLite at all (OverflowError), and PostgreSQL refuses
one past 2**31 - 1 for an `integer` column (the type of every primary key here). One parser for every
command that takes an id, so each says the same clear thing.
"""

from __future__ import annotations

import re

# The primary keys are SQLAlchemy Integer: PostgreSQL `integer`, so no row anywhere has a larger id.
MAX_ID = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]+")


class BadId(ValueError):
    """Not a row id: the message says why, in one line."""


def as_id(text: str) -> int | None:
    """The id `text` names, or None when it is not one (so a lookup can try a reference or tracking number)."""
    text = text.strip()
    # Length first: int() of thousands of digits is slow, and refused past 4,300 of them.
    if _ASCII_DIGITS.fullmatch(text) is None or len(text.lstrip("0")) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def parse_id(text: str, what: str = "id") -> int:
    """A row id, or BadId naming what was wrong with it."""
    value = as_id(text)
    if value is not None:
        return value
    shown = text.strip()
    shown = repr(shown if len(shown) <= 40 else shown[:40] + "…")
    if _ASCII_DIGITS.fullmatch(text.strip()):
        raise BadId(f"{what} {shown} is out of range (1 to {MAX_ID})")
    raise BadId(f"{what} {shown} is not a number (digits 0-9 only)")
