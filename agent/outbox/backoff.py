"""How long a temporary SMTP failure waits before the next try: doubling from a minute, capped at six hours."""

from __future__ import annotations

import datetime as dt

FIRST_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(hours=6)


def retry_delay(attempts: int) -> dt.timedelta:
    """Delay after the `attempts`-th failed try (1 -> 1 min, 2 -> 2 min, 3 -> 4 min, ...)."""
    exponent = max(0, attempts - 1)
    if exponent > 20:  # 2**20 minutes is far past the cap; avoid huge numbers
        return MAX_DELAY
    return min(FIRST_DELAY * (1 << exponent), MAX_DELAY)
