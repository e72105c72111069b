"""A daily download budget (messages and bytes per UTC day), so a huge mailbox or a flood cannot eat a quota."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class DailyBudget:
    """Counts what was downloaded today; 0 for a limit means no limit. Kept in memory: a restart starts afresh."""

    def __init__(self, max_messages: int = 0, max_bytes: int = 0, *, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._clock = clock
        self._day = clock().date()
        self.messages = 0
        self.bytes = 0
        self._full = False  # a message did not fit: nothing more today

    @property
    def limited(self) -> bool:
        return bool(self.max_messages or self.max_bytes)

    def _roll(self) -> None:
        today = self._clock().date()
        if today != self._day:
            self._day, self.messages, self.bytes, self._full = today, 0, 0, False

    def take(self, sizes: list[int]) -> int:
        """How many of these messages (in order) still fit today; those are counted as downloaded.

        One message larger than the whole byte budget still goes through on a fresh day, so it cannot block forever."""
        self._roll()
        taken = 0
        for size in sizes:
            over_count = self.max_messages and self.messages >= self.max_messages
            over_bytes = self.max_bytes and self.bytes + size > self.max_bytes and (self.bytes or self.messages)
            if over_count or over_bytes:
                self._full = True
                break
            self.messages += 1
            self.bytes += size
            taken += 1
        return taken

    def spent(self) -> bool:
        self._roll()
        if self._full or (self.max_messages and self.messages >= self.max_messages):
            return True
        return bool(self.max_bytes and self.bytes >= self.max_bytes)

    def seconds_to_reset(self) -> float:
        now = self._clock()
        tomorrow = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
        return max((tomorrow - now).total_seconds(), 0.0)
