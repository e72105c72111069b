"""Dollar amounts as finite numbers: a figure no agency could mean is refused, never stored as Infinity.

float("999…9") with hundreds of digits is Infinity, which is not JSON and which PostgreSQL refuses; a
figure of more than a billion dollars is a typo or an attack, so it is no fee at all (and is flagged).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Far above any records fee ever charged, far below where a float loses cents.
MAX_AMOUNT = Decimal("1000000000")
# The rule id added to an Understanding whose text names an amount refused here (shown by `agent explain`).
REFUSED_RULE = "extract.fee_amount_refused"
# Any dollar figure, bounded per match; linear (no nested repetition).
_FIGURE = re.compile(r"\$\s?\d[\d,]{0,1000}(?:\.\d{1,2})?")


def dollars(figure: str) -> float | None:
    """'12,345.67' -> 12345.67; None when it is not a number or is over MAX_AMOUNT."""
    try:
        value = Decimal(figure.replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        return None
    return float(value)


def refused(text: str) -> bool:
    """Whether the text names a dollar figure that dollars() refuses (too large to be a fee)."""
    for match in _FIGURE.finditer(text):
        digits = match.group(0).lstrip("$").strip().rstrip(",")
        if digits and dollars(digits) is None:
            return True
    return False
