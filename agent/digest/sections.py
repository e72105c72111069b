"""What a digest holds, section by section: frozen records that build.py fills and the templates read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reply:
    reference: str | None  # None: an orphan, not matched yet
    agency: str
    received: dt.date
    subject: str
    confidence: float | None


@dataclass(frozen=True)
class LabelGroup:
    label: str
    replies: tuple[Reply, ...]


@dataclass(frozen=True)
class Overdue:
    reference: str
    agency: str
    due: dt.date
    days_over: int
    state: str


@dataclass(frozen=True)
class DueSoon:
    reference: str
    agency: str
    due: dt.date
    basis: str  # "statutory", "extended" or "promised"
    state: str


@dataclass(frozen=True)
class Waiting:
    item_id: int
    kind: str
    reference: str | None
    reason: str
    days_waiting: int


@dataclass(frozen=True)
class Received:
    """Records that came for one reply: its attached records (not the agency's letter) and files fetched from its
    links. Portal, sign-in, unsubscribe and tracking links are not records and are not listed."""

    reference: str | None
    agency: str
    received: dt.date
    files: tuple[tuple[str, int], ...]  # attached records: (filename, size in bytes)
    fetched: tuple[tuple[str, int, str], ...] = ()  # fetched from a link: (filename, size in bytes, host)
    # No longer filled; kept so a digest template copied from an older version still renders.
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class CampaignProgress:
    id: int
    name: str
    done: int
    waiting: int
    overdue: int
    needs_us: int
    not_filed: int
    new_answers: int = 0  # agencies whose answers to the letter's items came (or were corrected) this week

    @property
    def total(self) -> int:
        return self.done + self.waiting + self.overdue + self.needs_us + self.not_filed

    def percent(self, part: str) -> float:
        return round(100.0 * getattr(self, part) / self.total, 1) if self.total else 0.0


@dataclass(frozen=True)
class ResponseTime:
    agency: str
    median_days: float
    answered: int  # requests with a first answer
    unanswered: int  # filed, still without one


@dataclass(frozen=True)
class Digest:
    since: dt.date
    until: dt.date  # exclusive: the week is since .. until - 1 day
    replies: tuple[LabelGroup, ...] = ()
    became_overdue: tuple[Overdue, ...] = ()
    still_overdue: int = 0  # overdue before this week and still open
    # The oldest of those, named (oldest due first, at most build.OVERDUE_NAMED); the rest are "and N more".
    long_overdue: tuple[Overdue, ...] = ()
    due_soon: tuple[DueSoon, ...] = ()
    waiting: tuple[Waiting, ...] = ()
    received: tuple[Received, ...] = ()
    campaigns: tuple[CampaignProgress, ...] = ()
    response_times: tuple[ResponseTime, ...] = ()
    notes: tuple[str, ...] = field(default=())
    zone: str = "UTC"  # the desk's zone: the week runs midnight to midnight there, and days are its days

    @property
    def last_day(self) -> dt.date:
        return self.until - dt.timedelta(days=1)

    @property
    def overdue_unnamed(self) -> int:
        """Requests overdue before this week that the digest counts but does not name."""
        return max(0, self.still_overdue - len(self.long_overdue))

    @property
    def reply_count(self) -> int:
        return sum(len(g.replies) for g in self.replies)

    @property
    def empty(self) -> bool:
        return not (self.replies or self.became_overdue or self.still_overdue or self.due_soon or self.waiting
                    or self.received or self.campaigns or self.response_times)

    def headline(self) -> str:
        """One line that says what the week held; an empty week says just that."""
        if self.empty:
            return f"A quiet week ({self.since:%b %d} – {self.last_day:%b %d}): no replies, nothing overdue, nothing due, nothing waiting for you."
        n = self.reply_count
        bits = [f"{n} new repl{'y' if n == 1 else 'ies'}" if n else "no new replies"]
        if self.became_overdue:
            bits.append(f"{len(self.became_overdue)} newly overdue")
        if self.due_soon:
            bits.append(f"{len(self.due_soon)} due this week")
        if self.waiting:
            bits.append(f"{len(self.waiting)} waiting for you")
        return ", ".join(bits)
