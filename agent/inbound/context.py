"""What processing needs besides the message: settings, rules loaded once, stores, and a clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from agent.config import Settings
from agent.inbound.match_index import AgencyBook, load_agencies
from agent.inbound.reader import Reader
from agent.mail.archive import Archive
from agent.mail.attachments import AttachmentStore
from agent.operators.corrections import template_memory
from agent.pipeline.correction_memory import CorrectionMemory
from agent.pipeline.thread_context import ThreadMemory
from agent.pipeline.tracking import TrackingRules, load_tracking_rules
from agent.pipeline.understand import load_understand_rules


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class InboundContext:
    """Built once per poll pass; `understand_rules` is whatever load_understand_rules() returned (or None)."""

    settings: Settings
    understand_rules: Any = None
    tracking_rules: TrackingRules | None = None
    now: Callable[[], dt.datetime] = utc_now
    # Set by process_rows for a poll pass (dropped after a rolled-back chunk); None: each message reads its own.
    memory: ThreadMemory | None = field(default=None, repr=False)
    _agencies: AgencyBook | None = field(default=None, repr=False)
    _corrections: CorrectionMemory | None = field(default=None, repr=False)
    _archive: Archive | None = field(default=None, repr=False)
    _reader: Reader | None = field(default=None, repr=False)

    @classmethod
    def create(cls, settings: Settings, rules: Any = None, *, now: Callable[[], dt.datetime] | None = None) -> "InboundContext":
        # Callers load the rules once at start and pass them in; a caller that passes none gets them
        # loaded here, once per pass (never per message), rather than silently skipping classification.
        if rules is None:
            rules = load_understand_rules(settings.rules_path)
        # The understanding rules may carry the tracking rules; otherwise read rules/tracking.toml once here.
        tracking = getattr(rules, "tracking", None)
        if not isinstance(tracking, TrackingRules):
            tracking = load_tracking_rules(settings.rules_path)
        return cls(settings=settings, understand_rules=rules, tracking_rules=tracking, now=now or utc_now)

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = Archive(self.settings.archive_path)
        return self._archive

    @property
    def reader(self) -> Reader:
        """Parse + understand, in the budgeted worker unless `[limits] worker = false`."""
        if self._reader is None:
            from agent.inbound.worker import reader_for  # the worker module imports the pipeline: only when read

            self._reader = reader_for(self.settings.limits, self.understand_rules)
        return self._reader

    @property
    def attachments(self) -> AttachmentStore:
        return AttachmentStore(self.settings.attachments.path)

    def forget(self) -> None:
        """Drop what was read from the DB: after a rollback it may describe rows that no longer exist."""
        self._agencies = None
        self._corrections = None
        self.memory = None

    def agencies(self, session: Session) -> AgencyBook:
        """Agencies read once per pass: they change by operator command, not between two messages."""
        if self._agencies is None:
            self._agencies = AgencyBook(load_agencies(session))
        return self._agencies

    def corrections(self, session: Session) -> CorrectionMemory:
        """The operators' corrections, read once per pass: a relabel made in review counts from the next pass."""
        if self._corrections is None:
            self._corrections = template_memory(session, self.settings.corrections)
        return self._corrections
