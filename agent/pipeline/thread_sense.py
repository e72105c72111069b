"""Thread sense: what the request's earlier replies and state say about how to read the new one.

An agency that announced rolling production and now sends "here are the records" has sent an installment
unless it says this one completes the request; a "do you still want these records?" sent to a request that
has been waiting is a question the requester must answer, whatever else the note says.
"""

from __future__ import annotations

import re

from agent.pipeline.classify import Decision
from agent.pipeline.stage_data import ThreadContext

_ROLLING = re.compile(
    r"\b(?:rolling\s+(?:basis|production|release)|in\s+(?:installments|batches|phases|stages|tranches)|"
    r"(?:first|next|second|third)\s+(?:installment|batch|production|release|set)|interim\s+(?:release|response)s?|"
    r"partial\s+(?:release|response|production))\b",
    re.I,
)
_COMPLETES = re.compile(
    r"\b(?:final|last|remaining|complete[sd]?|completion|concludes?|closes?|closing|closed|fulfilled|"
    r"no\s+(?:further|additional|more)\s+records)\b",
    re.I,
)
_STILL_INTERESTED = re.compile(
    r"\b(?:still\s+(?:interested|want|wish|need|require|desire)|(?:wish|want)\s+(?:us\s+)?to\s+(?:continue|proceed|pursue)|"
    r"(?:will|may)\s+(?:be\s+)?(?:close|closed|administratively\s+closed)\s+(?:your|this|the)\s+request|"
    r"(?:close|closing)\s+(?:your|this|the)\s+request\s+(?:if|unless))\b",
    re.I,
)
_WAITING = frozenset({"sent", "acknowledged", "extended", "partial", "fee_required", "clarification_needed"})


def adjust(decision: Decision, text: str, context: ThreadContext) -> Decision:
    """The decision, relabelled where the thread says how to read it; the rule that did it is recorded."""
    rolling = any(_ROLLING.search(t) for t in context.earlier_texts)
    if decision.label == "final_records" and rolling and not _COMPLETES.search(text):
        return Decision("batch", decision.confidence, decision.rules + ("thread.rolling_production",), decision.scores)
    waiting = context.request_state in _WAITING or bool(context.earlier_texts)
    if decision.label in {"acknowledgment", "other", "extension"} and waiting and _STILL_INTERESTED.search(text):
        confidence = min(decision.confidence, 0.7)
        return Decision("clarification", confidence, decision.rules + ("thread.still_interested",), decision.scores)
    return decision
