"""Who reads a message (parse + understand): in this process, or a worker process held to a budget.

Processing calls these two steps through a Reader so that the budgeted worker (agent.inbound.worker) and the
plain in-process calls are interchangeable; the result is the same either way.
"""

from __future__ import annotations

from typing import Any, Protocol

from agent.mail.parse import parse
from agent.pipeline.correction_memory import CorrectionMemory
from agent.pipeline.stage_data import ParsedMessage, ThreadContext, Understanding
from agent.pipeline.understand import understand


class BudgetExceeded(Exception):
    """Reading one message went over its time or memory budget; the message is quarantined with this reason."""


class Reader(Protocol):
    def parse(self, raw: bytes, *, max_attachment_bytes: int) -> ParsedMessage: ...

    def understand(
        self,
        parsed: ParsedMessage,
        context: ThreadContext,
        rules: Any,
        *,
        review_threshold: float,
        closing_threshold: float,
        corrections: CorrectionMemory | None,
    ) -> Understanding: ...


class InProcessReader:
    """Plain calls, no budget: for commands run by hand and for `[limits] worker = false`."""

    def parse(self, raw: bytes, *, max_attachment_bytes: int) -> ParsedMessage:
        return parse(raw, max_attachment_bytes=max_attachment_bytes)

    def understand(
        self,
        parsed: ParsedMessage,
        context: ThreadContext,
        rules: Any,
        *,
        review_threshold: float,
        closing_threshold: float,
        corrections: CorrectionMemory | None,
    ) -> Understanding:
        return understand(parsed, context, rules, review_threshold=review_threshold,
                          closing_threshold=closing_threshold, corrections=corrections)
